"""The integer LSTM layer and linear head: the golden model of a QuantLSTMCell node.

Arithmetic follows Brevitas's _QuantLSTMCell step by step, on codes instead of float32 values:
gate sums are aligned to their finest scale and summed exactly, each quantizer is a shift, a rounding
and a saturation, and each activation is a table over the codes of its input quantizer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hwgen.gates import GATES, Gate
from hwgen.reference.kernels import align, as_int, lut, matvec, requantize, saturate, shift_round
from hwgen.types import IntType, Rounding


@dataclass(frozen=True)
class Quantizer:
    """A fixed-point quantizer: its output type and rounding mode."""

    type: IntType
    rounding: Rounding = Rounding.ROUND

    def apply(self, codes, from_exp: int) -> np.ndarray:
        """Return codes at scale 2**from_exp re-quantized by this quantizer."""
        return requantize(codes, from_exp, self.type, self.rounding)


@dataclass(frozen=True)
class GateParams:
    """Weights, bias and quantizers of one gate: acc = Wx x + Wh h + b, then act(acc)."""

    wx: np.ndarray  # [hidden, input] codes
    wx_type: IntType
    wh: np.ndarray  # [hidden, hidden] codes
    wh_type: IntType
    bias: Optional[np.ndarray]  # [hidden] codes, or None for a layer without bias
    bias_type: Optional[IntType]
    acc: Quantizer
    act: Quantizer
    table: np.ndarray  # act output code for every acc code, from acc.type.min to acc.type.max


@dataclass(frozen=True)
class LSTMParams:
    """Everything the integer LSTM layer needs; gates holds no FORGET entry when cifg is set."""

    input_size: int
    hidden_size: int
    x_type: IntType
    gates: dict
    cell: Quantizer
    out: Quantizer  # the hidden state / output quantizer (Brevitas's io quantizer)
    hidden_tanh: Quantizer
    hidden_table: np.ndarray  # tanh output code for every cell-state code
    cifg: bool = False
    reverse: bool = False
    one_code: int = 0  # CIFG: the input-sigmoid quantizer's code for 1.0

    def gate(self, gate: Gate) -> GateParams:
        """Return the parameters of gate (CIFG has no forget gate of its own)."""
        return self.gates[gate]


def gate_sum_exp(p: LSTMParams, g: GateParams) -> int:
    """Return the exponent at which a gate's three terms are summed (the finest of them)."""
    exps = [g.wx_type.exp + p.x_type.exp, g.wh_type.exp + p.out.type.exp]
    if g.bias is not None:
        exps.append(g.bias_type.exp)
    return min(exps)


def gate_sum(p: LSTMParams, g: GateParams, x, h) -> np.ndarray:
    """Return the exact gate pre-activation Wx x + Wh h + b, in codes at gate_sum_exp."""
    exp = gate_sum_exp(p, g)
    total = align(matvec(g.wx, x), g.wx_type.exp + p.x_type.exp, exp)
    total = total + align(matvec(g.wh, h), g.wh_type.exp + p.out.type.exp, exp)
    if g.bias is not None:
        total = total + align(g.bias, g.bias_type.exp, exp)
    return total


def gate_activation(p: LSTMParams, gate: Gate, x, h) -> np.ndarray:
    """Return the activation codes of one gate (after its accumulator quantizer and table)."""
    g = p.gate(gate)
    acc = g.acc.apply(gate_sum(p, g, x, h), gate_sum_exp(p, g))
    return lut(g.table, g.acc.type, acc)


@dataclass
class StepTrace:
    """Intermediate codes of one timestep, for tests that check a stage in isolation."""

    acts: dict = field(default_factory=dict)
    forget_cell: np.ndarray = None
    input_cell: np.ndarray = None
    cell: np.ndarray = None
    cell_tanh: np.ndarray = None
    hidden: np.ndarray = None


def lstm_step(p: LSTMParams, x, h, c, trace: Optional[StepTrace] = None):
    """Return (h', c') codes after one timestep from codes x [.., I], h [.., H], c [.., H]."""
    acts = {gate: gate_activation(p, gate, x, h) for gate in GATES if gate in p.gates}
    i_gate = p.gate(Gate.INPUT)
    if p.cifg:
        # Brevitas: forget = quant(1.0) - input, kept at the input sigmoid's scale, not re-quantized
        acts[Gate.FORGET] = as_int(p.one_code) - acts[Gate.INPUT]
        f_exp = i_gate.act.type.exp
    else:
        f_exp = p.gate(Gate.FORGET).act.type.exp
    c_exp = p.cell.type.exp
    forget_cell = p.cell.apply(acts[Gate.FORGET] * as_int(c), f_exp + c_exp)
    input_cell = p.cell.apply(acts[Gate.INPUT] * acts[Gate.CELL],
                              i_gate.act.type.exp + p.gate(Gate.CELL).act.type.exp)
    cell = p.cell.apply(forget_cell + input_cell, c_exp)
    cell_tanh = lut(p.hidden_table, p.cell.type, cell)
    o_exp = p.gate(Gate.OUTPUT).act.type.exp
    hidden = p.out.apply(acts[Gate.OUTPUT] * cell_tanh, o_exp + p.hidden_tanh.type.exp)
    if trace is not None:
        trace.acts, trace.forget_cell, trace.input_cell = acts, forget_cell, input_cell
        trace.cell, trace.cell_tanh, trace.hidden = cell, cell_tanh, hidden
    return hidden, cell


def lstm_layer(p: LSTMParams, x, h0=None, c0=None):
    """Return (outputs [T, B, H], h_T, c_T) codes for inputs x [T, B, I] in natural time order."""
    x = as_int(x)
    steps, batch = x.shape[0], x.shape[1]
    h = as_int(np.zeros((batch, p.hidden_size)) if h0 is None else h0)
    c = as_int(np.zeros((batch, p.hidden_size)) if c0 is None else c0)
    outputs = np.zeros((steps, batch, p.hidden_size), dtype=np.int64)
    order = range(steps - 1, -1, -1) if p.reverse else range(steps)
    for t in order:
        h, c = lstm_step(p, x[t], h, c)
        outputs[t] = h
    return outputs, h, c


@dataclass(frozen=True)
class HeadParams:
    """A linear classifier head: scores = W h + b, exact, at the finest scale of its terms."""

    weight: np.ndarray  # [classes, hidden]
    weight_type: IntType
    bias: Optional[np.ndarray]
    bias_type: Optional[IntType]
    in_type: IntType

    @property
    def exp(self) -> int:
        """Return the exponent of the score codes."""
        exps = [self.weight_type.exp + self.in_type.exp]
        if self.bias is not None:
            exps.append(self.bias_type.exp)
        return min(exps)


def head_scores(p: HeadParams, h) -> np.ndarray:
    """Return the head's score codes (at scale 2**p.exp) for hidden codes h [.., hidden]."""
    scores = align(matvec(p.weight, h), p.weight_type.exp + p.in_type.exp, p.exp)
    if p.bias is not None:
        scores = scores + align(p.bias, p.bias_type.exp, p.exp)
    return scores


__all__ = ["Quantizer", "GateParams", "LSTMParams", "HeadParams", "StepTrace", "lstm_step",
           "lstm_layer", "head_scores", "gate_sum", "gate_sum_exp", "gate_activation",
           "saturate", "shift_round"]
