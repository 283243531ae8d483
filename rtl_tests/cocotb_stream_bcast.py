"""cocotb tests for hwgen_stream_bcast: every element reaches both outputs exactly once, whatever
each output's stalls, and the input is consumed when the second output takes it."""
from __future__ import annotations

import cocotb

from rtl_tests.cocotb_streams import (AxisTB, check_in_order, frames, load_case, random_sequences,
                                      run_axis)

TIMEOUT_US = 200  # a broadcast that stops accepting input fails instead of hanging
OUTPUTS = ("ma", "mb")


class BcastTB(AxisTB):
    """hwgen_stream_bcast with its case: width and sequences."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"], sources=("s",), sinks=OUTPUTS)
        assert int(dut.W.value) == case["w"], "W differs from case"
        self.case = case

    def items(self, count: int) -> list[tuple[int, int]]:
        """Return the (data, last) items of count sequences of random lengths."""
        lengths = [1, 1] + [self.rng.randint(1, self.case["max_len"]) for _ in range(count)]
        return frames(random_sequences(self.rng, lengths, self.case["w"]))

    async def check(self, items, idle: float, backpressure: dict):
        """Send items; assert both outputs == items and that each input transfer happens on the
        edge the later output takes it."""
        sources, sinks = await run_axis(self, {"s": items}, {p: len(items) for p in OUTPUTS},
                                        idle, backpressure)
        for p in OUTPUTS:
            check_in_order(sinks[p].items, items, self.seed)
        later = [max(a, b) for a, b in zip(sinks["ma"].cycles, sinks["mb"].cycles)]
        assert sources["s"].sent_cycles == later, f"seed {self.seed}: input consumed early or late"


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_through_stalls(dut):
    """Idle input and independent backpressure on each output at random."""
    tb = BcastTB(dut)
    await tb.start()
    await tb.check(tb.items(tb.case["sequences"]), 0.3, {"ma": 0.4, "mb": 0.4})


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def one_slow_output(dut):
    """One output stalls most cycles while the other never does, then the other way round."""
    tb = BcastTB(dut)
    await tb.start()
    count = tb.case["sequences"] // 2
    await tb.check(tb.items(count), 0.1, {"ma": 0.8, "mb": 0.0})
    await tb.check(tb.items(count), 0.1, {"ma": 0.0, "mb": 0.8})


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: both outputs take each element in the cycle it arrives (LATENCY = 0)."""
    tb = BcastTB(dut)
    await tb.start()
    assert int(dut.LATENCY.value) == 0
    items = tb.items(10)
    sources, sinks = await run_axis(tb, {"s": items}, {p: len(items) for p in OUTPUTS}, 0.0, 0.0)
    sent = sources["s"].sent_cycles
    assert sent == list(range(sent[0], sent[0] + len(items))), f"input pauses: {sent}"
    for p in OUTPUTS:
        check_in_order(sinks[p].items, items, tb.seed)
        assert sinks[p].cycles == sent, f"seed {tb.seed}: {p} lags the input"
