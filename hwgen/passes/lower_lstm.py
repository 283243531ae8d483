"""Lower one recurrent layer's integer parameters (LSTM or plain RNN) to dataflow stages."""
from __future__ import annotations

import numpy as np

from hwgen.gates import GATES, Gate
from hwgen.ir.graph import LayerIR, RNNLayerIR
from hwgen.ir.stages import ActLUT, CellUpdate, GateSum, HiddenOut, MatVec, StateReg
from hwgen.reference.kernels import align, matvec_range
from hwgen.reference.lstm import LSTMParams, gate_sum_exp
from hwgen.reference.rnn import RNNParams
from hwgen.types import IntType, signed_type_for_range


def _matvec(name, p: LSTMParams, part: str, in_type: IntType) -> MatVec:
    """Return the fully parallel matrix-vector stage of the x ('wx') or h ('wh') part of every
    gate: the gates' weights stacked in gate order, each block keeping its own exact type."""
    gates = tuple(g for g in GATES if g in p.gates)
    weights = np.concatenate([getattr(p.gate(g), part) for g in gates], axis=0)
    types = tuple(getattr(p.gate(g), f"{part}_type") for g in gates)
    lo, hi = matvec_range(weights, in_type)
    acc = signed_type_for_range(int(lo.min()), int(hi.max()))
    return MatVec(name, gates, weights, types, in_type, acc, int(weights.shape[0]),
                  int(weights.shape[1]))


def _gate_sum(name: str, p: LSTMParams, gate: Gate, x_mv: MatVec, h_mv: MatVec) -> GateSum:
    """Return the gate-sum stage: aligned shifts, aligned bias and the exact sum type."""
    g = p.gate(gate)
    exp = gate_sum_exp(p, g)
    x_shift = g.wx_type.exp + p.x_type.exp - exp
    h_shift = g.wh_type.exp + p.out.type.exp - exp
    xl, xh = matvec_range(g.wx, p.x_type)
    hl, hh = matvec_range(g.wh, p.out.type)
    lo, hi = (xl << x_shift) + (hl << h_shift), (xh << x_shift) + (hh << h_shift)
    bias = None
    if g.bias is not None:
        bias = align(g.bias, g.bias_type.exp, exp)
        lo, hi = lo + bias, hi + bias
    sum_type = signed_type_for_range(int(lo.min()), int(hi.max()), exp)
    return GateSum(name, gate, x_shift, h_shift, bias, sum_type, g.acc)


def lower_lstm(p: LSTMParams, name: str, index: int = 0) -> LayerIR:
    """Return the fully parallel LayerIR of an LSTM layer (hwgen.passes.fold folds it).

    index is the stack layer the direction belongs to.
    """
    x_mv = _matvec(f"{name}.x_mv", p, "wx", p.x_type)
    h_mv = _matvec(f"{name}.h_mv", p, "wh", p.out.type)
    sums = {g: _gate_sum(f"{name}.sum_{g.short}", p, g, x_mv, h_mv) for g in GATES if g in p.gates}
    luts = {g: ActLUT(f"{name}.act_{g.short}", g.activation, p.gate(g).table, p.gate(g).acc.type,
                      p.gate(g).act.type) for g in sums}
    i_act = p.gate(Gate.INPUT).act.type
    f_act = i_act if p.cifg else p.gate(Gate.FORGET).act.type
    cell = CellUpdate(f"{name}.cell", f_act, i_act, p.gate(Gate.CELL).act.type, p.cell, p.cifg,
                      p.one_code)
    cell_tanh = ActLUT(f"{name}.tanh_c", "tanh", p.hidden_table, p.cell.type, p.hidden_tanh.type)
    hidden = HiddenOut(f"{name}.hidden", p.gate(Gate.OUTPUT).act.type, p.hidden_tanh.type, p.out)
    state = StateReg(f"{name}.state", p.out.type, p.cell.type)
    return LayerIR(name, p.input_size, p.hidden_size, p.reverse, x_mv, h_mv, sums, luts, cell,
                   cell_tanh, hidden, state, index)


def lower_rnn(p: RNNParams, name: str, index: int = 0) -> RNNLayerIR:
    """Return the fully parallel RNNLayerIR of a plain RNN layer: its gate sum and one table
    straight to h."""
    x_mv = _matvec(f"{name}.x_mv", p, "wx", p.x_type)
    h_mv = _matvec(f"{name}.h_mv", p, "wh", p.out.type)
    g = p.gate(Gate.CELL)
    act = ActLUT(f"{name}.act", p.nonlinearity, g.table, g.acc.type, p.out.type)
    state = StateReg(f"{name}.state", p.out.type, None)
    return RNNLayerIR(name, p.input_size, p.hidden_size, p.reverse, x_mv, h_mv,
                      _gate_sum(f"{name}.sum", p, Gate.CELL, x_mv, h_mv), act, state, index)
