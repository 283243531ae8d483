"""Reusable cocotb pieces for valid/ready streams: clock and reset, source, sink, in-order checker.

Timing discipline: every component drives its signals just after a rising edge, then samples in
the ReadOnly phase of the same time step. Those sampled values are what the next rising edge sees,
so "valid and ready" there means a transfer happens on that edge.
"""
from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hwgen.sim.tools import CASE_ENV

PERIOD_NS = 10


def load_case() -> dict:
    """Return the test case the pytest side passed to run_cocotb."""
    with open(os.environ[CASE_ENV]) as f:
        return json.load(f)


def record(measured: dict):
    """Write measured values (cycle counts) to measured.json beside the case, for the pytest side."""
    with open(os.path.join(os.path.dirname(os.environ[CASE_ENV]), "measured.json"), "w") as f:
        json.dump(measured, f)


def unpack(bits: int, width: int, count: int, signed: bool) -> list[int]:
    """Return count width-bit fields of bits (field k at [k*width +: width])."""
    mask = (1 << width) - 1
    fields = [(bits >> (k * width)) & mask for k in range(count)]
    if signed:
        fields = [f - (1 << width) if f >> (width - 1) else f for f in fields]
    return fields


def pack(values, width: int) -> int:
    """Return values packed two's complement, value k at bits [k*width +: width]."""
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (k * width) for k, v in enumerate(values))


class StreamTB:
    """Clock, reset and a cycle counter for a DUT with clk, rst, in_* and out_* streams."""

    def __init__(self, dut, seed: int):
        self.dut = dut
        self.seed = seed
        self.rng = random.Random(seed)

    def cycle(self) -> int:
        """Return the number of clock periods since time 0."""
        return int(get_sim_time(unit="ns")) // PERIOD_NS

    async def start(self):
        """Start the clock and hold rst for two cycles with both streams idle."""
        self.dut.in_valid.value = 0
        self.dut.out_ready.value = 0
        self.dut.rst.value = 1
        cocotb.start_soon(Clock(self.dut.clk, PERIOD_NS, unit="ns").start())
        await ClockCycles(self.dut.clk, 2)
        self.dut.rst.value = 0


class StreamSource:
    """Offers items on data/valid, holding each until ready; idles at random between items."""

    def __init__(self, tb: StreamTB, idle: float):
        self.tb, self.idle = tb, idle
        self.sent_cycles: list[int] = []  # the clock edge each item was transferred on

    async def send(self, items):
        """Send every item in order; return when the last one has been transferred."""
        dut, pending = self.tb.dut, list(items)
        current = None
        while pending or current is not None:
            await RisingEdge(dut.clk)
            if current is None and pending and self.tb.rng.random() >= self.idle:
                current = pending.pop(0)
            dut.in_valid.value = int(current is not None)
            if current is not None:
                dut.in_data.value = current
            await ReadOnly()
            if current is not None and dut.in_ready.value:
                self.sent_cycles.append(self.tb.cycle())
                current = None
        await RisingEdge(dut.clk)
        dut.in_valid.value = 0


class StreamSink:
    """Takes items with ready low at random; checks that valid and data hold while stalled."""

    def __init__(self, tb: StreamTB, backpressure: float):
        self.tb, self.backpressure = tb, backpressure
        self.items: list[int] = []
        self.cycles: list[int] = []  # the clock edge each item was transferred on

    async def run(self):
        """Collect items forever (the test ends this task)."""
        dut, stalled = self.tb.dut, None
        while True:
            await RisingEdge(dut.clk)
            dut.out_ready.value = int(self.tb.rng.random() >= self.backpressure)
            await ReadOnly()
            valid = bool(dut.out_valid.value)
            data = dut.out_data.value.to_unsigned() if valid else None
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


def check_in_order(got: list, want: list, seed: int, describe=repr):
    """Assert got == want item by item: nothing lost, duplicated or reordered."""
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"seed {seed}: item {k} differs: got {describe(g)}, want {describe(w)}"
    assert len(got) == len(want), f"seed {seed}: got {len(got)} items, want {len(want)}"


async def run_stream(tb: StreamTB, items: list[int], expected_count: int, idle: float,
                     backpressure: float, drain_cycles: int) -> tuple[StreamSource, StreamSink]:
    """Send items through the DUT and collect its outputs; return (source, sink) once quiet."""
    source = StreamSource(tb, idle)
    sink = StreamSink(tb, backpressure)
    cocotb.start_soon(sink.run())
    await source.send(items)
    for _ in range(100 * drain_cycles):
        if len(sink.items) >= expected_count:
            break
        await RisingEdge(tb.dut.clk)
    await ClockCycles(tb.dut.clk, drain_cycles)  # anything extra (a duplicate) arrives by now
    return source, sink


# AXI-stream ports (<prefix>_tdata, _tvalid, _tready, _tlast): an item is (data, last).

def frames(sequences) -> list[tuple[int, int]]:
    """Return the (data, last) items of sequences sent one after another."""
    return [(int(d), int(k == len(seq) - 1)) for seq in sequences for k, d in enumerate(seq)]


def random_sequences(rng: random.Random, lengths, width: int) -> list[list[int]]:
    """Return one sequence of random width-bit words per entry of lengths."""
    return [[rng.getrandbits(width) for _ in range(n)] for n in lengths]


class AxisTB(StreamTB):
    """StreamTB for a DUT whose streams are AXI-stream ports named by prefix ("s", "ma", ...)."""

    def __init__(self, dut, seed: int, sources=("s",), sinks=("m",)):
        super().__init__(dut, seed)
        self.sources, self.sinks = tuple(sources), tuple(sinks)
        dut._log.info(f"seed {seed} (set HWGEN_SEED to repeat or change it)")

    async def start(self):
        """Start the clock and hold rst for two cycles with every stream idle."""
        for prefix in self.sources:
            getattr(self.dut, f"{prefix}_tvalid").value = 0
        for prefix in self.sinks:
            getattr(self.dut, f"{prefix}_tready").value = 0
        self.dut.rst.value = 1
        cocotb.start_soon(Clock(self.dut.clk, PERIOD_NS, unit="ns").start())
        await ClockCycles(self.dut.clk, 2)
        self.dut.rst.value = 0


def _port(tb: StreamTB, prefix: str, name: str):
    return getattr(tb.dut, f"{prefix}_{name}")


class AxisSource:
    """Offers (data, last) items on one AXI-stream input, holding each until tready; idles at
    random between items (its own random generator, seeded from the seed and the prefix)."""

    def __init__(self, tb: StreamTB, prefix: str, idle: float):
        self.tb, self.prefix, self.idle = tb, prefix, idle
        self.rng = random.Random(f"{tb.seed}/{prefix}")
        self.sent_cycles: list[int] = []  # the clock edge each item was transferred on

    async def send(self, items):
        """Send every item in order; return when the last one has been transferred."""
        clk, pending, current = self.tb.dut.clk, list(items), None
        valid, ready = _port(self.tb, self.prefix, "tvalid"), _port(self.tb, self.prefix, "tready")
        data, last = _port(self.tb, self.prefix, "tdata"), _port(self.tb, self.prefix, "tlast")
        pending.reverse()  # pop() from the end takes the items in order
        while pending or current is not None:
            await RisingEdge(clk)
            if current is None and pending and self.rng.random() >= self.idle:
                current = pending.pop()
            valid.value = int(current is not None)
            if current is not None:
                data.value, last.value = current
            await ReadOnly()
            if current is not None and ready.value:
                self.sent_cycles.append(self.tb.cycle())
                current = None
        await RisingEdge(clk)
        valid.value = 0


class AxisSink:
    """Takes (data, last) items from one AXI-stream output with tready low at random; checks that
    tvalid, tdata and tlast hold while stalled."""

    def __init__(self, tb: StreamTB, prefix: str, backpressure: float):
        self.tb, self.prefix, self.backpressure = tb, prefix, backpressure
        self.rng = random.Random(f"{tb.seed}/{prefix}")
        self.items: list[tuple[int, int]] = []
        self.cycles: list[int] = []  # the clock edge each item was transferred on

    async def run(self):
        """Collect items forever (the test ends this task)."""
        clk, stalled = self.tb.dut.clk, None
        valid, ready = _port(self.tb, self.prefix, "tvalid"), _port(self.tb, self.prefix, "tready")
        data, last = _port(self.tb, self.prefix, "tdata"), _port(self.tb, self.prefix, "tlast")
        while True:
            await RisingEdge(clk)
            ready.value = int(self.rng.random() >= self.backpressure)
            await ReadOnly()
            item = (data.value.to_unsigned(), int(bool(last.value))) if valid.value else None
            if stalled is not None:
                assert item == stalled, (
                    f"seed {self.tb.seed}: {self.prefix} output dropped or changed while stalled "
                    f"at cycle {self.tb.cycle()}: {stalled} -> {item}")
            stalled = None
            if item is not None and ready.value:
                self.items.append(item)
                self.cycles.append(self.tb.cycle())
            elif item is not None:
                stalled = item


async def run_axis(tb: StreamTB, sends: dict, expect: dict, idle, backpressure,
                   drain_cycles: int = 16) -> tuple[dict, dict]:
    """Send sends[prefix] on every input, collect every output until it has expect[prefix] items
    (or stays short for 20 cycles per missing item); return ({prefix: AxisSource},
    {prefix: AxisSink}) after drain_cycles more, by which any extra (duplicate) item arrives.
    idle and backpressure are one probability for all streams or a {prefix: probability} dict."""
    def each(p, value):
        return value[p] if isinstance(value, dict) else value
    sources = {p: AxisSource(tb, p, each(p, idle)) for p in sends}
    sinks = {p: AxisSink(tb, p, each(p, backpressure)) for p in expect}
    for sink in sinks.values():
        cocotb.start_soon(sink.run())
    tasks = [cocotb.start_soon(sources[p].send(items)) for p, items in sends.items()]
    for task in tasks:
        await task
    waited = 0
    while waited < 20 * sum(expect.values()) + 100:
        if all(len(sinks[p].items) >= n for p, n in expect.items()):
            break
        await RisingEdge(tb.dut.clk)
        waited += 1
    await ClockCycles(tb.dut.clk, drain_cycles)
    return sources, sinks
