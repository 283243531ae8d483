"""hwgen_mvu in simulation: fully parallel, fully folded and in between, against the reference.

Folded units read their weights from a ROM file written by hwgen.codegen.rtl.rom_text; the
cases cover every kind of adder-tree pipelining (REG_EVERY) and SIMD not a power of two.
Weights and vectors are random from a per-case seed; set HWGEN_SEED to try another one.
"""
import json
import os

import numpy as np
import pytest

from hwgen.codegen.rtl import rom_text
from hwgen.cores import MUL_DSP, MUL_LUT, MVU_REG_EVERY, mul_slices, mvu_cycles, mvu_latency
from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType, type_for_range

SOURCES = [RTL_LIB / "hwgen_mul_pp.sv", RTL_LIB / "hwgen_mvu.sv"]
CASES = {  # rows, cols, PE, SIMD, weight and input widths (REG_EVERY: the core's default;
    # mul_style: MUL_STYLE, absent: MUL_DSP)
    "parallel": dict(rows=4, cols=6, pe=4, simd=6, w_w=4, in_w=4, in_signed=True),
    "parallel_simd16_unregistered": dict(rows=3, cols=16, pe=3, simd=16, w_w=4, in_w=4,
                                         in_signed=True, reg_every=0),
    "pe1_simd1": dict(rows=3, cols=4, pe=1, simd=1, w_w=3, in_w=5, in_signed=True),
    "pe2_simd3_unsigned": dict(rows=4, cols=6, pe=2, simd=3, w_w=5, in_w=3, in_signed=False),
    "pe4_simd1_rows_only": dict(rows=8, cols=2, pe=4, simd=1, w_w=4, in_w=4, in_signed=True),
    "pe1_simd12_cols_only": dict(rows=2, cols=24, pe=2, simd=12, w_w=4, in_w=8, in_signed=True),
    "pe1_simd2_block_rom": dict(rows=16, cols=8, pe=1, simd=2, w_w=3, in_w=4, in_signed=True),
    "pe2_simd8_reg2": dict(rows=6, cols=16, pe=2, simd=8, w_w=6, in_w=4, in_signed=False,
                           reg_every=2),
    # products in logic (hwgen_mul_pp): the weight sliced (4 bits: 2 slices), the unsigned
    # input sliced (2 bits, 3 signed: 2 slices), 3 slices with SIMD not a power of two
    "lut_parallel": dict(rows=4, cols=6, pe=4, simd=6, w_w=4, in_w=8, in_signed=True,
                         mul_style=MUL_LUT),
    "lut_pe2_simd4_uint_in_sliced": dict(rows=4, cols=8, pe=2, simd=4, w_w=6, in_w=2,
                                         in_signed=False, mul_style=MUL_LUT),
    "lut_pe1_simd3_w5_reg2": dict(rows=2, cols=6, pe=1, simd=3, w_w=5, in_w=6, in_signed=True,
                                  mul_style=MUL_LUT, reg_every=2),
    # no result register (HOLD = 0): out_data is the row folds' register; with one column fold
    # the next vector's first row fold is written in the cycle after a result's out_valid rises
    "pe4_simd1_rows_only_no_hold": dict(rows=8, cols=2, pe=4, simd=1, w_w=4, in_w=4,
                                        in_signed=True, hold=False),
    "pe2_simd3_unsigned_no_hold": dict(rows=4, cols=6, pe=2, simd=3, w_w=5, in_w=3,
                                       in_signed=False, hold=False),
    "lut_pe2_simd4_no_hold": dict(rows=8, cols=8, pe=2, simd=4, w_w=4, in_w=8, in_signed=True,
                                  mul_style=MUL_LUT, hold=False),
}


def accumulator(weights: np.ndarray, x_type: IntType) -> IntType:
    """Return the narrowest type holding every row sum of weights @ x over all x of x_type."""
    lo = np.minimum(weights * x_type.min, weights * x_type.max).sum(axis=1)
    hi = np.maximum(weights * x_type.min, weights * x_type.max).sum(axis=1)
    return type_for_range(int(lo.min()), int(hi.max()))


def make_case(name: str, seed: int) -> dict:
    """Return the case: random weights with one row of the most negative weight (tight sums)."""
    case = dict({"reg_every": MVU_REG_EVERY, "mul_style": MUL_DSP, "hold": True}, **CASES[name],
                seed=seed, vectors=30)
    case["slices"] = mul_slices(case["mul_style"], case["w_w"],
                                case["in_w"] + (not case["in_signed"]))
    w_type = IntType(case["w_w"], True)
    rng = np.random.default_rng(seed)
    weights = rng.integers(w_type.min, w_type.max + 1, size=(case["rows"], case["cols"]))
    weights[0, :] = w_type.min
    case["weights"] = weights.tolist()
    case["acc_w"] = accumulator(weights, IntType(case["in_w"], case["in_signed"])).width
    return case


def folds(case: dict) -> int:
    return (case["rows"] // case["pe"]) * (case["cols"] // case["simd"])


def parameters(case: dict, build) -> dict:
    """Return the hwgen_mvu parameters of a case: a folded unit's ROM file goes into build."""
    params = dict(ROWS=case["rows"], COLS=case["cols"], PE=case["pe"], SIMD=case["simd"],
                  W_W=case["w_w"], IN_W=case["in_w"], IN_SIGNED=case["in_signed"],
                  ACC_W=case["acc_w"])
    if case["reg_every"] != MVU_REG_EVERY:
        params["REG_EVERY"] = case["reg_every"]
    if case["mul_style"] != MUL_DSP:
        params["MUL_STYLE"] = case["mul_style"]
    if not case["hold"]:
        params["HOLD"] = 0
    if folds(case) == 1:
        weights = np.array(case["weights"]).reshape(-1)
        return dict(params, WEIGHTS=packed_literal(weights, case["w_w"]))
    rom = build / "weights.hex"
    build.mkdir(parents=True, exist_ok=True)
    rom.write_text(rom_text(case["weights"], case["pe"], case["simd"], case["w_w"]))
    return dict(params, INIT_FILE=f'"{rom}"')


@pytest.mark.parametrize("name", CASES)
def test_mvu(name, request):
    """Reference == simulation through stalls; simulated cycles == the cycle model."""
    seed = int(os.environ.get("HWGEN_SEED", 1000 + list(CASES).index(name)))
    case = make_case(name, seed)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    run_cocotb("hwgen_mvu", SOURCES, parameters(case, build),
               "rtl_tests.cocotb_mvu", build, case)
    measured = json.loads((build / "measured.json").read_text())
    shape = (case["rows"], case["cols"], case["pe"], case["simd"])
    assert set(measured["intervals"]) == {mvu_cycles(*shape)}
    assert set(measured["latencies"]) == {mvu_latency(*shape, case["reg_every"], case["slices"])}


def test_mvu_rejects_inexact_folding(request):
    """The core's own parameter check stops a simulation whose PE does not divide the rows."""
    case = make_case("pe1_simd1", 7)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    params = dict(parameters(case, build), PE=2)  # rows is 3: elaborates, then the check refuses
    case["pe"] = 2
    with pytest.raises(AssertionError, match=r"folding ROWS=\d+/PE=\d+"):
        run_cocotb("hwgen_mvu", SOURCES, params, "rtl_tests.cocotb_mvu",
                   build, case)


def test_folded_unit_without_rom_file_is_refused(request):
    """A folded unit given no INIT_FILE stops in its own parameter check."""
    case = make_case("pe1_simd1", 8)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    params = {k: v for k, v in parameters(case, build).items() if k != "INIT_FILE"}
    with pytest.raises(AssertionError, match=r"needs INIT_FILE"):
        run_cocotb("hwgen_mvu", SOURCES, params, "rtl_tests.cocotb_mvu",
                   build, case)
