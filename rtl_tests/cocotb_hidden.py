"""cocotb test for hwgen_hidden: every (o, t) pair against hwgen.ir.graph.step's
h = kernels.requantize(o * t), out_valid exactly hidden_latency (hwgen.cores, equal to the core's
LATENCY) cycles after in_valid. Also the pieces hwgen_cell's test reuses: codes and spread."""
from __future__ import annotations

import itertools
import math
import random

import cocotb

from hwgen.cores import hidden_latency, lane_latency, mul_latency
from hwgen.reference.kernels import as_int, requantize
from hwgen.types import IntType, Rounding
from rtl_tests.cocotb_lut_vec import check_steps, lanes_of, run_registered, start_clock
from rtl_tests.cocotb_streams import load_case, pack, unpack


def codes(t: IntType) -> range:
    """Return every code of t."""
    return range(t.min, t.max + 1)


def spread(combos: list, lanes: int, rng: random.Random) -> list[list]:
    """Return every combo once, shuffled, in steps of `lanes` (the last step filled by repeats)."""
    combos = list(combos)
    rng.shuffle(combos)
    total = math.ceil(len(combos) / lanes) * lanes
    padded = [combos[k % len(combos)] for k in range(total)]
    return [padded[k:k + lanes] for k in range(0, total, lanes)]


class HiddenTB:
    """hwgen_hidden with its case: operand types, output quantizer and rounding."""

    def __init__(self, dut):
        self.case = case = load_case()
        self.seed = case["seed"]
        self.rng = random.Random(self.seed)
        self.o, self.t, self.out = (IntType(*case[k]) for k in ("o", "t", "out"))
        for name, key in (("H", "h"), ("SHIFT", "shift"), ("ROUNDING", "rounding_code")):
            assert getattr(dut, name).value.to_signed() == case[key], f"{name} differs"
        lanes = lanes_of(dut, case, case["h"])
        self.beats = case["h"] // lanes
        self.latency = lane_latency(hidden_latency(mul_latency(case["mul_style"], self.o.width + 1,
                                                  self.t.width + 1)), case["h"], lanes,
                                    reg_select=True)
        assert int(dut.LATENCY.value) == self.latency, "LATENCY differs from hwgen.cores"

    def drive(self, step: list[tuple]) -> dict:
        """Return the port values of one step of (o, t) pairs."""
        return {"o_act": pack([o for o, _ in step], self.o.width),
                "t_act": pack([t for _, t in step], self.t.width)}

    def read(self, dut) -> list[int]:
        """Return the h lanes as integers."""
        return unpack(dut.h.value.to_unsigned(), self.out.width, self.case["h"], self.out.signed)

    def expected(self, steps) -> list[list[int]]:
        """Return h of hwgen.ir.graph.step for every step."""
        pairs = as_int(steps)  # [steps, H, 2]
        return requantize(pairs[..., 0] * pairs[..., 1], self.o.exp + self.t.exp, self.out,
                          Rounding(self.case["rounding"])).tolist()


@cocotb.test()
async def every_operand_pair(dut):
    """Every (o, t) pair, spread over the units at random, with random idle cycles: out_valid
    tb.latency cycles after in_valid, h == the reference, with ==."""
    tb = HiddenTB(dut)
    await start_clock(dut)
    steps = spread(itertools.product(codes(tb.o), codes(tb.t)), tb.case["h"], tb.rng)
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency,
                               tb.rng, idle=0.3, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)


@cocotb.test()
async def one_vector_per_cycle(dut):
    """in_valid as often as the core takes it (every cycle, or every H/LANES with lanes): an
    output for each, tb.latency cycles after its input."""
    tb = HiddenTB(dut)
    await start_clock(dut)
    steps = spread(itertools.product(codes(tb.o), codes(tb.t)), tb.case["h"], tb.rng)[:12]
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency,
                               tb.rng, idle=0.0, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)
