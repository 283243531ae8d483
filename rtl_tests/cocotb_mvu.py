"""cocotb tests for hwgen_mvu: vectors through stalls against hwgen.reference.kernels.matvec,
and measured cycles against hwgen.cores."""
import cocotb
import numpy as np

from hwgen.reference.kernels import matvec
from hwgen.cores import mvu_cycles, mvu_latency
from hwgen.types import IntType
from rtl_tests.cocotb_streams import (StreamTB, check_in_order, load_case, pack, record,
                                     run_stream, unpack)


class MvuTB(StreamTB):
    """hwgen_mvu with its case: parameters read back from the DUT, weights and input type."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        for name in ("ROWS", "COLS", "PE", "SIMD", "IN_W", "ACC_W"):
            assert int(getattr(dut, name).value) == case[name.lower()], f"{name} differs from case"
        self.case = case
        self.weights = np.array(case["weights"], dtype=np.int64)
        self.x_type = IntType(case["in_w"], case["in_signed"])
        self.shape = (case["rows"], case["cols"], case["pe"], case["simd"])
        self.reg_every = case["reg_every"]
        self.slices = case["slices"]  # partial products per product (hwgen.cores.mul_slices)

    def vectors(self, count: int) -> list[list[int]]:
        """Return count input vectors: all-min and all-max first, then random codes."""
        cols, t = self.case["cols"], self.x_type
        edge = [[t.min] * cols, [t.max] * cols]
        rand = [[self.rng.randint(t.min, t.max) for _ in range(cols)] for _ in range(count)]
        return edge + rand

    async def run(self, vectors, idle: float, backpressure: float):
        """Stream vectors through the DUT; return (source, sink, results as signed rows)."""
        c = self.case
        source, sink = await run_stream(self, [pack(v, c["in_w"]) for v in vectors], len(vectors),
                                        idle, backpressure,
                                        4 * mvu_latency(*self.shape, self.reg_every, self.slices) + 8)
        results = [unpack(bits, c["acc_w"], c["rows"], signed=True) for bits in sink.items]
        return source, sink, results

    def expected(self, vectors) -> list[list[int]]:
        """Return the reference results, one list of row sums per vector."""
        return matvec(self.weights, np.array(vectors, dtype=np.int64)).tolist()


@cocotb.test()
async def vectors_through_stalls(dut):
    """Random idle input cycles and random backpressure: every result in order, with ==."""
    tb = MvuTB(dut)
    await tb.start()
    vectors = tb.vectors(tb.case["vectors"])
    _, _, results = await tb.run(vectors, idle=0.3, backpressure=0.4)
    check_in_order(results, tb.expected(vectors), tb.seed)


@cocotb.test()
async def cycles_match_model(dut):
    """Without stalls: vector interval and latency equal hwgen.cores and the core's own."""
    tb = MvuTB(dut)
    await tb.start()
    per_vector, latency = mvu_cycles(*tb.shape), mvu_latency(*tb.shape, tb.reg_every, tb.slices)
    assert int(dut.CYCLES_PER_VECTOR.value) == per_vector
    assert int(dut.LATENCY.value) == latency
    vectors = tb.vectors(6)
    source, sink, results = await tb.run(vectors, idle=0.0, backpressure=0.0)
    check_in_order(results, tb.expected(vectors), tb.seed)
    intervals = np.diff(sink.cycles).tolist()
    latencies = np.subtract(sink.cycles, source.sent_cycles).tolist()
    record({"intervals": intervals, "latencies": latencies})
    assert intervals == [per_vector] * (len(vectors) - 1), f"cycles per vector {intervals}"
    assert latencies == [latency] * len(vectors), f"latencies {latencies}"
