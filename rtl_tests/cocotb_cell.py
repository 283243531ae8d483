"""cocotb test for hwgen_cell: every operand combination against the cell update of
hwgen.ir.graph.step (kernels.requantize of f*c and i*g, then kernels.saturate of the sum), out_valid
exactly cell_latency (hwgen.cores, equal to the core's LATENCY) cycles after in_valid."""
from __future__ import annotations

import itertools
import random

import cocotb

from hwgen.cores import cell_latency, cell_mul_latency, cell_operands, lane_latency
from hwgen.reference.kernels import as_int, requantize, saturate
from hwgen.types import IntType, Rounding
from rtl_tests.cocotb_hidden import codes, spread
from rtl_tests.cocotb_lut_vec import check_steps, lanes_of, run_registered, start_clock
from rtl_tests.cocotb_streams import load_case, pack, unpack


class CellTB:
    """hwgen_cell with its case: operand types, cell-state quantizer, CIFG and its ONE."""

    def __init__(self, dut):
        self.case = case = load_case()
        self.seed = case["seed"]
        self.rng = random.Random(self.seed)
        self.f, self.i, self.g, self.c = (IntType(*case[k]) for k in ("f", "i", "g", "c"))
        for name, key in (("FC_SHIFT", "fc_shift"), ("IG_SHIFT", "ig_shift"), ("ONE", "one")):
            assert getattr(dut, name).value.to_signed() == case[key], f"{name} differs"
        for name, key in (("H", "h"), ("ROUNDING", "rounding_code"), ("CIFG", "cifg")):
            assert getattr(dut, name).value.to_unsigned() == case[key], f"{name} differs"
        products = cell_operands(self.f.width, self.i.width, self.g.width, self.c.width,
                                 bool(case["cifg"]))
        lanes = lanes_of(dut, case, case["h"])
        self.beats = case["h"] // lanes
        self.latency = lane_latency(cell_latency(cell_mul_latency(case["mul_style"], products)),
                                    case["h"], lanes, reg_select=True)
        assert int(dut.LATENCY.value) == self.latency, "LATENCY differs from hwgen.cores"

    def combos(self) -> itertools.product:
        """Return every (f, i, g, c) combination; under CIFG f is a random code the core ignores."""
        f = [None] if self.case["cifg"] else codes(self.f)
        return itertools.product(f, codes(self.i), codes(self.g), codes(self.c))

    def drive(self, step: list[tuple]) -> dict:
        """Return the port values of one step of (f, i, g, c) combinations."""
        f = [self.rng.randint(self.f.min, self.f.max) if v[0] is None else v[0] for v in step]
        return {"f_act": pack(f, self.f.width),
                "i_act": pack([v[1] for v in step], self.i.width),
                "g_act": pack([v[2] for v in step], self.g.width),
                "c_old": pack([v[3] for v in step], self.c.width)}

    def read(self, dut) -> list[int]:
        """Return the c_new lanes as integers."""
        return unpack(dut.c_new.value.to_unsigned(), self.c.width, self.case["h"], self.c.signed)

    def expected(self, steps) -> list[list[int]]:
        """Return c' of hwgen.ir.graph.step for every step."""
        rounding = Rounding(self.case["rounding"])
        ops = as_int([[[0 if x is None else x for x in v] for v in s] for s in steps])
        f, i, g, c = (ops[..., k] for k in range(4))  # each [steps, H]
        if self.case["cifg"]:
            f = as_int(self.case["one"]) - i
        fc = requantize(f * c, self.f.exp + self.c.exp, self.c, rounding)
        ig = requantize(i * g, self.i.exp + self.g.exp, self.c, rounding)
        return saturate(fc + ig, self.c).tolist()


@cocotb.test()
async def every_operand_combination(dut):
    """Every combination, spread over the units at random, with random idle cycles: out_valid
    tb.latency cycles after in_valid, c_new == the reference, with ==."""
    tb = CellTB(dut)
    await start_clock(dut)
    steps = spread(tb.combos(), tb.case["h"], tb.rng)
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency, tb.rng,
                               idle=0.3, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)


@cocotb.test()
async def one_vector_per_cycle(dut):
    """in_valid as often as the core takes it (every cycle, or every H/LANES with lanes): an
    output for each, tb.latency cycles after its input."""
    tb = CellTB(dut)
    await start_clock(dut)
    steps = spread(tb.combos(), tb.case["h"], tb.rng)[:12]
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency, tb.rng,
                               idle=0.0, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)
