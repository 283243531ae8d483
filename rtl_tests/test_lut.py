"""hwgen_lut in simulation: signed, unsigned and narrow index types against the reference.

Tables and codes are random from a per-case seed; set HWGEN_SEED to try another one.
"""
import os

import numpy as np
import pytest

from hwgen.sim.tools import RTL_LIB, packed_literal, run_cocotb, sim_build_dir
from hwgen.types import IntType

CASES = {  # index type, output width and signedness
    "int6_to_int5": dict(in_w=6, in_signed=True, in_narrow=False, out_w=5, out_signed=True),
    "uint5n_to_uint4": dict(in_w=5, in_signed=False, in_narrow=True, out_w=4, out_signed=False),
    "int4n_to_int7": dict(in_w=4, in_signed=True, in_narrow=True, out_w=7, out_signed=True),
}


def make_case(name: str, seed: int) -> dict:
    """Return the case with a random table over every code of the index type."""
    case = dict(CASES[name], seed=seed, codes=150)
    index = IntType(case["in_w"], case["in_signed"], 0, case["in_narrow"])
    out = IntType(case["out_w"], case["out_signed"])
    rng = np.random.default_rng(seed)
    case["table"] = rng.integers(out.min, out.max + 1, size=index.levels).tolist()
    case["in_min"] = index.min
    return case


def parameters(case: dict) -> dict:
    """Return the hwgen_lut parameters of a case."""
    return dict(IN_W=case["in_w"], IN_SIGNED=case["in_signed"], IN_MIN=case["in_min"],
                DEPTH=len(case["table"]), OUT_W=case["out_w"],
                TABLE=packed_literal(case["table"], case["out_w"]))


@pytest.mark.parametrize("name", CASES)
def test_lut(name, request):
    """Every code, then random codes, through stalls: simulation == kernels.lut, one per cycle."""
    seed = int(os.environ.get("HWGEN_SEED", 2000 + list(CASES).index(name)))
    case = make_case(name, seed)
    run_cocotb("hwgen_lut", [RTL_LIB / "hwgen_lut.sv"], parameters(case), "rtl_tests.cocotb_lut",
               sim_build_dir(f"rtl_tests/{request.node.name}"), case)
