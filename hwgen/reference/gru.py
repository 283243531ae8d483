"""The integer GRU layer: the golden model of a QuantGRUCell node (hwgen.qat.gru.QuantGRU).

hwgen's _QuantGRUCell computes, per step, with every quantizer a power-of-two fixed-point one:
  r  = sigmoid_r(reset_acc(W_ir x + W_hr h + b_r))           b_r = b_ir + b_hr
  z  = sigmoid_z(update_acc(W_iz x + W_hz h + b_z))          b_z = b_iz + b_hz
  hn = hidden_acc(W_hn h + b_hn)
  n  = tanh_n(new_acc(W_in x + b_in + r * hn))
  h' = io((1 - z) * n + z * h)                               1 is exact, not a sigmoid code
On codes: each sum is aligned to the finest scale of its terms and summed exactly, each quantizer is
a shift, a rounding and a saturation, each activation a table over its accumulator's codes.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.reference.kernels import align, as_int, lut, matvec
from hwgen.reference.lstm import GateParams, Quantizer, gate_sum, gate_sum_exp
from hwgen.reference.rnn import hidden_layer
from hwgen.types import IntType


class GRUGate(enum.Enum):
    """The three GRU gates in PyTorch's row order (reset, update, new)."""

    RESET = "reset"
    UPDATE = "update"
    NEW = "new"

    @property
    def activation(self) -> str:
        """Return the gate's activation: 'tanh' for the new gate, else 'sigmoid'."""
        return "tanh" if self is GRUGate.NEW else "sigmoid"

    @property
    def short(self) -> str:
        """Return the one-letter name used in stage and signal names (r, z, n as PyTorch)."""
        return {"reset": "r", "update": "z", "new": "n"}[self.value]


GRU_GATES = tuple(GRUGate)


@dataclass(frozen=True)
class GRUParams:
    """Everything the integer GRU layer needs.

    The NEW gate's wh is W_hn and its bias b_in (input side only); hidden_bias is b_hn, summed
    with W_hn h under the hidden_acc quantizer. Both biases are None for a layer without bias.
    """

    input_size: int
    hidden_size: int
    x_type: IntType
    gates: dict  # GRUGate -> GateParams
    hidden_bias: Optional[np.ndarray]
    hidden_bias_type: Optional[IntType]
    hidden_acc: Quantizer
    out: Quantizer  # hidden state / output (Brevitas's io quantizer, shared with the input)
    reverse: bool = False

    def gate(self, gate: GRUGate) -> GateParams:
        """Return the parameters of one gate."""
        return self.gates[gate]


def sigmoid_gate(p: GRUParams, gate: GRUGate, x, h) -> np.ndarray:
    """Return the activation codes of the reset or update gate."""
    g = p.gate(gate)
    acc = g.acc.apply(gate_sum(p, g, x, h), gate_sum_exp(p, g))
    return lut(g.table, g.acc.type, acc)


def hidden_new(p: GRUParams, h) -> tuple:
    """Return (codes, exp) of hidden_acc(W_hn h + b_hn)."""
    g = p.gate(GRUGate.NEW)
    exps = [g.wh_type.exp + p.out.type.exp]
    if p.hidden_bias is not None:
        exps.append(p.hidden_bias_type.exp)
    exp = min(exps)
    total = align(matvec(g.wh, h), exps[0], exp)
    if p.hidden_bias is not None:
        total = total + align(p.hidden_bias, p.hidden_bias_type.exp, exp)
    return p.hidden_acc.apply(total, exp), p.hidden_acc.type.exp


def new_gate(p: GRUParams, x, h, r) -> np.ndarray:
    """Return the new gate's tanh codes from x, h and the reset gate's codes r."""
    g = p.gate(GRUGate.NEW)
    hn, hn_exp = hidden_new(p, h)
    terms = [(matvec(g.wx, x), g.wx_type.exp + p.x_type.exp),
             (as_int(r) * hn, p.gate(GRUGate.RESET).act.type.exp + hn_exp)]
    if g.bias is not None:
        terms.append((g.bias, g.bias_type.exp))
    exp = min(e for _, e in terms)
    total = sum(align(codes, e, exp) for codes, e in terms)
    acc = g.acc.apply(total, exp)
    return lut(g.table, g.acc.type, acc)


def blend(p: GRUParams, z, n, h) -> np.ndarray:
    """Return io((1 - z) * n + z * h) in codes; 1 is exact at the finer of 2^0 and z's scale."""
    z_exp = p.gate(GRUGate.UPDATE).act.type.exp
    n_exp = p.gate(GRUGate.NEW).act.type.exp
    one_exp = min(z_exp, 0)
    one_minus_z = align(1, 0, one_exp) - align(z, z_exp, one_exp)
    terms = [(one_minus_z * as_int(n), one_exp + n_exp),
             (as_int(z) * as_int(h), z_exp + p.out.type.exp)]
    exp = min(e for _, e in terms)
    total = sum(align(codes, e, exp) for codes, e in terms)
    return p.out.apply(total, exp)


def gru_step(p: GRUParams, x, h) -> np.ndarray:
    """Return h' codes after one timestep from codes x [.., I] and h [.., H]."""
    r = sigmoid_gate(p, GRUGate.RESET, x, h)
    z = sigmoid_gate(p, GRUGate.UPDATE, x, h)
    n = new_gate(p, x, h, r)
    return blend(p, z, n, h)


def gru_layer(p: GRUParams, x, h0=None):
    """Return (outputs [T, B, H], h_T) codes for inputs x [T, B, I] in natural time order."""
    return hidden_layer(gru_step, p, x, h0)
