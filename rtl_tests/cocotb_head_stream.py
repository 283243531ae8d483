"""cocotb tests for hwgen_head_stream: sequences of vectors through stalls, every vector's scores
and class against hwgen.ir.graph.execute_head (kernels.matvec, then kernels.argmax_first) with
its tlast carried, and the latency and cycles per element measured for the pytest side (which
compares them with hwgen.cores.head_latency)."""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from hwgen.reference.kernels import argmax_first, as_int, matvec
from hwgen.types import IntType
from rtl_tests.cocotb_streams import (AxisSink, AxisSource, AxisTB, check_in_order, frames,
                                      load_case, pack, record, unpack)

TIMEOUT_US = 400  # a core that stops accepting input fails instead of hanging


class ScoresSink(AxisSink):
    """An AxisSink whose items are (scores bits, class, tlast); stalled outputs must hold."""

    async def run(self):
        """Collect items forever (the test ends this task)."""
        dut, stalled = self.tb.dut, None
        while True:
            await RisingEdge(dut.clk)
            dut.m_tready.value = int(self.rng.random() >= self.backpressure)
            await ReadOnly()
            item = ((dut.m_tdata.value.to_unsigned(), dut.m_tclass.value.to_unsigned(),
                     int(bool(dut.m_tlast.value))) if dut.m_tvalid.value else None)
            if stalled is not None:
                assert item == stalled, (f"seed {self.tb.seed}: output dropped or changed while "
                                         f"stalled at cycle {self.tb.cycle()}")
            stalled = None
            if item is not None and dut.m_tready.value:
                self.items.append(item)
                self.cycles.append(self.tb.cycle())
            elif item is not None:
                stalled = item


class HeadStreamTB(AxisTB):
    """hwgen_head_stream with its case: weights, bias, shift, input type, sequence lengths."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        self.case = case
        self.x_type = IntType(case["in_w"], case["in_signed"])

    def sequences(self, count: int) -> list:
        """Return count sequences of random vectors (random lengths), the first holding the
        all-zero, all-min and all-max vectors."""
        t, h = self.x_type, self.case["h"]
        seqs = [[[0] * h, [t.min] * h, [t.max] * h]]
        for _ in range(count):
            n = self.rng.randint(1, self.case["max_len"])
            seqs.append([[self.rng.randint(t.min, t.max) for _ in range(h)] for _ in range(n)])
        return seqs

    def expected(self, seqs) -> list:
        """Return execute_head's (scores, class, tlast) of every vector, in order."""
        c = self.case
        want = []
        for seq in seqs:
            scores = (matvec(c["weights"], as_int(seq)) << c["mv_shift"]) + as_int(c["bias"])
            classes = argmax_first(scores)
            want += [(scores[k].tolist(), int(classes[k]), int(k == len(seq) - 1))
                     for k in range(len(seq))]
        return want

    async def collect(self, seqs, idle: float, backpressure: float):
        """Stream seqs with a sink running throughout; return (source, sink, results)."""
        c = self.case
        packed = [[pack(v, c["in_w"]) for v in seq] for seq in seqs]
        count = sum(len(s) for s in seqs)
        source, sink = AxisSource(self, "s", idle), ScoresSink(self, "m", backpressure)
        cocotb.start_soon(sink.run())
        await source.send(frames(packed))
        for _ in range(200 * count):
            if len(sink.items) >= count:
                break
            await RisingEdge(self.dut.clk)
        for _ in range(40):  # anything extra (a duplicate) arrives by now
            await RisingEdge(self.dut.clk)
        got = [(unpack(s, c["score_w"], c["c"], signed=True), k, last)
               for s, k, last in sink.items]
        return source, sink, got


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_through_stalls(dut):
    """Random idle input cycles and random backpressure: every step's scores, class and tlast in
    order, with ==."""
    tb = HeadStreamTB(dut)
    await tb.start()
    seqs = tb.sequences(tb.case["sequences"])
    _, _, got = await tb.collect(seqs, idle=0.3, backpressure=0.4)
    check_in_order(got, tb.expected(seqs), tb.seed)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: input transfer -> output transfer latencies and cycles between inputs,
    recorded for the pytest side."""
    tb = HeadStreamTB(dut)
    await tb.start()
    seqs = tb.sequences(4)
    source, sink, got = await tb.collect(seqs, idle=0.0, backpressure=0.0)
    check_in_order(got, tb.expected(seqs), tb.seed)
    record({"latencies": np.subtract(sink.cycles, source.sent_cycles).tolist(),
            "intervals": np.diff(source.sent_cycles).tolist()})
