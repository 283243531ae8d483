"""LSTM gate order, defined once. Nothing else in hwgen does index arithmetic on gates."""
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
