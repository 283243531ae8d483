"""The integer plain-RNN layer: the golden model of a QuantRNNCell node.

Brevitas's _QuantRNNCell computes h' = io_quant(act(gate_acc_quant(Wx x + Wh h + b))) with act tanh
or relu. On codes: the exact gate sum, the accumulator quantizer, then one table from accumulator
codes to hidden-state codes (act followed by the io quantizer, built in float32 as Brevitas runs it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwgen.gates import Gate
from hwgen.reference.kernels import as_int, lut
from hwgen.reference.lstm import GateParams, Quantizer, gate_sum, gate_sum_exp
from hwgen.types import IntType

NONLINEARITIES = ("tanh", "relu")


@dataclass(frozen=True)
class RNNParams:
    """Everything the integer RNN layer needs; its one gate is stored under Gate.CELL.

    The gate's act quantizer is the io quantizer and its table maps accumulator codes to h codes.
    """

    input_size: int
    hidden_size: int
    x_type: IntType
    gates: dict
    out: Quantizer
    nonlinearity: str
    reverse: bool = False

    def gate(self, gate: Gate) -> GateParams:
        """Return the parameters of the layer's one gate (Gate.CELL)."""
        return self.gates[gate]


def rnn_step(p: RNNParams, x, h) -> np.ndarray:
    """Return h' codes after one timestep from codes x [.., I] and h [.., H]."""
    g = p.gate(Gate.CELL)
    acc = g.acc.apply(gate_sum(p, g, x, h), gate_sum_exp(p, g))
    return lut(g.table, g.acc.type, acc)


def hidden_layer(step, p, x, h0=None):
    """Return (outputs [T, B, H], h_T) codes of a one-state layer (h' = step(p, x_t, h)) for
    inputs x [T, B, I] in natural time order; p.reverse runs it from the last step."""
    x = as_int(x)
    steps, batch = x.shape[0], x.shape[1]
    h = as_int(np.zeros((batch, p.hidden_size)) if h0 is None else h0)
    outputs = np.zeros((steps, batch, p.hidden_size), dtype=np.int64)
    order = range(steps - 1, -1, -1) if p.reverse else range(steps)
    for t in order:
        h = step(p, x[t], h)
        outputs[t] = h
    return outputs, h


def rnn_layer(p: RNNParams, x, h0=None):
    """Return (outputs [T, B, H], h_T) codes for inputs x [T, B, I] in natural time order."""
    return hidden_layer(rnn_step, p, x, h0)
