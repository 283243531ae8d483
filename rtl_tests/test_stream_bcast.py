"""hwgen_stream_bcast in simulation: one stream copied to two, each output stalling on its own.

Sequences and data come from a per-case seed; set HWGEN_SEED to try another one.
"""
import os

import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir

SOURCES = [RTL_LIB / "hwgen_stream_bcast.sv"]

CASES = {  # width, longest sequence
    "w13": dict(w=13, max_len=12),
}


@pytest.mark.parametrize("name", CASES)
def test_stream_bcast(name, request):
    """Both outputs == the input stream (data and tlast) through stalls, with ==."""
    seed = int(os.environ.get("HWGEN_SEED", 7400 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed, sequences=300)
    run_cocotb("hwgen_stream_bcast", SOURCES, dict(W=c["w"]), "rtl_tests.cocotb_stream_bcast",
               sim_build_dir(f"rtl_tests/{request.node.name}"), c)
