"""cocotb test for hwgen_lut_vec: every code in every lane against hwgen.reference.kernels.lut, with
out_valid exactly LUT_LATENCY cycles after in_valid (lane_latency of it with LANES < N).

Also pieces the other per-core tests reuse: rotate (every input combination in every lane),
start_clock and run_registered (a registered output that never stalls, as hwgen_gate's) and
check_steps.
"""
from __future__ import annotations

import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hwgen.reference.kernels import lut
from hwgen.cores import LUT_LATENCY, lane_latency
from hwgen.types import IntType
from rtl_tests.cocotb_streams import PERIOD_NS, load_case, pack, unpack


def rotate(combos: list, lanes: int) -> list[list]:
    """Return len(combos) steps of `lanes` items; over them every lane gets every combo once."""
    stride = max(1, len(combos) // lanes)
    return [[combos[(s + j * stride) % len(combos)] for j in range(lanes)]
            for s in range(len(combos))]


def check_steps(steps: list, got: list, want: list, seed: int):
    """Assert got == want step by step; the message shows the first differing steps' inputs."""
    bad = [(s, g, w) for s, g, w in zip(steps, got, want) if g != w]
    assert not bad, (f"seed {seed}: {len(bad)} of {len(steps)} steps differ; (inputs per lane, "
                     f"got, want): {bad[:4]}")
    assert len(got) == len(want), f"seed {seed}: got {len(got)} outputs, want {len(want)}"


async def start_clock(dut):
    """Start the clock, hold rst for two cycles with in_valid low; assert out_valid is low."""
    dut.in_valid.value = 0
    dut.rst.value = 1
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await ReadOnly()
    assert not dut.out_valid.value, "out_valid is high after reset"


async def run_registered(dut, steps: list[dict], read, latency: int, rng: random.Random,
                         idle: float, seed: int, beats: int = 1) -> list:
    """Drive steps (port name -> value) with random idle cycles between them and return
    read(dut) for every output, in order; assert out_valid equals in_valid `latency` cycles
    earlier in every cycle (the stage never stalls).

    beats > 1: a stage whose lanes take a vector over `beats` cycles (hwgen_lanes): in_valid
    rises at most every `beats` cycles, the inputs hold for `beats` cycles from in_valid and are
    then scrambled with random bits until the next step, so a stage reading them late fails."""
    pending, outputs = list(steps), []
    history = deque([0] * latency, maxlen=latency)  # in_valid of the last `latency` cycles
    cycle, since, held = 0, beats, ()  # since: cycles since the last in_valid
    while pending or any(history):
        await RisingEdge(dut.clk)
        valid = int(bool(pending) and since >= beats and rng.random() >= idle)
        dut.in_valid.value = valid
        if valid:
            held, since = tuple(pending[0]), 0
            for port, value in pending.pop(0).items():
                getattr(dut, port).value = value
        elif beats > 1 and since >= beats:
            for port in held:
                handle = getattr(dut, port)
                handle.value = rng.getrandbits(len(handle))
        await ReadOnly()
        want = history[0]
        assert int(dut.out_valid.value) == want, (
            f"seed {seed}: out_valid={int(dut.out_valid.value)} in cycle {cycle}, but in_valid was "
            f"{want} {latency} cycle(s) before")
        if want:
            outputs.append(read(dut))
        history.append(valid)
        cycle += 1
        since += 1
    return outputs


def lanes_of(dut, case: dict, units: int) -> int:
    """Return the case's lanes (default: all units), checked against the core's LANES."""
    lanes = case.get("lanes", units)
    assert int(dut.LANES.value) == lanes, "LANES differs from the case"
    return lanes


class LutVecTB:
    """hwgen_lut_vec with its case: lanes, index type and table."""

    def __init__(self, dut):
        self.dut = dut
        self.case = case = load_case()
        self.seed = case["seed"]
        self.rng = random.Random(self.seed)
        self.index_type = IntType(case["in_w"], case["in_signed"], 0, case["in_narrow"])
        assert int(dut.N.value) == case["n"]
        self.beats = case["n"] // lanes_of(dut, case, case["n"])
        self.latency = lane_latency(LUT_LATENCY, case["n"], case["n"] // self.beats)
        assert int(dut.LATENCY.value) == self.latency, "LATENCY differs from hwgen.cores"
        assert int(dut.DEPTH.value) == self.index_type.levels == len(case["table"])

    def steps(self, random_steps: int) -> list[list[int]]:
        """Return every code in every lane, then random codes."""
        t, n = self.index_type, self.case["n"]
        rand = [[self.rng.randint(t.min, t.max) for _ in range(n)] for _ in range(random_steps)]
        return rotate(list(range(t.min, t.max + 1)), n) + rand

    def read(self, dut) -> list[int]:
        """Return out_data's lanes as integers."""
        c = self.case
        return unpack(dut.out_data.value.to_unsigned(), c["out_w"], c["n"], c["out_signed"])


@cocotb.test()
async def every_code_in_every_lane(dut):
    """Random idle cycles: out_valid tb.latency cycles after in_valid, every lane ==
    kernels.lut."""
    tb = LutVecTB(dut)
    await start_clock(dut)
    steps = tb.steps(tb.case["random_steps"])
    drive = [{"in_data": pack(s, tb.case["in_w"])} for s in steps]
    got = await run_registered(dut, drive, tb.read, tb.latency, tb.rng, idle=0.3, seed=tb.seed,
                               beats=tb.beats)
    check_steps(steps, got, lut(tb.case["table"], tb.index_type, steps).tolist(), tb.seed)


@cocotb.test()
async def one_vector_per_cycle(dut):
    """in_valid as often as the core takes it (every cycle, or every H/LANES with lanes): an
    output for each, tb.latency cycles after its input."""
    tb = LutVecTB(dut)
    await start_clock(dut)
    steps = tb.steps(12)[-12:]
    drive = [{"in_data": pack(s, tb.case["in_w"])} for s in steps]
    got = await run_registered(dut, drive, tb.read, tb.latency, tb.rng, idle=0.0, seed=tb.seed,
                               beats=tb.beats)
    check_steps(steps, got, lut(tb.case["table"], tb.index_type, steps).tolist(), tb.seed)
