"""cocotb tests for hwgen_embed: each token id comes out as its table row (tlast with it), in
order, whatever the input's idle cycles and the output's stalls; LATENCY and PERIOD as published."""
from __future__ import annotations

import cocotb

from rtl_tests.cocotb_streams import AxisTB, check_in_order, load_case, run_axis

TIMEOUT_US = 200  # a core that stops accepting input fails instead of hanging


class EmbedTB(AxisTB):
    """hwgen_embed with its case: the table (one packed row per token) and the seed."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        assert int(dut.VOCAB.value) == len(case["rows"]), "VOCAB differs from case"
        self.case = case

    def tokens(self, count: int) -> list[tuple[int, int]]:
        """Return count (token id, tlast) items, ids at random, tlast at random (1 in 4)."""
        vocab = len(self.case["rows"])
        return [(self.rng.randrange(vocab), int(self.rng.random() < 0.25)) for _ in range(count)]

    async def check(self, items, idle: float, backpressure: float):
        """Send items; assert every output is its token's row, with the token's tlast."""
        want = [(self.case["rows"][t], last) for t, last in items]
        sources, sinks = await run_axis(self, {"s": items}, {"m": len(want)}, idle, backpressure)
        check_in_order(sinks["m"].items, want, self.seed)
        return sources, sinks


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def tokens_through_stalls(dut):
    """Idle input and output backpressure at random, then an output that mostly stalls."""
    tb = EmbedTB(dut)
    await tb.start()
    await tb.check(tb.tokens(300), 0.3, 0.4)
    await tb.check(tb.tokens(100), 0.0, 0.8)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: a row leaves LATENCY = 1 cycle after its token; tokens every PERIOD = 2."""
    tb = EmbedTB(dut)
    await tb.start()
    latency, period = int(dut.LATENCY.value), int(dut.PERIOD.value)
    assert (latency, period) == (1, 2)
    sources, sinks = await tb.check(tb.tokens(20), 0.0, 0.0)
    sent = sources["s"].sent_cycles
    assert sent == list(range(sent[0], sent[0] + period * len(sent), period)), f"taken at {sent}"
    assert sinks["m"].cycles == [c + latency for c in sent], f"seed {tb.seed}: output cycles"
