"""hwgen_hidden in simulation: h = requantize(o * tanh(c)) for every operand pair.

The pairs are spread over the units in an order drawn from a per-case seed; set HWGEN_SEED to try
another one. SHIFT is derived from the types as hwgen.codegen.rtl derives it from the IR.
"""
import os

import pytest

from hwgen.cores import MUL_DSP, MUL_LUT, mul_latency
from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir
from hwgen.types import IntType, Rounding

SOURCES = [RTL_LIB / f"hwgen_{core}.sv" for core in ("mul_pp", "mul", "requant", "lanes",
                                                         "lane_sel", "lane_shift", "hidden")]


def case(units, o, t, out, rounding, mul_style=MUL_DSP, lanes=0):
    """Return a case: units, o / tanh / h types as (width, signed, exp, narrow), rounding, the
    product's MUL_STYLE and lanes (0: all units)."""
    o, t, out = IntType(*o), IntType(*t), IntType(*out)
    return dict(h=units, lanes=lanes or units, mul_style=mul_style,
                mul_latency=mul_latency(mul_style, o.width + 1, t.width + 1),
                o=[o.width, o.signed, o.exp, o.narrow],
                t=[t.width, t.signed, t.exp, t.narrow],
                out=[out.width, out.signed, out.exp, out.narrow], rounding=rounding.value,
                rounding_code=rounding.code, shift=out.exp - (o.exp + t.exp))


CASES = {
    "round_right5_uint_o": case(4, (4, False, -4), (5, True, -4), (4, True, -3), Rounding.ROUND),
    "floor_right3_int_o_narrow": case(3, (4, True, -3), (4, True, -3, True), (4, True, -3, True),
                                      Rounding.FLOOR),
    "ceil_right2_uint_h": case(2, (3, False, -3), (4, True, -2), (3, False, -3), Rounding.CEIL),
    "left2_one_unit": case(1, (3, False, 0), (4, True, -1), (7, True, -3),
                           Rounding.ROUND_TO_ZERO),
    # products in logic: 5 x 6 bits (3 slices, one tree register) and 9 x 9 bits (5 slices,
    # two tree registers; every pair of two 8-bit codes)
    "lut_round_right5_uint_o": case(4, (4, False, -4), (5, True, -4), (4, True, -3),
                                    Rounding.ROUND, MUL_LUT),
    "lut_8bit_floor": case(16, (8, False, -8), (8, True, -7), (8, True, -7), Rounding.FLOOR,
                           MUL_LUT),
    "lut_one_slice_ceil": case(2, (1, False, 0), (4, True, -2), (4, True, -2), Rounding.CEIL,
                               MUL_LUT),
    # lanes: the units in chunks, one a cycle
    "round_right5_uint_o_2lanes": case(4, (4, False, -4), (5, True, -4), (4, True, -3),
                                       Rounding.ROUND, lanes=2),
    "lut_floor_right3_3units_1lane": case(3, (4, True, -3), (4, True, -3, True),
                                          (4, True, -3, True), Rounding.FLOOR, MUL_LUT, lanes=1),
}


def parameters(c: dict) -> dict:
    """Return the hwgen_hidden parameters of a case."""
    o, t, out = IntType(*c["o"]), IntType(*c["t"]), IntType(*c["out"])
    return dict(H=c["h"], LANES=c["lanes"], O_W=o.width, O_SIGNED=o.signed, T_W=t.width,
                T_SIGNED=t.signed,
                SHIFT=c["shift"], ROUNDING=c["rounding_code"], OUT_W=out.width,
                OUT_SIGNED=out.signed, OUT_MIN=out.min, OUT_MAX=out.max,
                MUL_STYLE=c["mul_style"], MUL_LATENCY=c["mul_latency"])


@pytest.mark.parametrize("name", CASES)
def test_hidden(name, request):
    """Every (o, t) pair: simulation == hwgen.ir.graph.step's hidden requantizer,
    hwgen.cores.hidden_latency cycles late."""
    seed = int(os.environ.get("HWGEN_SEED", 6000 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed)
    run_cocotb("hwgen_hidden", SOURCES, parameters(c), "rtl_tests.cocotb_hidden",
               sim_build_dir(f"rtl_tests/{request.node.name}"), c)
