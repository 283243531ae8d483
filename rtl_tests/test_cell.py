"""hwgen_cell in simulation: c' = sat(rq(f*c) + rq(i*g)), with and without CIFG, for every
operand combination.

The combinations are spread over the units in an order drawn from a per-case seed; set HWGEN_SEED
to try another one. Parameters are derived from the types as hwgen.codegen.rtl derives them.
"""
import os

import pytest

from hwgen.cores import MUL_DSP, MUL_LUT, cell_mul_latency, cell_operands
from hwgen.reference.kernels import saturate
from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir
from hwgen.types import IntType, Rounding

SOURCES = [RTL_LIB / f"hwgen_{core}.sv" for core in ("mul_pp", "mul", "requant", "lanes",
                                                         "lane_sel", "lane_shift", "cell")]


def case(units, f, i, g, c, rounding, cifg=False, one=None, mul_style=MUL_DSP, lanes=0):
    """Return a case: units, f / i / g / cell-state types as (width, signed, exp, narrow),
    rounding, CIFG and lanes (0: all units). Under CIFG f has i's type and ONE defaults to i's
    code for 1.0, saturated to i's range as hwgen.onnx.lstm_cell quantizes it."""
    f, i, g, c = (IntType(*t) for t in (i if cifg else f, i, g, c))
    if one is None:
        one = int(saturate(1 << -i.exp, i)) if cifg else 0
    products = cell_operands(f.width, i.width, g.width, c.width, cifg)
    return dict(h=units, lanes=lanes or units, mul_style=mul_style,
                mul_latency=cell_mul_latency(mul_style, products),
                **{k: [t.width, t.signed, t.exp, t.narrow]
                            for k, t in zip("figc", (f, i, g, c))},
                rounding=rounding.value, rounding_code=rounding.code, cifg=int(cifg),
                one=one, fc_shift=c.exp - (f.exp + c.exp), ig_shift=c.exp - (i.exp + g.exp))


CASES = {
    # 1.0 is 16 in uint4*2^-4, saturated to ONE = 15: f = 15 - i, as the flow builds it.
    "cifg_one_saturated_round": case(4, None, (4, False, -4), (4, True, -3), (5, True, -3),
                                     Rounding.ROUND, cifg=True),
    # ONE = 8 = 2**I_W, above every uint3 code of i (the flow saturates ONE into i's range, the
    # core does not need it): 1 <= f <= 8 needs a bit more than i has.
    "cifg_one_above_imax_ceil": case(4, None, (3, False, -3), (4, True, -3), (4, True, -2),
                                     Rounding.CEIL, cifg=True, one=8),
    # ONE = 4 inside int4's range: f = 4 - i runs from -3 to 12.
    "cifg_signed_i_negative_f_floor": case(4, None, (4, True, -2), (3, True, -2), (4, True, -2),
                                           Rounding.FLOOR, cifg=True),
    "ceil_signed_f_narrow_c": case(4, (3, True, -2), (3, False, -3), (3, True, -2),
                                   (4, True, -1, True), Rounding.CEIL),
    "to_zero_uint_c": case(4, (3, False, -3), (3, False, -3), (3, True, -2), (4, False, -2),
                           Rounding.ROUND_TO_ZERO),
    "shift0_and_left2": case(2, (2, False, 0), (3, False, -1), (3, True, -1), (5, True, -4),
                             Rounding.ROUND),
    # products in logic; f*c has one slice (latency 1, padded to 2), i*g three (latency 2)
    "lut_one_slice_padded": case(2, (1, False, -1), (4, False, -4), (5, True, -3),
                                 (4, True, -2), Rounding.ROUND, mul_style=MUL_LUT),
    "lut_cifg_floor": case(4, None, (4, True, -2), (3, True, -2), (4, True, -2),
                           Rounding.FLOOR, cifg=True, mul_style=MUL_LUT),
    # lanes: the units in chunks, one a cycle
    "ceil_signed_f_narrow_c_2lanes": case(4, (3, True, -2), (3, False, -3), (3, True, -2),
                                          (4, True, -1, True), Rounding.CEIL, lanes=2),
    "lut_cifg_floor_1lane": case(3, None, (4, True, -2), (3, True, -2), (4, True, -2),
                                 Rounding.FLOOR, cifg=True, mul_style=MUL_LUT, lanes=1),
}


def parameters(c: dict) -> dict:
    """Return the hwgen_cell parameters of a case."""
    f, i, g, cell = (IntType(*c[k]) for k in "figc")
    return dict(H=c["h"], LANES=c["lanes"], F_W=f.width, F_SIGNED=f.signed, I_W=i.width,
                I_SIGNED=i.signed,
                G_W=g.width, G_SIGNED=g.signed, C_W=cell.width, C_SIGNED=cell.signed,
                C_MIN=cell.min, C_MAX=cell.max, FC_SHIFT=c["fc_shift"], IG_SHIFT=c["ig_shift"],
                ROUNDING=c["rounding_code"], CIFG=c["cifg"], ONE=c["one"],
                MUL_STYLE=c["mul_style"], MUL_LATENCY=c["mul_latency"])


@pytest.mark.parametrize("name", CASES)
def test_cell(name, request):
    """Every operand combination: simulation == hwgen.ir.graph.step's cell update,
    hwgen.cores.cell_latency cycles late."""
    seed = int(os.environ.get("HWGEN_SEED", 5000 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed)
    run_cocotb("hwgen_cell", SOURCES, parameters(c), "rtl_tests.cocotb_cell",
               sim_build_dir(f"rtl_tests/{request.node.name}"), c)
