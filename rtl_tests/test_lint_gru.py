"""`verilator --lint-only -Wall` on the GRU cores (hwgen_gru_cell, hwgen_gru_engine), with
several parameter sets, as rtl_tests/test_lint.py does for the others."""
import pytest

from hwgen.sim.tools import RTL_LIB, verilator_lint

GATE_PARTS = ("hwgen_gate", "hwgen_requant", "hwgen_lut", "hwgen_lut_vec", "hwgen_lanes",
              "hwgen_lane_sel", "hwgen_lane_shift")
STAGE_PARTS = ("hwgen_requant", "hwgen_lanes", "hwgen_lane_sel", "hwgen_lane_shift", "hwgen_mul",
               "hwgen_mul_pp")
CELL_PARTS = GATE_PARTS + ("hwgen_mul", "hwgen_mul_pp", "hwgen_gru_hn", "hwgen_gru_prod",
                           "hwgen_gru_blend")
ENGINE_PARTS = ("hwgen_requant", "hwgen_lut", "hwgen_lanes", "hwgen_lane_sel",
                "hwgen_lane_shift", "hwgen_mul_pp", "hwgen_mul", "hwgen_mvu", "hwgen_head",
                "hwgen_lstm_ctrl", "hwgen_state_init")
LINT_CASES = {
    "gru_cell_defaults": ("hwgen_gru_cell", {}),
    "gru_cell_lut_products": ("hwgen_gru_cell", dict(
        H=3, AX_W=9, AH_W=7, H_W=4, R_W=3, Z_W=5, N_W=4, HN_W=5, HN_MIN=-16, HN_MAX=15,
        RH_MUL_STYLE=1, RH_MUL_LATENCY=3, B_MUL_STYLE=1, B_MUL_LATENCY=3, OMZ_W=7, ONE=32,
        Z_SHIFT=0, NZ_SHIFT=2, ZH_SHIFT=1, B_SUM_W=14, B_SHIFT=5, H_MIN=-8, H_MAX=7)),
    "gru_cell_one_unit_unsigned_h": ("hwgen_gru_cell", dict(
        H=1, H_W=3, H_SIGNED=0, H_MIN=0, H_MAX=7, HN_SHIFT=2, N_RH_SHIFT=1, Z_SHIFT=1,
        OMZ_W=11, B_SUM_W=30)),
    "gru_cell_lanes": ("hwgen_gru_cell", dict(H=6, LANES=2, RH_MUL_STYLE=1, RH_MUL_LATENCY=3)),
    "gru_cell_one_lane": ("hwgen_gru_cell", dict(H=3, LANES=1)),
    "gru_hn_defaults": ("hwgen_gru_hn", {}),
    "gru_hn_lanes": ("hwgen_gru_hn", dict(H=6, LANES=3, AH_W=7, SHIFT=2, SUM_W=11, ACC_SHIFT=3,
                                          OUT_W=4, OUT_SIGNED=0, OUT_MIN=0, OUT_MAX=15)),
    "gru_prod_defaults": ("hwgen_gru_prod", {}),
    "gru_prod_lanes_lut": ("hwgen_gru_prod", dict(N=4, LANES=1, A_W=3, B_W=5, MUL_STYLE=1,
                                                  MUL_LATENCY=2)),
    "gru_blend_defaults": ("hwgen_gru_blend", {}),
    "gru_blend_lanes": ("hwgen_gru_blend", dict(H=8, LANES=2, Z_W=3, N_W=4, H_W=5, ONE=8,
                                                OMZ_W=5, NZ_SHIFT=1, SUM_W=12, SHIFT=3,
                                                H_MIN=-16, H_MAX=15)),
    "gru_engine_defaults": ("hwgen_gru_engine", {}),
    "gru_engine_folded": ("hwgen_gru_engine", dict(H=4, OUT_N=4, MX_PE=2, MH_PE=2,
                                                   MX_WEIGHTS_BITS=1, MH_WEIGHTS_BITS=1)),
    "gru_engine_head_init": ("hwgen_gru_engine", dict(H=3, MX_PE=3, MH_PE=1, MH_SIMD=3, HEAD=1,
                                                      INIT=1, OUT_N=2, OUT_W=24)),
}


@pytest.mark.parametrize("name", LINT_CASES)
def test_gru_cores_lint_clean(name):
    """No warning at all under -Wall (a scoped lint_off in a core must give its reason)."""
    top, parameters = LINT_CASES[name]
    parts = (ENGINE_PARTS if top.endswith("_engine") else CELL_PARTS if top.endswith("_cell")
             else STAGE_PARTS)
    status, messages = verilator_lint([RTL_LIB / f"{m}.sv" for m in (top, *parts)], top,
                                      parameters)
    assert status == 0 and "%Warning" not in messages and "%Error" not in messages, messages
