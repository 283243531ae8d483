"""Dataflow stages of a lowered LSTM: each has explicit integer types and prints as one text line.

A layer is: an input matrix-vector unit (x part of all gates; independent of the recurrence), a
recurrent matrix-vector unit (h part), a gate sum + bias + requantizer and a lookup table per gate,
the cell update, tanh(c), the hidden-state requantizer and the state registers. A head may follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.gates import Gate
from hwgen.reference.lstm import Quantizer
from hwgen.types import IntType


def _digest(array: np.ndarray) -> str:
    """Return a short content digest of an integer array for text dumps."""
    import hashlib

    data = np.ascontiguousarray(np.asarray(array, dtype=np.int64))
    return hashlib.sha256(data.tobytes() + str(data.shape).encode()).hexdigest()[:12]


def _q(q: Quantizer) -> str:
    return f"{q.type.describe()}/{q.rounding.value}"


@dataclass(frozen=True)
class MatVec:
    """rows x cols weights times an input vector; rows are the gates' rows stacked in gate order."""

    name: str
    gates: tuple  # the Gate of each block of `hidden` rows, in order
    weights: np.ndarray
    weight_type: IntType
    in_type: IntType
    acc_type: IntType  # exact: derived from the actual weights and the input range
    pe: int
    simd: int

    kind = "matvec"

    @property
    def rows(self) -> int:
        return int(self.weights.shape[0])

    @property
    def cols(self) -> int:
        return int(self.weights.shape[1])

    def dump(self) -> str:
        return (f"{self.name}: matvec {self.rows}x{self.cols} w={self.weight_type.describe()} "
                f"in={self.in_type.describe()} acc={self.acc_type.describe()} pe={self.pe} "
                f"simd={self.simd} gates={''.join(g.short for g in self.gates)} "
                f"weights#{_digest(self.weights)}")


@dataclass(frozen=True)
class GateSum:
    """x part << x_shift + h part << h_shift + bias, then the gate's accumulator quantizer."""

    name: str
    gate: Gate
    x_shift: int
    h_shift: int
    bias: Optional[np.ndarray]  # already aligned to sum_type's scale
    sum_type: IntType  # exact range of the aligned sum
    out: Quantizer

    kind = "gate_sum"

    def dump(self) -> str:
        bias = f"bias#{_digest(self.bias)}" if self.bias is not None else "no-bias"
        return (f"{self.name}: gate_sum {self.gate.value} x<<{self.x_shift} h<<{self.h_shift} "
                f"{bias} sum={self.sum_type.describe()} out={_q(self.out)}")


@dataclass(frozen=True)
class ActLUT:
    """A table over every code of in_type (sigmoid or tanh, quantized)."""

    name: str
    function: str
    table: np.ndarray
    in_type: IntType
    out_type: IntType

    kind = "lut"

    def dump(self) -> str:
        return (f"{self.name}: lut {self.function} in={self.in_type.describe()} "
                f"out={self.out_type.describe()} depth={len(self.table)} "
                f"table#{_digest(self.table)}")


@dataclass(frozen=True)
class CellUpdate:
    """c' = sat(rq(f*c) + rq(i*g)); under CIFG f = one_code - i."""

    name: str
    f_type: IntType
    i_type: IntType
    g_type: IntType
    cell: Quantizer
    cifg: bool
    one_code: int

    kind = "cell_update"

    def dump(self) -> str:
        cifg = f" cifg one={self.one_code}" if self.cifg else ""
        return (f"{self.name}: cell_update f={self.f_type.describe()} i={self.i_type.describe()} "
                f"g={self.g_type.describe()} c={_q(self.cell)}{cifg}")


@dataclass(frozen=True)
class HiddenOut:
    """h' = rq(o * tanh(c')) at the output (io) quantizer."""

    name: str
    o_type: IntType
    tanh_type: IntType
    out: Quantizer

    kind = "hidden_out"

    def dump(self) -> str:
        return (f"{self.name}: hidden_out o={self.o_type.describe()} "
                f"tanh={self.tanh_type.describe()} h={_q(self.out)}")


@dataclass(frozen=True)
class StateReg:
    """The recurrent state registers (h, and c for LSTM), reset to 0 at the start of a sequence."""

    name: str
    h_type: IntType
    c_type: Optional[IntType]  # None for a plain RNN

    kind = "state"

    def dump(self) -> str:
        c = f" c={self.c_type.describe()}" if self.c_type is not None else ""
        return f"{self.name}: state h={self.h_type.describe()}{c}"


@dataclass(frozen=True)
class Head:
    """scores = W h + b (exact), plus the argmax class."""

    name: str
    matvec: MatVec
    bias: Optional[np.ndarray]  # aligned to score_type's scale
    mv_shift: int
    score_type: IntType

    kind = "head"

    def dump(self) -> str:
        bias = f"bias#{_digest(self.bias)}" if self.bias is not None else "no-bias"
        return (f"{self.name}: head {self.matvec.rows} classes mv<<{self.mv_shift} {bias} "
                f"scores={self.score_type.describe()} argmax")
