"""hwgen_stream_zip in simulation: two streams joined element by element, {b, a}, with a's tlast.

Sequences and data come from a per-case seed; set HWGEN_SEED to try another one.
"""
import os

import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir

SOURCES = [RTL_LIB / "hwgen_stream_zip.sv"]

CASES = {  # widths of a (low bits) and b (high bits), longest sequence
    "a5_b11": dict(wa=5, wb=11, max_len=12),
    "a33_b2": dict(wa=33, wb=2, max_len=7),  # the join crosses a 32-bit word of the simulator
}


@pytest.mark.parametrize("name", CASES)
def test_stream_zip(name, request):
    """The output == {b, a} pairs with a's tlast through stalls, with ==."""
    seed = int(os.environ.get("HWGEN_SEED", 7500 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed, sequences=300)
    run_cocotb("hwgen_stream_zip", SOURCES, dict(WA=c["wa"], WB=c["wb"]),
               "rtl_tests.cocotb_stream_zip", sim_build_dir(f"rtl_tests/{request.node.name}"), c)
