"""hwgen_gate in simulation: aligned sum + bias, the gate's requantizer and its table, per unit.

Every (x_acc, h_acc) pair reaches every unit. Biases and tables come from a per-case seed; set
HWGEN_SEED to try another one. Parameters are derived as hwgen.codegen.rtl derives them from the IR.
SUM_W is the exact sum range's width as a signed type (the core takes the sum as signed).
"""
import os

import numpy as np
import pytest

from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType, Rounding, type_for_range

SOURCES = [RTL_LIB / n for n in ("hwgen_requant.sv", "hwgen_lut.sv", "hwgen_lanes.sv",
                                 "hwgen_lane_sel.sv", "hwgen_lane_shift.sv", "hwgen_lut_vec.sv",
                                 "hwgen_gate.sv")]


def case(units, ax_w, ah_w, x_shift, h_shift, bias, acc, rounding, act, x_range=None, lanes=0):
    """Return a case: units, accumulator widths (x_acc range, default all of ax_w), shifts,
    bias range (None: a layer without bias), accumulator type (width, signed, exp, narrow) at
    sum exponent 0, rounding, activation (width, signed) and lanes (0: all units)."""
    full = IntType(ax_w, True)
    return dict(h=units, lanes=lanes or units, ax_w=ax_w, ah_w=ah_w,
                x_range=x_range or (full.min, full.max),
                h_range=(IntType(ah_w, True).min, IntType(ah_w, True).max), x_shift=x_shift,
                h_shift=h_shift, bias_range=bias, sum_exp=0, acc=acc, rounding=rounding.value,
                act=act)


CASES = {
    "round_right2_bias": case(3, 4, 4, 1, 0, (-12, 12), (4, True, 2, False), Rounding.ROUND,
                              (5, False)),
    "floor_right1_no_bias_narrow": case(3, 4, 3, 0, 2, None, (4, True, 1, True), Rounding.FLOOR,
                                        (4, True)),
    "ceil_right3_uint_acc": case(2, 5, 4, 0, 1, (-6, 20), (3, False, 3, False), Rounding.CEIL,
                                 (6, True)),
    # x_acc spans less than its 6 bits, so SUM_W (7) < AX_W + X_SHIFT (8): the sum wraps.
    "to_zero_right2_tight_sum": case(2, 6, 3, 2, 0, (-5, 5), (5, True, 2, False),
                                     Rounding.ROUND_TO_ZERO, (3, False), x_range=(-9, 13)),
    "left1_one_unit": case(1, 4, 5, 1, 0, (-3, 3), (6, True, -1, True), Rounding.ROUND,
                           (7, True)),
    # lanes: the units in chunks, one a cycle; each unit's bias from the per-chunk table
    "round_right2_bias_3units_1lane": case(3, 4, 4, 1, 0, (-12, 12), (4, True, 2, False),
                                           Rounding.ROUND, (5, False), lanes=1),
    "floor_right1_bias_4units_2lanes": case(4, 4, 3, 0, 2, (-20, 20), (4, True, 1, True),
                                            Rounding.FLOOR, (4, True), lanes=2),
}


def make_case(name: str, seed: int) -> dict:
    """Return the case with a random bias per unit, its exact sum width and a random table."""
    c = dict(CASES[name], seed=seed, random_steps=30)
    rng = np.random.default_rng(seed)
    bias = np.zeros(c["h"], dtype=np.int64)
    if c["bias_range"] is not None:
        bias = rng.integers(c["bias_range"][0], c["bias_range"][1] + 1, size=c["h"])
    (xl, xh), (hl, hh) = c["x_range"], c["h_range"]
    lo = (xl << c["x_shift"]) + (hl << c["h_shift"]) + bias
    hi = (xh << c["x_shift"]) + (hh << c["h_shift"]) + bias
    # -1: a signed type, as the core takes the sum (hwgen.passes.lower_lstm uses 0)
    sum_type = type_for_range(min(int(lo.min()), -1), max(int(hi.max()), 0), c["sum_exp"])
    acc, act = IntType(*c["acc"]), IntType(*c["act"])
    c.update(bias=bias.tolist(), sum_w=sum_type.width, acc_shift=acc.exp - c["sum_exp"],
             rounding_code=Rounding(c["rounding"]).code,
             table=rng.integers(act.min, act.max + 1, size=acc.levels).tolist())
    return c


def parameters(c: dict) -> dict:
    """Return the hwgen_gate parameters of a case."""
    acc = IntType(*c["acc"])
    return dict(H=c["h"], LANES=c["lanes"], AX_W=c["ax_w"], AH_W=c["ah_w"], X_SHIFT=c["x_shift"],
                H_SHIFT=c["h_shift"], SUM_W=c["sum_w"], BIAS=packed_literal(c["bias"], c["sum_w"]),
                ACC_SHIFT=c["acc_shift"], ROUNDING=c["rounding_code"], ACC_W=acc.width,
                ACC_SIGNED=acc.signed, ACC_MIN=acc.min, ACC_MAX=acc.max, ACT_W=c["act"][0],
                TABLE=packed_literal(c["table"], c["act"][0]))


@pytest.mark.parametrize("name", CASES)
def test_gate(name, request):
    """Every pair in every unit, then random pairs: simulation == the gate step, GATE_LATENCY
    cycles late."""
    seed = int(os.environ.get("HWGEN_SEED", 4000 + list(CASES).index(name)))
    c = make_case(name, seed)
    run_cocotb("hwgen_gate", SOURCES, parameters(c), "rtl_tests.cocotb_gate",
               sim_build_dir(f"rtl_tests/{request.node.name}"), c)
