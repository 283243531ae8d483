"""hwgen_mvu in simulation: fully parallel, fully folded and in between, against the reference.

Weights and vectors are random from a per-case seed; set HWGEN_SEED to try another one.
"""
import json
import os

import numpy as np
import pytest

from hwgen.cores import mvu_cycles, mvu_latency
from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType, type_for_range

CASES = {  # rows, cols, PE, SIMD, weight and input widths
    "parallel": dict(rows=4, cols=6, pe=4, simd=6, w_w=4, in_w=4, in_signed=True),
    "pe1_simd1": dict(rows=3, cols=4, pe=1, simd=1, w_w=3, in_w=5, in_signed=True),
    "pe2_simd3_unsigned": dict(rows=4, cols=6, pe=2, simd=3, w_w=5, in_w=3, in_signed=False),
}


def accumulator(weights: np.ndarray, x_type: IntType) -> IntType:
    """Return the narrowest type holding every row sum of weights @ x over all x of x_type."""
    lo = np.minimum(weights * x_type.min, weights * x_type.max).sum(axis=1)
    hi = np.maximum(weights * x_type.min, weights * x_type.max).sum(axis=1)
    return type_for_range(int(lo.min()), int(hi.max()))


def make_case(name: str, seed: int) -> dict:
    """Return the case: random weights with one row of the most negative weight (tight sums)."""
    case = dict(CASES[name], seed=seed, vectors=30)
    w_type = IntType(case["w_w"], True)
    rng = np.random.default_rng(seed)
    weights = rng.integers(w_type.min, w_type.max + 1, size=(case["rows"], case["cols"]))
    weights[0, :] = w_type.min
    case["weights"] = weights.tolist()
    case["acc_w"] = accumulator(weights, IntType(case["in_w"], case["in_signed"])).width
    return case


def parameters(case: dict) -> dict:
    """Return the hwgen_mvu parameters of a case."""
    weights = np.array(case["weights"]).reshape(-1)
    return dict(ROWS=case["rows"], COLS=case["cols"], PE=case["pe"], SIMD=case["simd"],
                W_W=case["w_w"], IN_W=case["in_w"], IN_SIGNED=case["in_signed"],
                ACC_W=case["acc_w"], WEIGHTS=packed_literal(weights, case["w_w"]))


@pytest.mark.parametrize("name", CASES)
def test_mvu(name, request):
    """Reference == simulation through stalls; simulated cycles == the cycle model."""
    seed = int(os.environ.get("HWGEN_SEED", 1000 + list(CASES).index(name)))
    case = make_case(name, seed)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    run_cocotb("hwgen_mvu", [RTL_LIB / "hwgen_mvu.sv"], parameters(case), "rtl_tests.cocotb_mvu",
               build, case)
    measured = json.loads((build / "measured.json").read_text())
    shape = (case["rows"], case["cols"], case["pe"], case["simd"])
    assert set(measured["intervals"]) == {mvu_cycles(*shape)}
    assert set(measured["latencies"]) == {mvu_latency(*shape)}


def test_mvu_rejects_inexact_folding(request):
    """The core's own parameter check stops a simulation whose PE does not divide the rows."""
    case = make_case("pe1_simd1", 7)
    case["pe"] = 2  # rows is 3: elaborates, then the check refuses it
    with pytest.raises(AssertionError, match=r"folding ROWS=\d+/PE=\d+"):
        run_cocotb("hwgen_mvu", [RTL_LIB / "hwgen_mvu.sv"], parameters(case),
                   "rtl_tests.cocotb_mvu", sim_build_dir(f"rtl_tests/{request.node.name}"), case)
