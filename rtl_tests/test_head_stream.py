"""hwgen_head_stream in simulation: a per-step head (task per_step) on sequences of vectors.

Every vector's scores and class == hwgen.ir.graph.execute_head's, each sequence's last one with
tlast, through random idle input cycles and backpressure; with no stalls, latency ==
hwgen.cores.head_latency and one vector taken every head_latency + 1 cycles. Weights, biases and
vectors come from a per-case seed (hwgen_head's cases, rtl_tests/test_head.py); set HWGEN_SEED
to try another one.
"""
import json
import os

import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir
from rtl_tests.test_head import make_case, modelled_latency, parameters

SOURCES = [RTL_LIB / "hwgen_mul_pp.sv", RTL_LIB / "hwgen_head.sv",
           RTL_LIB / "hwgen_head_stream.sv"]

CASES = ("c1_h7_one_output", "c5_negative_scores", "c3_h4_lut_mul_odd")


@pytest.mark.parametrize("name", CASES)
def test_head_stream(name, request):
    """Reference == simulation through stalls, tlast carried; measured latency and cycles per
    vector == the cycle model's."""
    seed = int(os.environ.get("HWGEN_SEED", 7700 + CASES.index(name)))
    c = dict(make_case(name, seed), sequences=30, max_len=6)
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    run_cocotb("hwgen_head_stream", SOURCES, parameters(c), "rtl_tests.cocotb_head_stream",
               build, c)
    measured = json.loads((build / "measured.json").read_text())
    model = modelled_latency(c)
    assert set(measured["latencies"]) == {model}
    assert set(measured["intervals"]) == {model + 1}
