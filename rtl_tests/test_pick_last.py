"""hwgen_pick_last in simulation: only every sequence's last element passes, with tlast.

Sequences and data come from a per-case seed; set HWGEN_SEED to try another one.
"""
import os

import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir

SOURCES = [RTL_LIB / "hwgen_pick_last.sv"]

CASES = {  # width, longest sequence
    "w9": dict(w=9, max_len=10),
}


@pytest.mark.parametrize("name", CASES)
def test_pick_last(name, request):
    """The output == the last element of every sequence through stalls, with ==."""
    seed = int(os.environ.get("HWGEN_SEED", 7600 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed, sequences=400)
    run_cocotb("hwgen_pick_last", SOURCES, dict(W=c["w"]), "rtl_tests.cocotb_pick_last",
               sim_build_dir(f"rtl_tests/{request.node.name}"), c)
