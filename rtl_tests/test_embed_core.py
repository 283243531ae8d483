"""hwgen_embed in simulation: every token id's row of a random table, through stalls, with ==.

The table and tokens come from a per-case seed; set HWGEN_SEED to try another one.
"""
import os
import random

import pytest

from hwgen.codegen.rtl import rom_text
from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir

SOURCES = [RTL_LIB / "hwgen_embed.sv"]

CASES = {  # vocab, token bits, codes per row, bits per code
    "vocab13_d3_w7": dict(vocab=13, t_w=4, d=3, e_w=7),
    "vocab2_d1_w1": dict(vocab=2, t_w=1, d=1, e_w=1),
    "vocab16_d9_w8": dict(vocab=16, t_w=4, d=9, e_w=8),
}


@pytest.mark.parametrize("name", CASES)
def test_embed_core(name, request):
    """The output == the table row of every token, with its tlast, through stalls."""
    seed = int(os.environ.get("HWGEN_SEED", 7700 + list(CASES).index(name)))
    c = CASES[name]
    rng = random.Random(seed)
    codes = [[rng.randrange(1 << c["e_w"]) for _ in range(c["d"])] for _ in range(c["vocab"])]
    # row t packed as the core reads it: code k at [k*E_W +: E_W]
    rows = [sum(v << (k * c["e_w"]) for k, v in enumerate(row)) for row in codes]
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    (build / "mem").mkdir(parents=True, exist_ok=True)
    (build / "mem" / "t.hex").write_text(rom_text(codes, 1, c["d"], c["e_w"]))
    params = dict(VOCAB=c["vocab"], T_W=c["t_w"], D=c["d"], E_W=c["e_w"],
                  TABLE_FILE='"mem/t.hex"')
    run_cocotb("hwgen_embed", SOURCES, params, "rtl_tests.cocotb_embed", build,
               dict(seed=seed, rows=rows))
