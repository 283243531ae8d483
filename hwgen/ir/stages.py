"""Dataflow stages of a lowered LSTM: each has explicit integer types and prints as one text line.

A layer is: an input matrix-vector unit (x part of all gates; independent of the recurrence), a
recurrent matrix-vector unit (h part), a gate sum + bias + requantizer and a lookup table per gate,
the cell update, tanh(c), the hidden-state requantizer and the state registers. A head may follow.

Every stage checks its own invariants when it is built (HwgenError naming the stage), so a stage
read back from a file is as sound as one the lowering made. Invariants that need a neighbour (a
gate sum's exact range needs the matrix-vector units) are checked by the layer (hwgen.ir.graph).
bits() gives the stage's types for reports: name -> IntType.describe().
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.gates import Gate
from hwgen.reference.kernels import as_int, matvec_range
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType, signed_type_for_range


def _digest(array: np.ndarray) -> str:
    """Return a short content digest of an integer array for text dumps."""
    import hashlib

    data = np.ascontiguousarray(np.asarray(array, dtype=np.int64))
    return hashlib.sha256(data.tobytes() + str(data.shape).encode()).hexdigest()[:12]


def _q(q: Quantizer) -> str:
    return f"{q.type.describe()}/{q.rounding.value}"


def _fail(stage: str, message: str) -> None:
    raise HwgenError(f"IR stage {stage!r}: {message}")


def _int_array(stage, name: str, values, ndim: int) -> np.ndarray:
    """Return values as a read-only int64 array of ndim dimensions, or raise naming the stage."""
    arr = np.asarray(values)
    if arr.ndim != ndim or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        _fail(stage, f"{name} must be a {ndim}-D integer array, not {arr.dtype} "
                     f"{list(arr.shape)}")
    arr = as_int(arr).copy()
    arr.flags.writeable = False
    return arr


def _check_sum(stage) -> None:
    """Fail unless stage.sum_type is signed; make stage.bias (if any) a 1-D int64 array that
    fits it (GateSum and the GRU's sums)."""
    if not stage.sum_type.signed:
        _fail(stage.name, f"sum {stage.sum_type.describe()} must be signed")
    if stage.bias is not None:
        object.__setattr__(stage, "bias", _int_array(stage.name, "bias", stage.bias, 1))
        if not stage.sum_type.contains(stage.bias):
            _fail(stage.name, f"bias does not fit the sum {stage.sum_type.describe()}")


def _types(types) -> str:
    """Return the description of the types when they are all one type, else each one's in order,
    joined by ','."""
    names = [t.describe() for t in types]
    return names[0] if len(set(names)) == 1 else ",".join(names)


@dataclass(frozen=True)
class MatVec:
    """rows x cols weights times an input vector; rows are the gates' rows stacked in gate order.

    weight_types holds the exact type (scale included) of each block of rows: one per gate, or
    one for a head. Brevitas quantizes each gate's weights on its own scale, so the blocks' scales
    may differ; the gate sums' shifts align them. weight_type is the element type the hardware
    stores: the codes of every block, at exponent 0.
    """

    name: str
    gates: tuple  # the Gate of each block of `hidden` rows, in order (empty for a head)
    weights: np.ndarray
    weight_types: tuple  # IntType of each block of rows, in order
    in_type: IntType
    acc_type: IntType  # exact: derived from the actual weights and the input range
    pe: int
    simd: int

    kind = "matvec"

    def __post_init__(self):
        object.__setattr__(self, "weights", _int_array(self.name, "weights", self.weights, 2))
        object.__setattr__(self, "gates", tuple(self.gates))
        object.__setattr__(self, "weight_types", tuple(self.weight_types))
        blocks = max(1, len(self.gates))
        if len(self.weight_types) != blocks:
            _fail(self.name, f"{len(self.weight_types)} weight types for {blocks} row blocks")
        if self.rows % blocks:
            _fail(self.name, f"{self.rows} rows do not split into {blocks} gate blocks")
        for k, t in enumerate(self.weight_types):
            size = self.rows // blocks
            if not t.contains(self.weights[k * size:(k + 1) * size]):
                _fail(self.name, f"weights of block {k} do not fit {t.describe()}")
        lo, hi = matvec_range(self.weights, self.in_type)
        exact = self.acc_type.signed and self.acc_type.contains([lo.min(), hi.max()])
        if self.rows and not exact:
            _fail(self.name, f"accumulator {self.acc_type.describe()} does not hold the exact "
                             f"range [{lo.min()}, {hi.max()}] as a signed number")
        for what, n, total in (("PE", self.pe, self.rows), ("SIMD", self.simd, self.cols)):
            if not isinstance(n, int) or n < 1 or total % n:
                _fail(self.name, f"{what}={n!r} does not divide {total}")

    @property
    def rows(self) -> int:
        return int(self.weights.shape[0])

    @property
    def cols(self) -> int:
        return int(self.weights.shape[1])

    @property
    def weight_type(self) -> IntType:
        """Return the storage type of every weight code (exponent 0; scales: weight_types)."""
        ts = self.weight_types
        return IntType(max(t.width for t in ts), any(t.signed for t in ts), 0,
                       all(t.narrow for t in ts))

    def bits(self) -> dict:
        return {"weight": self.weight_type.describe(), "in": self.in_type.describe(),
                "acc": self.acc_type.describe()}

    def dump(self) -> str:
        return (f"{self.name}: matvec {self.rows}x{self.cols} w={_types(self.weight_types)} "
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

    def __post_init__(self):
        if min(self.x_shift, self.h_shift) < 0:
            _fail(self.name, f"shifts x<<{self.x_shift} h<<{self.h_shift} must be >= 0")
        _check_sum(self)

    def bits(self) -> dict:
        return {"sum": self.sum_type.describe(), "out": self.out.type.describe()}

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

    def __post_init__(self):
        object.__setattr__(self, "table", _int_array(self.name, "table", self.table, 1))
        if len(self.table) != self.in_type.levels:
            _fail(self.name, f"{len(self.table)} entries for the {self.in_type.levels} codes of "
                             f"{self.in_type.describe()}")
        if not self.out_type.contains(self.table):
            _fail(self.name, f"table values do not fit {self.out_type.describe()}")

    def bits(self) -> dict:
        return {"in": self.in_type.describe(), "out": self.out_type.describe()}

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

    def __post_init__(self):
        # fc_shift and ig_shift may have either sign: the requantizer cores shift both ways.
        if self.cifg and (self.f_type != self.i_type or self.one_code < 0
                          or not self.i_type.contains(self.one_code)):
            _fail(self.name, f"under CIFG f is ONE - i: f must have i's type and ONE="
                             f"{self.one_code} must be a non-negative code of "
                             f"{self.i_type.describe()}")

    def bits(self) -> dict:
        return {"f": self.f_type.describe(), "i": self.i_type.describe(),
                "g": self.g_type.describe(), "cell": self.cell.type.describe()}

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

    # No own invariant: its shift may have either sign (the requantizer core shifts both ways);
    # the layer checks that o and tanh are its neighbours' types.

    def bits(self) -> dict:
        return {"o": self.o_type.describe(), "tanh": self.tanh_type.describe(),
                "out": self.out.type.describe()}

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

    def bits(self) -> dict:
        out = {"h": self.h_type.describe()}
        if self.c_type is not None:
            out["c"] = self.c_type.describe()
        return out

    def dump(self) -> str:
        c = f" c={self.c_type.describe()}" if self.c_type is not None else ""
        return f"{self.name}: state h={self.h_type.describe()}{c}"


@dataclass(frozen=True)
class Head:
    """scores = W h + b (exact), plus the argmax class: on the last step's h, or (per_step) on
    every step's h."""

    name: str
    matvec: MatVec
    bias: Optional[np.ndarray]  # aligned to score_type's scale
    mv_shift: int
    score_type: IntType
    per_step: bool = False  # task per_step: scores (and a class) for every step

    kind = "head"

    def __post_init__(self):
        mv = self.matvec
        if len(mv.weight_types) != 1 or self.mv_shift != (
                mv.weight_types[0].exp + mv.in_type.exp - self.score_type.exp):
            _fail(self.name, f"mv<<{self.mv_shift} does not align the weights "
                             f"{_types(mv.weight_types)} times {mv.in_type.describe()} to the "
                             f"scores {self.score_type.describe()}")
        if self.mv_shift < 0:
            _fail(self.name, f"mv<<{self.mv_shift} must be >= 0")
        lo, hi = matvec_range(mv.weights, mv.in_type)
        lo, hi = lo << self.mv_shift, hi << self.mv_shift
        if self.bias is not None:
            object.__setattr__(self, "bias", _int_array(self.name, "bias", self.bias, 1))
            if self.bias.shape != (mv.rows,):
                _fail(self.name, f"{len(self.bias)} biases for {mv.rows} classes")
            lo, hi = lo + self.bias, hi + self.bias
        if mv.rows and not (self.score_type.signed
                            and self.score_type.contains([lo.min(), hi.max()])):
            _fail(self.name, f"scores {self.score_type.describe()} do not hold the exact range "
                             f"[{lo.min()}, {hi.max()}] as a signed number")

    def bits(self) -> dict:
        return {"score": self.score_type.describe()}

    def dump(self) -> str:
        mv = self.matvec
        bias = f"bias#{_digest(self.bias)}" if self.bias is not None else "no-bias"
        return (f"{self.name}: head {mv.rows} classes w={_types(mv.weight_types)} "
                f"in={mv.in_type.describe()} acc={mv.acc_type.describe()} "
                f"weights#{_digest(mv.weights)} mv<<{self.mv_shift} {bias} "
                f"scores={self.score_type.describe()} argmax"
                + (" per_step" if self.per_step else ""))


# GRU stages (hwgen.passes.lower_gru): the reset and update gates are GateSums; the new gate's
# path and the blend have stages of their own.


def _product_range(a: IntType, b: IntType) -> tuple:
    """Return (lo, hi) of a * b over every code of a and b."""
    corners = [a.min * b.min, a.min * b.max, a.max * b.min, a.max * b.max]
    return min(corners), max(corners)


@dataclass(frozen=True)
class HiddenNew:
    """hn = hidden_acc((W_hn h) << h_shift + b_hn): the h part of the new gate, before r."""

    name: str
    h_shift: int
    bias: Optional[np.ndarray]  # b_hn aligned to sum_type's scale
    sum_type: IntType  # exact range of the aligned sum
    out: Quantizer  # hidden_acc

    kind = "gru_hidden_new"

    def __post_init__(self):
        if self.h_shift < 0:
            _fail(self.name, f"shift h<<{self.h_shift} must be >= 0")
        _check_sum(self)

    def bits(self) -> dict:
        return {"sum": self.sum_type.describe(), "out": self.out.type.describe()}

    def dump(self) -> str:
        bias = f"bias#{_digest(self.bias)}" if self.bias is not None else "no-bias"
        return (f"{self.name}: gru_hidden_new h<<{self.h_shift} {bias} "
                f"sum={self.sum_type.describe()} out={_q(self.out)}")


@dataclass(frozen=True)
class NewSum:
    """new_acc((W_in x) << x_shift + (r * hn) << rh_shift + b_in): the new gate's accumulator."""

    name: str
    r_type: IntType
    hn_type: IntType
    x_shift: int
    rh_shift: int
    bias: Optional[np.ndarray]  # b_in aligned to sum_type's scale
    sum_type: IntType  # exact range of the aligned sum
    out: Quantizer  # new_acc

    kind = "gru_new_sum"

    def __post_init__(self):
        if min(self.x_shift, self.rh_shift) < 0:
            _fail(self.name, f"shifts x<<{self.x_shift} rh<<{self.rh_shift} must be >= 0")
        if self.rh_shift != self.r_type.exp + self.hn_type.exp - self.sum_type.exp:
            _fail(self.name, f"rh<<{self.rh_shift} does not align r {self.r_type.describe()} "
                             f"times hn {self.hn_type.describe()} to {self.sum_type.describe()}")
        _check_sum(self)

    @property
    def rh_range(self) -> tuple:
        """Return (lo, hi) of r * hn over every code of their types."""
        return _product_range(self.r_type, self.hn_type)

    def bits(self) -> dict:
        return {"r": self.r_type.describe(), "hn": self.hn_type.describe(),
                "sum": self.sum_type.describe(), "out": self.out.type.describe()}

    def dump(self) -> str:
        bias = f"bias#{_digest(self.bias)}" if self.bias is not None else "no-bias"
        return (f"{self.name}: gru_new_sum r={self.r_type.describe()} "
                f"hn={self.hn_type.describe()} x<<{self.x_shift} rh<<{self.rh_shift} {bias} "
                f"sum={self.sum_type.describe()} out={_q(self.out)}")


@dataclass(frozen=True)
class Blend:
    """h' = io(((one_code - z << z_shift) * n) << nz_shift + (z * h) << zh_shift).

    one_code is 1 at the scale of min(z's exponent, 0), z << z_shift is z at that scale; the sum
    is exact in sum_type and goes through the io quantizer out.
    """

    name: str
    z_type: IntType
    n_type: IntType
    one_code: int
    z_shift: int
    nz_shift: int
    zh_shift: int
    sum_type: IntType
    out: Quantizer  # io: the hidden state's type

    kind = "gru_blend"

    def __post_init__(self):
        if min(self.z_shift, self.nz_shift, self.zh_shift) < 0 or self.one_code < 1:
            _fail(self.name, f"shifts z<<{self.z_shift} nz<<{self.nz_shift} zh<<{self.zh_shift} "
                             f"must be >= 0 and ONE={self.one_code} >= 1")
        one_exp = self.z_type.exp - self.z_shift
        if one_exp > 0 or self.one_code != 1 << -one_exp:
            _fail(self.name, f"ONE={self.one_code} is not 1 at 2^{one_exp}")
        if (self.nz_shift != one_exp + self.n_type.exp - self.sum_type.exp
                or self.zh_shift != self.z_type.exp + self.out.type.exp - self.sum_type.exp):
            _fail(self.name, f"shifts nz<<{self.nz_shift} zh<<{self.zh_shift} do not align the "
                             f"products to {self.sum_type.describe()}")
        lo, hi = self.exact_range()
        if not (self.sum_type.signed and self.sum_type.contains([lo, hi])):
            _fail(self.name, f"sum {self.sum_type.describe()} does not hold the exact range "
                             f"[{lo}, {hi}] as a signed number")

    @property
    def one_minus_z_type(self) -> IntType:
        """Return the exact signed type of one_code - z << z_shift."""
        lo = self.one_code - (self.z_type.max << self.z_shift)
        hi = self.one_code - (self.z_type.min << self.z_shift)
        return signed_type_for_range(lo, hi, self.z_type.exp - self.z_shift)

    def exact_range(self) -> tuple:
        """Return (lo, hi) of the aligned sum over every code of z, n and h."""
        nl, nh = _product_range(self.one_minus_z_type, self.n_type)
        zl, zh = _product_range(self.z_type, self.out.type)
        return ((nl << self.nz_shift) + (zl << self.zh_shift),
                (nh << self.nz_shift) + (zh << self.zh_shift))

    def bits(self) -> dict:
        return {"z": self.z_type.describe(), "n": self.n_type.describe(),
                "sum": self.sum_type.describe(), "out": self.out.type.describe()}

    def dump(self) -> str:
        return (f"{self.name}: gru_blend z={self.z_type.describe()} n={self.n_type.describe()} "
                f"one={self.one_code} z<<{self.z_shift} nz<<{self.nz_shift} "
                f"zh<<{self.zh_shift} sum={self.sum_type.describe()} h={_q(self.out)}")


@dataclass(frozen=True)
class Embedding:
    """A token id selects one row of a quantized table (Brevitas's QuantEmbedding), re-quantized
    by the first layer's input quantizer `out`; table_io is that re-quantized table, computed
    once in int64 (hwgen.reference.embed), and what the hardware stores."""

    name: str
    table: np.ndarray  # [vocab, dim] codes of table_type
    table_type: IntType
    out: Quantizer

    kind = "embed"

    def __post_init__(self):
        from hwgen.reference.embed import table_io

        object.__setattr__(self, "table", _int_array(self.name, "table", self.table, 2))
        if 0 in self.table.shape:
            _fail(self.name, f"table shape {list(self.table.shape)} has no rows or columns")
        if not self.table_type.contains(self.table):
            _fail(self.name, f"table codes outside {self.table_type.describe()}")
        object.__setattr__(self, "table_io", _int_array(
            self.name, "table_io", table_io(self.table, self.table_type, self.out), 2))

    @property
    def vocab(self) -> int:
        return int(self.table.shape[0])

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    @property
    def token_type(self) -> IntType:
        """Return the unsigned type of a token id (the fewest bits that hold vocab - 1)."""
        from hwgen.reference.embed import token_type

        return token_type(self.vocab)

    def lookup(self, tokens) -> np.ndarray:
        """Return the io codes [..., dim] of token ids [...]."""
        from hwgen.reference.embed import lookup

        return lookup(self.table_io, tokens)

    def bits(self) -> dict:
        return {"token": self.token_type.describe(), "table": self.table_type.describe(),
                "out": self.out.type.describe()}

    def dump(self) -> str:
        return (f"{self.name}: embedding {self.vocab}x{self.dim} token={self.token_type.describe()} "
                f"table={self.table_type.describe()} table#{_digest(self.table)} "
                f"out={_q(self.out)} table_io#{_digest(self.table_io)}")
