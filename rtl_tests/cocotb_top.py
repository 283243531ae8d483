"""cocotb test that hwgen.sim.rtl_run runs inside the simulator: sequences through a generated top.

It reads the case file named by HWGEN_CASE (design.json's contents, the input codes, the sequence
lengths, the stress seed, isolate, the state codes), streams every sequence back to back (with isolate, each one
only after every output of the earlier ones has left), records every transfer and writes
results.npz: the cycle of each input transfer and, for each output transfer, its data, class and
cycle. A transfer's cycle is the index of the rising clock edge it happens on.

The monitor checks the stream on the way: every output transfer is expected (nothing duplicated),
carries m_tlast exactly where the design's kind puts it, follows the input it depends on, and
holds still while stalled. A design with initial states also gets one state word per sequence on
s_state_* (idle at random under stress), each taken exactly once. Without stress, the driver and monitor wake only when s_tready or
m_tvalid rise, so long runs cost little Python time per idle cycle.
"""
from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, First, ReadOnly, RisingEdge, Timer

from rtl_tests.cocotb_streams import PERIOD_NS, load_case, pack, unpack

STRESS_IDLE = 0.3  # chance of an idle input cycle before each transfer, under stress
STRESS_BACKPRESSURE = 0.3  # chance of m_tready low in a cycle, under stress
RESET_CYCLES = 4


class TopTB:
    """A generated hwgen_top with its case: driver, monitor, watchdog and the recorded transfers."""

    def __init__(self, dut, case: dict):
        self.dut = dut
        design = case["design"]
        x, y = design["input"], design["output"]
        self.x_width = x["width"]
        self.y_width, self.y_count, self.kind = y["width"], y["count"], y["kind"]
        self.y_signed = y["signed"]
        widths = {"s_tdata": x["count"] * x["width"], "m_tdata": y["count"] * y["width"],
                  "m_tclass": design["class_width"]}
        for port, want in widths.items():
            assert len(getattr(dut, port)) == want, (
                f"{port} is {len(getattr(dut, port))} bits; design.json says {want}")
        self.inputs = np.load(case["inputs"])
        self.state_words = self.pack_states(design.get("state"), np.load(case["states"]))
        if self.state_words is not None:
            assert len(dut.s_state_tdata) == design["state"]["width"], (
                f"s_state_tdata is {len(dut.s_state_tdata)} bits; design.json says "
                f"{design['state']['width']}")
        self.state_cycles: list[int] = []
        self.lengths = case["lengths"]
        ends = np.cumsum(self.lengths)
        self.last = np.zeros(len(self.inputs), dtype=bool)
        self.last[ends - 1] = True
        # for each expected output transfer: the index of the input transfer it depends on; a
        # design that buffers sequences (a reverse direction) needs a sequence's last input
        buffers = design.get("max_steps", 0) > 0
        if self.kind == "scores" or buffers:
            self.sources = np.repeat(ends - 1, 1 if self.kind == "scores" else self.lengths)
        else:
            self.sources = np.arange(len(self.inputs))
        # m_tlast of each expected output: every scores transfer ends its sequence; hidden and
        # step_scores outputs (one per step) end it on its last step
        self.want_last = self.last if self.kind != "scores" else np.ones(len(ends), dtype=bool)
        self.firsts = ends - self.lengths  # the first input of each sequence
        # isolate: before a sequence's first input, this many outputs must have left
        self.outputs_before = (np.arange(len(self.lengths)) if self.kind == "scores"
                               else ends - self.lengths)
        self.isolate = bool(case.get("isolate", False))
        self.seed = case["stress_seed"]
        self.rng = random.Random(self.seed) if self.seed is not None else None
        cycles = design["cycles"]
        per_item = cycles["per_step"] + cycles["head"]
        # cycles without any transfer before giving up: a buffering design is silent for about
        # a whole sequence's latency while its reverse directions run
        self.quiet_limit = 1000 + 20 * per_item + 4 * cycles.get("max_steps_latency", 0)
        self.drain = 20 + 2 * per_item  # cycles to wait for a stray extra output at the end
        self.progress = Event()  # set on every output transfer
        self.in_cycles: list[int] = []
        self.out: list[tuple[int, int, int]] = []  # (m_tdata bits, m_tclass, cycle)
        self.done = Event()

    @staticmethod
    def pack_states(state, codes) -> list | None:
        """Return each sequence's state word (slice codes at their offsets), None without states."""
        if state is None:
            return None
        words = []
        for vec in codes:
            word, start = 0, 0
            for s in state["slices"]:
                word |= pack(vec[start:start + s["count"]], s["width"]) << s["offset"]
                start += s["count"]
            words.append(word)
        return words

    def edge(self) -> int:
        """Return the index of the next rising clock edge (edge k is at time k * PERIOD_NS)."""
        return int(get_sim_time(unit="ns")) // PERIOD_NS + 1

    def where(self) -> str:
        """Return how far the run got, for failure messages."""
        seed = "" if self.seed is None else f" (stress seed {self.seed})"
        return (f"at cycle {self.edge()}{seed}: {len(self.in_cycles)} of {len(self.inputs)} "
                f"inputs and {len(self.out)} of {len(self.sources)} outputs transferred")

    async def reset(self):
        """Start the clock; hold the synchronous reset for RESET_CYCLES with both streams idle."""
        dut = self.dut
        dut.s_tvalid.value = 0
        dut.s_tlast.value = 0
        dut.s_tdata.value = 0
        if self.state_words is not None:
            dut.s_state_tvalid.value = 0
            dut.s_state_tdata.value = 0
        dut.m_tready.value = int(self.rng is None)
        dut.rst.value = 1
        Clock(dut.clk, PERIOD_NS, unit="ns").start()
        await ClockCycles(dut.clk, RESET_CYCLES)
        dut.rst.value = 0

    async def drive(self):
        """Offer every input step in order, each held until s_tready; idle at random if stressed."""
        dut = self.dut
        starts = dict(zip(self.firsts.tolist(), self.outputs_before.tolist()))
        for k, (row, last) in enumerate(zip(self.inputs, self.last)):
            if self.isolate and k in starts:
                await self.outputs_left(starts[k])
            while self.rng is not None and self.rng.random() < STRESS_IDLE:
                dut.s_tvalid.value = 0
                await RisingEdge(dut.clk)
            dut.s_tdata.value = pack(row, self.x_width)
            dut.s_tlast.value = int(last)
            dut.s_tvalid.value = 1
            await ReadOnly()
            while not dut.s_tready.value:
                await RisingEdge(dut.s_tready)
                await ReadOnly()
            self.in_cycles.append(self.edge())
            await RisingEdge(dut.clk)
        dut.s_tvalid.value = 0

    async def drive_states(self):
        """Offer each sequence's state word in order, held until taken; idle at random if stressed."""
        dut = self.dut
        for word in self.state_words:
            while self.rng is not None and self.rng.random() < STRESS_IDLE:
                dut.s_state_tvalid.value = 0
                await RisingEdge(dut.clk)
            dut.s_state_tdata.value = word
            dut.s_state_tvalid.value = 1
            await ReadOnly()
            while not dut.s_state_tready.value:
                await RisingEdge(dut.clk)
                await ReadOnly()
            self.state_cycles.append(self.edge())
            await RisingEdge(dut.clk)
        dut.s_state_tvalid.value = 0

    async def outputs_left(self, count: int):
        """Return in a writable phase once `count` outputs have been transferred."""
        if len(self.out) >= count:
            return
        self.dut.s_tvalid.value = 0
        while len(self.out) < count:
            self.progress.clear()
            await self.progress.wait()
        await RisingEdge(self.dut.clk)  # the event fires in a read-only phase

    async def monitor(self):
        """Record every output transfer, checking it against the expected stream; runs forever."""
        dut, stalled = self.dut, None
        while True:
            ready = 1
            if self.rng is not None:
                ready = int(self.rng.random() >= STRESS_BACKPRESSURE)
                dut.m_tready.value = ready
            await ReadOnly()
            if not dut.m_tvalid.value:
                assert stalled is None, f"m_tvalid dropped while stalled {self.where()}"
                await (RisingEdge(dut.clk) if self.rng is not None else RisingEdge(dut.m_tvalid))
                continue
            beat = (dut.m_tdata.value.to_unsigned(), dut.m_tclass.value.to_unsigned(),
                    int(dut.m_tlast.value))
            assert stalled in (None, beat), f"output changed while stalled {self.where()}"
            stalled = None if ready else beat
            if ready:
                self.check_output(beat[2])
                self.out.append((beat[0], beat[1], self.edge()))
                self.progress.set()
                if len(self.out) == len(self.sources):
                    self.done.set()
            await RisingEdge(dut.clk)

    def check_output(self, tlast: int):
        """Assert the next output is expected, follows its input and has the right m_tlast."""
        k = len(self.out)
        assert k < len(self.sources), f"an output transfer beyond the expected ones {self.where()}"
        source = self.sources[k]
        assert source < len(self.in_cycles) and self.in_cycles[source] < self.edge(), (
            f"output {k} arrived before the input it depends on (step {source}) {self.where()}")
        assert tlast == self.want_last[k], (
            f"output {k} has m_tlast={tlast}, want {int(self.want_last[k])} {self.where()}")

    async def wait_done(self):
        """Return once every output arrived; fail when nothing moves for quiet_limit cycles."""
        while not self.done.is_set():
            seen = (len(self.in_cycles), len(self.out))
            await First(self.done.wait(), Timer(self.quiet_limit * PERIOD_NS, unit="ns"))
            assert self.done.is_set() or seen != (len(self.in_cycles), len(self.out)), (
                f"no transfer for {self.quiet_limit} cycles {self.where()}")

    def save(self, path: str):
        """Write the recorded transfers to path (.npz), output codes as int64."""
        n = len(self.out)
        data = np.zeros((n, self.y_count), dtype=np.int64)
        for k, (bits, _, _) in enumerate(self.out):
            data[k] = unpack(bits, self.y_width, self.y_count, self.y_signed)
        np.savez(path, in_cycles=np.array(self.in_cycles, dtype=np.int64), out_data=data,
                 out_class=np.array([o[1] for o in self.out], dtype=np.int64),
                 out_cycles=np.array([o[2] for o in self.out], dtype=np.int64),
                 sim_cycles=np.int64(self.edge()))


@cocotb.test()
async def stream_sequences(dut):
    """Every sequence through the design back to back; every transfer recorded and checked."""
    case = load_case()
    tb = TopTB(dut, case)
    await tb.reset()
    cocotb.start_soon(tb.monitor())
    cocotb.start_soon(tb.drive())
    if tb.state_words is not None:
        cocotb.start_soon(tb.drive_states())
    await tb.wait_done()
    await ClockCycles(dut.clk, tb.drain)  # a duplicated output would arrive by now
    if tb.state_words is not None:
        assert len(tb.state_cycles) == len(tb.lengths), (
            f"{len(tb.state_cycles)} state words taken for {len(tb.lengths)} sequences")
    tb.save(case["results"])
