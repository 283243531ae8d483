"""IR records refuse to be built when their invariants fail, naming the stage or layer."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hwgen.gates import GATES, LSTM_CELL, RNN_CELL, Gate, gate_rows
from hwgen.ir.graph import execute
from hwgen.passes.fold import fold
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType
from ir_fixtures import load_fixture


@pytest.fixture(scope="module")
def lstm():
    return load_fixture("lstm_head")


@pytest.fixture(scope="module")
def rnn():
    return load_fixture("rnn_head")


def _refused(match: str, build):
    with pytest.raises(HwgenError, match=match) as info:
        build()
    assert "\n" not in str(info.value)


def test_matvec(lstm):
    mv = lstm.layers[0].x_mv
    _refused(r"IR stage 'l0.x_mv': weights of block 0 do not fit int4n\*2\^-4",
             lambda: replace(mv, weights=mv.weights * 8))
    _refused("'l0.x_mv': accumulator int4.* does not hold the exact range",
             lambda: replace(mv, acc_type=IntType(4, True)))
    _refused("'l0.x_mv': accumulator uint16.* as a signed number",
             lambda: replace(mv, acc_type=IntType(16, False)))
    _refused("'l0.x_mv': PE=5 does not divide 32", lambda: replace(mv, pe=5))
    _refused("'l0.x_mv': SIMD=5 does not divide 12", lambda: replace(mv, simd=5))
    _refused("'l0.x_mv': 1 weight types for 4 row blocks",
             lambda: replace(mv, weight_types=mv.weight_types[:1]))
    _refused("'l0.x_mv': weights must be a 2-D integer array",
             lambda: replace(mv, weights=mv.weights.astype(float)))


def test_matvec_keeps_each_gate_weight_type(lstm):
    mv = lstm.layers[0].x_mv
    types = tuple(t.with_exp(-4 - k) for k, t in enumerate(mv.weight_types))
    mixed = replace(mv, weight_types=types)
    assert mixed.weight_type == IntType(4, True, 0, True)  # the storage type, as before
    assert "w=int4n*2^-4,int4n*2^-5,int4n*2^-6,int4n*2^-7 " in mixed.dump()
    # the gate sums' shifts must then align each gate's scale
    _refused("IR layer 'l0': l0.sum_f: shift 0 does not align l0.x_mv",
             lambda: replace(lstm.layers[0], x_mv=mixed))


def test_gate_sum(lstm):
    s = lstm.layers[0].sums[Gate.INPUT]
    _refused(r"IR stage 'l0.sum_i': shifts x<<-1 h<<0 must be >= 0",
             lambda: replace(s, x_shift=-1))
    _refused("'l0.sum_i': bias does not fit the sum", lambda: replace(s, bias=s.bias + 2**20))
    _refused("'l0.sum_i': sum uint13.* must be signed",
             lambda: replace(s, sum_type=IntType(13, False, -8)))
    narrow = replace(s, sum_type=IntType(12, True, -8), bias=s.bias // 2)
    layer = lstm.layers[0]
    _refused("IR layer 'l0': l0.sum_i: sum int12.* does not hold the exact range",
             lambda: replace(layer, sums={**layer.sums, Gate.INPUT: narrow}))


def test_act_lut(lstm):
    a = lstm.layers[0].luts[Gate.INPUT]
    _refused("IR stage 'l0.act_i': 127 entries for the 128 codes",
             lambda: replace(a, table=a.table[1:]))
    _refused("'l0.act_i': table values do not fit uint5",
             lambda: replace(a, table=a.table + 31))


def test_cell_update(lstm):
    cu = lstm.layers[0].cell
    _refused("IR stage 'l0.cell': under CIFG f is ONE - i",
             lambda: replace(cu, cifg=True, one_code=-1))
    _refused("'l0.cell': under CIFG", lambda: replace(cu, cifg=True, one_code=32))
    assert replace(cu, cifg=True, one_code=31).cifg  # negative or positive shifts are fine


def test_head(lstm):
    hd = lstm.head
    _refused("IR stage 'head': mv<<6 does not align", lambda: replace(hd, mv_shift=6))
    _refused("'head': scores int12.* do not hold the exact range",
             lambda: replace(hd, score_type=IntType(12, True, -17)))
    _refused("'head': 8 biases for 9 classes", lambda: replace(hd, bias=hd.bias[:8]))


def test_lstm_layer(lstm):
    layer = lstm.layers[0]
    _refused("IR layer 'l0': l0.x_mv is 32x12, expected 32x11",
             lambda: replace(layer, input_size=11))
    _refused("IR layer 'l0': l0.act_f input is int8.*, expected int7", lambda: replace(
        layer, luts={**layer.luts, Gate.INPUT: layer.luts[Gate.FORGET]}))
    _refused("IR layer 'l0': l0.hidden tanh is int8\\*2\\^-6", lambda: replace(
        layer, hidden=replace(layer.hidden, tanh_type=IntType(8, True, -6))))
    _refused("IR layer 'l0': the forget gate is there exactly when",
             lambda: replace(layer, cell=replace(layer.cell, cifg=True, one_code=31)))
    _refused("IR layer 'l0': l0.h_mv input is int6.*2.-4, expected int6.*2.-5", lambda: replace(
        layer, state=replace(layer.state, h_type=IntType(6, True, -5))))


def test_rnn_layer(rnn):
    layer = rnn.layers[0]
    _refused("IR layer 'l0': l0.x_mv is 6x5, expected 5x5",
             lambda: replace(layer, hidden_size=5))
    _refused("IR layer 'l0': l0.state: a plain RNN has no cell state", lambda: replace(
        layer, state=replace(layer.state, c_type=IntType(8, True))))


def test_model_chain(lstm, rnn):
    _refused("IR layer 'l0': input is int6\\*2\\^-4, expected int6\\*2\\^-5", lambda: replace(
        lstm, input=Quantizer(IntType(6, True, -5))))
    _refused("IR stage 'head': 6 columns for the 8 features", lambda: replace(
        lstm, head=rnn.head))
    _refused("IR model: max_steps -1", lambda: replace(lstm, max_steps=-1))
    two = load_fixture("bilstm_2x")
    _refused("IR layer 'l1': input", lambda: replace(two, layers=two.layers[:1] + two.layers[2:]))


def test_lower_keeps_reverse_directions_and_fold_asks_for_max_steps():
    two = load_fixture("bilstm_2x")
    assert two.bidirectional and two.max_steps == 0
    _refused("reverse direction: give the longest sequence", lambda: fold(two))
    _refused("l0.x_mv: PE=3 does not divide the 20 gate rows", lambda: fold(two, 3, 0, 4))
    folded = fold(two, 4, 1, 6)
    assert folded.max_steps == 6 and folded.layers[3].x_mv.pe == 4
    assert folded.layers[3].x_mv.simd == 1 and fold(folded, max_steps=6).layers[0].x_mv.pe == 20
    assert fold(load_fixture("lstm_head"), 4, 4, 9).max_steps == 0
    assert fold(load_fixture("lstm_head"), 4, 4).head.matvec.pe == 9  # the head stays parallel


def test_gate_rows_and_cell_layout(lstm):
    layer = lstm.layers[0]
    assert layer.rows(Gate.FORGET) == slice(8, 16) and layer.block(Gate.OUTPUT) == 3
    assert gate_rows(GATES, Gate.CELL, 8) == slice(16, 24)
    assert [LSTM_CELL.wx(Gate.INPUT), LSTM_CELL.wh(Gate.INPUT), LSTM_CELL.bias(Gate.OUTPUT),
            LSTM_CELL.first_quant, LSTM_CELL.count, LSTM_CELL.c0] == [3, 7, 14, 15, 48, 2]
    assert [RNN_CELL.wx(Gate.CELL), RNN_CELL.wh(Gate.CELL), RNN_CELL.bias(Gate.CELL),
            RNN_CELL.quant("output"), RNN_CELL.count, RNN_CELL.c0] == [2, 3, 4, 8, 11, None]


def test_bits(lstm, rnn):
    layer = lstm.layers[0]
    assert layer.x_mv.bits() == {"weight": "int4n*2^0", "in": "int6*2^-4", "acc": "int12*2^0"}
    assert layer.sums[Gate.INPUT].bits() == {"sum": "int13*2^-8", "out": "int7*2^-4"}
    assert list(layer.cell.bits()) == ["f", "i", "g", "cell"]
    assert list(layer.hidden.bits()) == ["o", "tanh", "out"]
    assert layer.state.bits() == {"h": "int6*2^-4", "c": "int7*2^-6"}
    assert rnn.layers[0].state.bits() == {"h": "int6*2^-4"}
    assert lstm.head.bits() == {"score": "int20*2^-17"}


def test_loaded_fixture_executes(lstm):
    rng = np.random.default_rng(0)
    x = rng.integers(lstm.input.type.min, lstm.input.type.max + 1, size=(5, 2, 12))
    out = execute(lstm, x)
    assert out["scores"].shape == (2, 9) and lstm.head.score_type.contains(out["scores"])
