"""hwgen_head in simulation: scores and argmax class through stalls, ties included, and latency.

Weights, biases and vectors come from a per-case seed; set HWGEN_SEED to try another one. Every
case gives two classes the top bias (the all-zero vector ties them) and most also the same weights,
so equal top scores (the first one wins) occur often. A head with one output (C = 1, a regression
model's) has no tie: its class is always 0.
ACC_W and SCORE_W hold the exact ranges, as hwgen.passes.lower derives them, but always as signed
types (the core takes sums and scores as two's complement) and with SCORE_W >= ACC_W + MV_SHIFT
(the core's own parameter check).
"""
import json
import math
import os

import numpy as np
import pytest

from hwgen.cores import MUL_LUT, head_latency, mul_slices
from hwgen.reference.kernels import matvec_range
from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType, type_for_range

SOURCES = [RTL_LIB / "hwgen_mul_pp.sv", RTL_LIB / "hwgen_head.sv"]

CASES = {  # classes, hidden units, input and weight types, shift, bias range (None: no bias),
    # twins: two classes given the top bias (the all-zero vector ties them; the second never wins
    # a tie) and, with equal_rows, the same weights (they tie whenever they lead)
    "c4_uint_in_shift1_no_bias": dict(c=4, h=3, in_w=3, in_signed=False, w_w=4, mv_shift=1,
                                      bias_range=None, twins=(1, 3), equal_rows=True),
    "c5_negative_scores": dict(c=5, h=2, in_w=3, in_signed=True, w_w=2, mv_shift=2,
                               bias_range=(-40, -20), twins=(2, 4), equal_rows=True),
    "c2_one_unit": dict(c=2, h=1, in_w=4, in_signed=True, w_w=5, mv_shift=0,
                        bias_range=(-20, 20), twins=(0, 1), equal_rows=False),
    # levels: the head's TREE_LEVELS (adder levels between registers; absent: its default)
    "c3_h13_deep_tree": dict(c=3, h=13, in_w=4, in_signed=True, w_w=3, mv_shift=3,
                             bias_range=(-100, 100), twins=(0, 2), equal_rows=False),
    "c6_h5_register_every_level": dict(c=6, h=5, in_w=2, in_signed=False, w_w=6, mv_shift=0,
                                       bias_range=(0, 9), twins=(3, 5), equal_rows=True,
                                       levels=1),
    # lut_mul: MUL_STYLE 1, products as hwgen_mul_pp's slices of the narrower operand (even and
    # odd weight widths; the last slices the 3-bit unsigned input, 4 bits signed, not the weight)
    "c5_h6_lut_mul_even": dict(c=5, h=6, in_w=5, in_signed=True, w_w=4, mv_shift=1,
                               bias_range=(-50, 50), twins=(1, 4), equal_rows=False,
                               lut_mul=True),
    "c3_h4_lut_mul_odd": dict(c=3, h=4, in_w=3, in_signed=False, w_w=5, mv_shift=0,
                              bias_range=(-9, 9), twins=(0, 2), equal_rows=True, lut_mul=True),
    # one output (task regress): twins (0, 0) leave the weights alone
    "c1_h7_one_output": dict(c=1, h=7, in_w=4, in_signed=True, w_w=5, mv_shift=1,
                             bias_range=(-60, 60), twins=(0, 0), equal_rows=True),
    "c1_h16_one_output_lut_mul": dict(c=1, h=16, in_w=3, in_signed=False, w_w=4, mv_shift=0,
                                      bias_range=(-9, 9), twins=(0, 0), equal_rows=True,
                                      lut_mul=True, levels=1),
    "c4_h9_lut_mul_input_sliced": dict(c=4, h=9, in_w=3, in_signed=True, w_w=7, mv_shift=2,
                                       bias_range=(-30, 30), twins=(1, 2), equal_rows=False,
                                       lut_mul=True),
}


def make_case(name: str, seed: int) -> dict:
    """Return the case: random weights and bias with tied twins, and the exact widths."""
    c = dict(CASES[name], seed=seed, vectors=60)
    rng = np.random.default_rng(seed)
    w_type, x_type = IntType(c["w_w"], True), IntType(c["in_w"], c["in_signed"])
    weights = rng.integers(w_type.min, w_type.max + 1, size=(c["c"], c["h"]))
    bias = np.zeros(c["c"], dtype=np.int64)
    if c["bias_range"] is not None:
        bias = rng.integers(c["bias_range"][0], c["bias_range"][1] + 1, size=c["c"])
    first, second = c["twins"]
    if c["equal_rows"]:
        weights[second] = weights[first]
    elif (weights[second] == weights[first]).all():
        weights[second, 0] = -weights[second, 0] - 1  # differs, and stays in w_type's range
    bias[first] = bias[second] = bias.max()  # the all-zero vector ties them at the top
    lo, hi = matvec_range(weights, x_type)
    acc = type_for_range(min(int(lo.min()), -1), max(int(hi.max()), 0))  # -1: a signed type
    lo, hi = (lo << c["mv_shift"]) + bias, (hi << c["mv_shift"]) + bias
    score = type_for_range(min(int(lo.min()), -1), max(int(hi.max()), 0))
    c.update(weights=weights.tolist(), bias=bias.tolist(), acc_w=acc.width,
             score_w=max(score.width, acc.width + c["mv_shift"]),
             class_w=max(1, math.ceil(math.log2(c["c"]))))
    return c


def parameters(c: dict) -> dict:
    """Return the hwgen_head parameters of a case."""
    levels = {"TREE_LEVELS": c["levels"]} if "levels" in c else {}
    levels.update({"MUL_STYLE": MUL_LUT} if c.get("lut_mul") else {})
    return dict(C=c["c"], H=c["h"], IN_W=c["in_w"], IN_SIGNED=c["in_signed"], W_W=c["w_w"],
                WEIGHTS=packed_literal(np.reshape(c["weights"], -1), c["w_w"]), ACC_W=c["acc_w"],
                MV_SHIFT=c["mv_shift"], SCORE_W=c["score_w"],
                BIAS=packed_literal(c["bias"], c["score_w"]), CLASS_W=c["class_w"], **levels)


def modelled_latency(c: dict) -> int:
    """Return hwgen.cores.head_latency for a case (its classes, width, tree, product style)."""
    slices = mul_slices(MUL_LUT, c["w_w"], c["in_w"] + (not c["in_signed"])) if c.get("lut_mul") \
        else 1
    return head_latency(c["c"], c["h"], *([c["levels"]] if "levels" in c else []), slices=slices)


@pytest.mark.parametrize("name", CASES)
def test_head(name, request):
    """Reference == simulation through stalls; measured latency == hwgen.cores.head_latency."""
    seed = int(os.environ.get("HWGEN_SEED", 7000 + list(CASES).index(name)))
    c = make_case(name, seed)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    run_cocotb("hwgen_head", SOURCES, parameters(c), "rtl_tests.cocotb_head", build, c)
    measured = json.loads((build / "measured.json").read_text())
    model = modelled_latency(c)
    assert set(measured["latencies"]) == {model}
    # the next vector is taken the cycle after the result has left (hwgen_head.sv's header)
    assert set(measured["intervals"]) == {model + 1}
