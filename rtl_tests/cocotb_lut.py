"""cocotb tests for hwgen_lut: codes through stalls against hwgen.reference.kernels.lut."""
import cocotb
import numpy as np

from hwgen.reference.kernels import lut
from hwgen.cores import LUT_LATENCY
from hwgen.types import IntType
from rtl_tests.cocotb_streams import StreamTB, check_in_order, load_case, run_stream, unpack


class LutTB(StreamTB):
    """hwgen_lut with its case: index type, table and output signedness."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        self.case = case
        self.index_type = IntType(case["in_w"], case["in_signed"], 0, case["in_narrow"])
        assert int(dut.DEPTH.value) == self.index_type.levels == len(case["table"])

    def codes(self, count: int) -> list[int]:
        """Return every index code once in order, then count random ones."""
        t = self.index_type
        rand = [self.rng.randint(t.min, t.max) for _ in range(count)]
        return list(range(t.min, t.max + 1)) + rand

    async def run(self, codes, idle: float, backpressure: float):
        """Stream codes through the DUT; return (source, sink, outputs as integers)."""
        mask = (1 << self.case["in_w"]) - 1
        source, sink = await run_stream(self, [c & mask for c in codes], len(codes), idle,
                                        backpressure, drain_cycles=8)
        out = [unpack(v, self.case["out_w"], 1, self.case["out_signed"])[0] for v in sink.items]
        return source, sink, out

    def expected(self, codes) -> list[int]:
        """Return the reference outputs."""
        return lut(self.case["table"], self.index_type, codes).tolist()


@cocotb.test()
async def codes_through_stalls(dut):
    """Random idle input cycles and random backpressure: every output in order, with ==."""
    tb = LutTB(dut)
    await tb.start()
    codes = tb.codes(tb.case["codes"])
    _, _, out = await tb.run(codes, idle=0.3, backpressure=0.4)
    check_in_order(out, tb.expected(codes), tb.seed)


@cocotb.test()
async def one_code_per_cycle(dut):
    """Without stalls: one output per cycle, LUT_LATENCY cycles after its input."""
    tb = LutTB(dut)
    await tb.start()
    codes = tb.codes(8)
    source, sink, out = await tb.run(codes, idle=0.0, backpressure=0.0)
    check_in_order(out, tb.expected(codes), tb.seed)
    assert np.diff(sink.cycles).tolist() == [1] * (len(codes) - 1)
    assert np.subtract(sink.cycles, source.sent_cycles).tolist() == [LUT_LATENCY] * len(codes)
