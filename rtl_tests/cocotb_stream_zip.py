"""cocotb tests for hwgen_stream_zip: output element k == {b[k], a[k]} with a's tlast, whatever
each input's idle cycles and the output's stalls."""
from __future__ import annotations

import cocotb

from rtl_tests.cocotb_streams import AxisTB, check_in_order, frames, load_case, run_axis

TIMEOUT_US = 200  # a zip that stops accepting input fails instead of hanging


class ZipTB(AxisTB):
    """hwgen_stream_zip with its case: widths and sequences."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"], sources=("sa", "sb"), sinks=("m",))
        assert (int(dut.WA.value), int(dut.WB.value)) == (case["wa"], case["wb"]), "widths differ"
        self.case = case

    def pairs(self, count: int) -> tuple[list, list]:
        """Return the (data, last) items of a and of b: count sequence pairs of equal lengths."""
        lengths = [1, 1] + [self.rng.randint(1, self.case["max_len"]) for _ in range(count)]
        a = [[self.rng.getrandbits(self.case["wa"]) for _ in range(n)] for n in lengths]
        b = [[self.rng.getrandbits(self.case["wb"]) for _ in range(n)] for n in lengths]
        return frames(a), frames(b)

    def expected(self, a, b) -> list[tuple[int, int]]:
        """Return the zipped items: {b, a} with a's tlast."""
        return [((db << self.case["wa"]) | da, last) for (da, last), (db, _) in zip(a, b)]

    async def check(self, a, b, idle, backpressure: float):
        """Send a and b; assert the output == expected(a, b) and both inputs move together."""
        want = self.expected(a, b)
        sources, sinks = await run_axis(self, {"sa": a, "sb": b}, {"m": len(want)}, idle,
                                        backpressure)
        check_in_order(sinks["m"].items, want, self.seed)
        assert sources["sa"].sent_cycles == sources["sb"].sent_cycles, (
            f"seed {self.seed}: a and b consumed at different times")
        return sources, sinks


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_through_stalls(dut):
    """Idle cycles on each input and backpressure on the output at random."""
    tb = ZipTB(dut)
    await tb.start()
    await tb.check(*tb.pairs(tb.case["sequences"]), 0.3, 0.4)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def one_slow_input(dut):
    """One input idles most cycles while the other never does, then the other way round."""
    tb = ZipTB(dut)
    await tb.start()
    count = tb.case["sequences"] // 2
    await tb.check(*tb.pairs(count), {"sa": 0.8, "sb": 0.0}, 0.2)
    await tb.check(*tb.pairs(count), {"sa": 0.0, "sb": 0.8}, 0.2)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def b_tlast_ignored(dut):
    """m_tlast follows a's tlast only: b's tlast is the opposite on every element."""
    tb = ZipTB(dut)
    await tb.start()
    a, b = tb.pairs(tb.case["sequences"] // 4)
    await tb.check(a, [(d, 1 - last) for d, last in b], 0.2, 0.3)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: one pair per cycle, each leaving LATENCY = 1 cycle after it arrived."""
    tb = ZipTB(dut)
    await tb.start()
    latency = int(dut.LATENCY.value)
    assert latency == 1
    sources, sinks = await tb.check(*tb.pairs(10), 0.0, 0.0)
    sent, got = sources["sa"].sent_cycles, sinks["m"].cycles
    assert sent == list(range(sent[0], sent[0] + len(sent))), f"input pauses: {sent}"
    assert got == [c + latency for c in sent], f"seed {tb.seed}: output cycles {got}"
