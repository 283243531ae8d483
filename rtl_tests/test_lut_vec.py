"""hwgen_lut_vec in simulation: N parallel lookups, every code in every lane, LUT_LATENCY cycles
of latency (the core's LATENCY).

Tables and random codes come from a per-case seed; set HWGEN_SEED to try another one.
"""
import os

import numpy as np
import pytest

from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType

SOURCES = [RTL_LIB / n for n in ("hwgen_lut.sv", "hwgen_lanes.sv", "hwgen_lane_sel.sv",
                                "hwgen_lane_shift.sv",
                                 "hwgen_lut_vec.sv")]

CASES = {  # lanes, index type (width, signedness, narrow), output width and signedness
    "int5_3lanes_to_int6": dict(n=3, in_w=5, in_signed=True, in_narrow=False, out_w=6,
                                out_signed=True),
    "uint4n_1lane_to_uint3": dict(n=1, in_w=4, in_signed=False, in_narrow=True, out_w=3,
                                  out_signed=False),
    # LANES < N: the elements in chunks, one a cycle
    "int5_6_by_2lanes_to_int6": dict(n=6, lanes=2, in_w=5, in_signed=True, in_narrow=False,
                                     out_w=6, out_signed=True),
    "uint4n_4_by_1lane_to_uint3": dict(n=4, lanes=1, in_w=4, in_signed=False, in_narrow=True,
                                       out_w=3, out_signed=False),
}


def make_case(name: str, seed: int) -> dict:
    """Return the case with a random table over every code of the index type."""
    case = dict(CASES[name], seed=seed, random_steps=40)
    index = IntType(case["in_w"], case["in_signed"], 0, case["in_narrow"])
    out = IntType(case["out_w"], case["out_signed"])
    rng = np.random.default_rng(seed)
    case["table"] = rng.integers(out.min, out.max + 1, size=index.levels).tolist()
    case["in_min"] = index.min
    return case


def parameters(case: dict) -> dict:
    """Return the hwgen_lut_vec parameters of a case."""
    return dict(N=case["n"], LANES=case.get("lanes", case["n"]), IN_W=case["in_w"],
                IN_SIGNED=case["in_signed"],
                IN_MIN=case["in_min"], DEPTH=len(case["table"]), OUT_W=case["out_w"],
                TABLE=packed_literal(case["table"], case["out_w"]))


@pytest.mark.parametrize("name", CASES)
def test_lut_vec(name, request):
    """Every code in every lane, then random codes: simulation == kernels.lut, LUT_LATENCY
    cycles late."""
    seed = int(os.environ.get("HWGEN_SEED", 3000 + list(CASES).index(name)))
    case = make_case(name, seed)
    run_cocotb("hwgen_lut_vec", SOURCES, parameters(case), "rtl_tests.cocotb_lut_vec",
               sim_build_dir(f"rtl_tests/{request.node.name}"), case)
