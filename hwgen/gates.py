"""LSTM gate order, the recurrent cell nodes' input layout and gate row blocks, defined once.

Nothing else in hwgen does index arithmetic on gates.
"""
from __future__ import annotations

import enum


class Gate(enum.Enum):
    """The four LSTM gates in Brevitas/ONNX order (input, forget, cell, output)."""

    INPUT = "input"
    FORGET = "forget"
    CELL = "cell"
    OUTPUT = "output"

    @property
    def activation(self) -> str:
        """Return the name of the gate's activation function: 'tanh' for the cell gate, else 'sigmoid'."""
        return "tanh" if self is Gate.CELL else "sigmoid"

    @property
    def short(self) -> str:
        """Return the one-letter name used in stage and signal names (i, f, c, o)."""
        return self.value[0]


GATES = tuple(Gate)


def gate_rows(gates: tuple, gate: Gate, hidden: int) -> slice:
    """Return the rows of ``gate`` in a matrix of ``hidden``-row blocks stacked in gates' order."""
    block = gates.index(gate)
    return slice(block * hidden, (block + 1) * hidden)


class CellLayout:
    """Input positions of a recurrent cell node: x, h0 (and c0), the input weights, the hidden
    weights and the biases of each gate (in ``gates`` order), then each quantizer's scale,
    zero point and bit width."""

    def __init__(self, gates: tuple, cell_state: bool, quantizers: tuple):
        self.gates = tuple(gates)
        self.quantizers = tuple(quantizers)
        self.x, self.h0 = 0, 1
        self.c0 = 2 if cell_state else None
        self._weights = 3 if cell_state else 2

    def _at(self, part: int, gate: Gate) -> int:
        return self._weights + part * len(self.gates) + self.gates.index(gate)

    def wx(self, gate: Gate) -> int:
        """Return the position of a gate's input-to-hidden weight."""
        return self._at(0, gate)

    def wh(self, gate: Gate) -> int:
        """Return the position of a gate's hidden-to-hidden weight."""
        return self._at(1, gate)

    def bias(self, gate: Gate) -> int:
        """Return the position of a gate's bias."""
        return self._at(2, gate)

    @property
    def first_quant(self) -> int:
        """Return the position of the first quantizer's scale."""
        return self._weights + 3 * len(self.gates)

    def quant(self, name: str) -> int:
        """Return the position of quantizer ``name``'s scale (zero point and bit width follow)."""
        return self.first_quant + 3 * self.quantizers.index(name)

    @property
    def count(self) -> int:
        """Return the number of inputs of a well-formed node."""
        return self.first_quant + 3 * len(self.quantizers)


# Brevitas's BrevitasQuantLSTMCellFn (hwgen.onnx.lstm_cell) and hwgen's QuantRNNCell
# (hwgen.onnx.rnn_cell, written by hwgen.qat.rnn_export): one gate, no cell state.
LSTM_CELL = CellLayout(GATES, True, (
    "output", "cell_state", "input_acc", "forget_acc", "cell_acc", "output_acc", "input_sigmoid",
    "forget_sigmoid", "cell_tanh", "output_sigmoid", "hidden_state_tanh"))
RNN_CELL = CellLayout((Gate.CELL,), False, ("gate_acc", "output"))
