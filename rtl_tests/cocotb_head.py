"""cocotb tests for hwgen_head: vectors through stalls against hwgen.ir.graph.execute_head
(kernels.matvec, then kernels.argmax_first), and its latency measured against the core's LATENCY
(the pytest side compares the measured cycles with the model, hwgen.cores.head_latency)."""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hwgen.reference.kernels import argmax_first, as_int, matvec
from hwgen.types import IntType
from rtl_tests.cocotb_streams import (StreamSink, StreamSource, StreamTB, check_in_order,
                                      load_case, pack, record, unpack)

TIMEOUT_US = 200  # a head that stops accepting input fails instead of hanging (~20 us per test)


class HeadSink(StreamSink):
    """A StreamSink on the head's output: an item is (scores bits, class_idx)."""

    async def run(self):
        """Collect items forever (the test ends this task); stalled outputs must hold."""
        dut, stalled = self.tb.dut, None
        while True:
            await RisingEdge(dut.clk)
            dut.out_ready.value = int(self.tb.rng.random() >= self.backpressure)
            await ReadOnly()
            valid = bool(dut.out_valid.value)
            data = (dut.scores.value.to_unsigned(), dut.class_idx.value.to_unsigned()) if valid \
                else None
            if stalled is not None:
                assert valid and data == stalled, (
                    f"seed {self.tb.seed}: output dropped or changed while stalled "
                    f"at cycle {self.tb.cycle()}")
            stalled = None
            if valid and dut.out_ready.value:
                self.items.append(data)
                self.cycles.append(self.tb.cycle())
            elif valid:
                stalled = data


class HeadTB(StreamTB):
    """hwgen_head with its case: weights, bias, shift and input type."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        for name in ("C", "H", "ACC_W", "MV_SHIFT", "SCORE_W", "CLASS_W"):
            assert int(getattr(dut, name).value) == case[name.lower()], f"{name} differs from case"
        self.case = case
        self.x_type = IntType(case["in_w"], case["in_signed"])

    def vectors(self, count: int) -> list[list[int]]:
        """Return all-zero, all-min and all-max vectors, then count random ones."""
        t, h = self.x_type, self.case["h"]
        rand = [[self.rng.randint(t.min, t.max) for _ in range(h)] for _ in range(count)]
        return [[0] * h, [t.min] * h, [t.max] * h] + rand

    async def run(self, vectors, idle: float, backpressure: float):
        """Stream vectors through the head; return (source, sink, [(vector, scores, class)])."""
        c = self.case
        source, sink = StreamSource(self, idle), HeadSink(self, backpressure)
        cocotb.start_soon(sink.run())
        await source.send([pack(v, c["in_w"]) for v in vectors])
        for _ in range(100 * len(vectors)):
            if len(sink.items) >= len(vectors):
                break
            await RisingEdge(self.dut.clk)
        await ClockCycles(self.dut.clk, 8)  # anything extra (a duplicate) arrives by now
        # Each result is shown beside the vector sent in its place, for failure messages.
        results = [(vectors[n] if n < len(vectors) else None,
                    unpack(s, c["score_w"], c["c"], signed=True), k)
                   for n, (s, k) in enumerate(sink.items)]
        return source, sink, results

    def expected(self, vectors) -> list[tuple]:
        """Return hwgen.ir.graph.execute_head's (vector, scores, class) for every vector."""
        c = self.case
        scores = (matvec(c["weights"], as_int(vectors)) << c["mv_shift"]) + as_int(c["bias"])
        return list(zip(vectors, scores.tolist(), argmax_first(scores).tolist()))


def ties(results) -> int:
    """Return how many results have more than one class at the top score."""
    return sum(scores.count(max(scores)) > 1 for _, scores, _ in results)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def vectors_through_stalls(dut):
    """Random idle input cycles and random backpressure: scores and class in order, with ==."""
    tb = HeadTB(dut)
    await tb.start()
    vectors = tb.vectors(tb.case["vectors"])
    want = tb.expected(vectors)
    if tb.case["c"] > 1:  # one output has no tie; its class must still be 0
        assert ties(want) >= 1, f"seed {tb.seed}: no tied maximum in the stimuli"
    _, _, got = await tb.run(vectors, idle=0.3, backpressure=0.4)
    check_in_order(got, want, tb.seed)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def latency_without_stalls(dut):
    """No stalls: in transfer -> out_valid is the core's LATENCY for every vector."""
    tb = HeadTB(dut)
    await tb.start()
    latency = int(dut.LATENCY.value)
    vectors = tb.vectors(8)
    source, sink, got = await tb.run(vectors, idle=0.0, backpressure=0.0)
    check_in_order(got, tb.expected(vectors), tb.seed)
    latencies = np.subtract(sink.cycles, source.sent_cycles).tolist()
    intervals = np.diff(sink.cycles).tolist()
    record({"latencies": latencies, "intervals": intervals})
    assert latencies == [latency] * len(vectors), f"latencies {latencies}"
