"""cocotb tests for hwgen_pick_last: only each sequence's last element comes out (tlast set),
whatever the input's idle cycles and the output's stalls."""
from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles

from rtl_tests.cocotb_streams import (AxisSink, AxisSource, AxisTB, check_in_order, frames,
                                      load_case, random_sequences, run_axis)

TIMEOUT_US = 200  # a core that stops accepting input fails instead of hanging


class PickLastTB(AxisTB):
    """hwgen_pick_last with its case: width and sequences."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        assert int(dut.W.value) == case["w"], "W differs from case"
        self.case = case

    def sequences(self, count: int) -> list[list[int]]:
        """Return count sequences of random lengths, after two of length 1."""
        lengths = [1, 1] + [self.rng.randint(1, self.case["max_len"]) for _ in range(count)]
        return random_sequences(self.rng, lengths, self.case["w"])

    async def check(self, seqs, idle: float, backpressure: float):
        """Send seqs; assert the output == their last elements, each with tlast."""
        want = [(seq[-1], 1) for seq in seqs]
        sources, sinks = await run_axis(self, {"s": frames(seqs)}, {"m": len(want)}, idle,
                                        backpressure)
        check_in_order(sinks["m"].items, want, self.seed)
        return sources, sinks


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_through_stalls(dut):
    """Idle input and output backpressure at random, then an output that mostly stalls."""
    tb = PickLastTB(dut)
    await tb.start()
    await tb.check(tb.sequences(tb.case["sequences"]), 0.3, 0.4)
    await tb.check(tb.sequences(tb.case["sequences"] // 2), 0.0, 0.8)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: one input element per cycle; a last element leaves LATENCY = 1 cycle after."""
    tb = PickLastTB(dut)
    await tb.start()
    latency = int(dut.LATENCY.value)
    assert latency == 1
    seqs = tb.sequences(10)
    sources, sinks = await tb.check(seqs, 0.0, 0.0)
    sent = sources["s"].sent_cycles
    assert sent == list(range(sent[0], sent[0] + len(sent))), f"input pauses: {sent}"
    last = [sent[e - 1] for e in [sum(map(len, seqs[:n + 1])) for n in range(len(seqs))]]
    assert sinks["m"].cycles == [c + latency for c in last], f"seed {tb.seed}: output cycles"


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def drops_while_output_stalls(dut):
    """With a last element waiting in the output, the next sequence's other elements are still
    taken one per cycle; its last element waits for the output."""
    tb = PickLastTB(dut)
    await tb.start()
    seqs = [[5], list(range(20, 27))]
    sink, source = AxisSink(tb, "m", backpressure=1.0), AxisSource(tb, "s", idle=0.0)
    cocotb.start_soon(sink.run())
    sending = cocotb.start_soon(source.send(frames(seqs)))
    await ClockCycles(dut.clk, 20)
    sent = source.sent_cycles
    assert len(sent) == 7 and sent == list(range(sent[0], sent[0] + 7)), f"taken at {sent}"
    sink.backpressure = 0.0
    await sending
    await ClockCycles(dut.clk, 4)
    check_in_order(sink.items, [(5, 1), (26, 1)], tb.seed)
