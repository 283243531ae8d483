"""hwgen_seq_buf in simulation: whole sequences replayed in order or reversed, through stalls,
with one or two banks; overlong sequences; cycle counts without stalls.

Sequences and data come from a per-case seed; set HWGEN_SEED to try another one.
"""
import json
import os

import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir

SOURCES = [RTL_LIB / "hwgen_seq_buf.sv"]
LATENCY = 2  # s_tlast transfer -> first replayed transfer, as the core's header says

CASES = {  # width, depth, replay order, banks (2: the next sequence fills during the replay);
    # each order and each bank count meets each size once (a build takes ~6 s of the budget)
    "w8_d5_forward": dict(w=8, depth=5, reverse=False, banks=2),
    "w8_d5_reverse_one_bank": dict(w=8, depth=5, reverse=True, banks=1),
    "w37_d32_forward_one_bank": dict(w=37, depth=32, reverse=False, banks=1),
    "w37_d32_reverse": dict(w=37, depth=32, reverse=True, banks=2),
}


@pytest.mark.parametrize("name", CASES)
def test_seq_buf(name, request):
    """Every replay == the reference replay through stalls; latency == the core's LATENCY."""
    seed = int(os.environ.get("HWGEN_SEED", 7300 + list(CASES).index(name)))
    c = dict(CASES[name], seed=seed, sequences=2400 // CASES[name]["depth"])  # ~1200 elements
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    parameters = dict(W=c["w"], DEPTH=c["depth"], REVERSE=c["reverse"], BANKS=c["banks"])
    run_cocotb("hwgen_seq_buf", SOURCES, parameters, "rtl_tests.cocotb_seq_buf", build, c)
    measured = json.loads((build / "measured.json").read_text())
    assert measured["latency"] == LATENCY, f"seed {seed}: {measured}"
