"""Pure int64 numpy kernels: the golden model every later stage (IR, Verilog, HLS) is checked against.

Every function takes and returns int64 arrays of codes; the scale of a code lives in its IntType.
Nothing here touches floating point.
"""
from __future__ import annotations

import numpy as np

from hwgen.types import HwgenError, IntType, Rounding

I64 = np.int64


def as_int(values) -> np.ndarray:
    """Return values as an int64 array (no copy when already int64)."""
    return np.asarray(values, dtype=I64)


def shift_round(x, shift: int, rounding: Rounding = Rounding.ROUND) -> np.ndarray:
    """Return x * 2**-shift rounded to an integer; a negative shift is an exact left shift."""
    x = as_int(x)
    shift = int(shift)
    if shift <= 0:
        return x << I64(-shift)
    floor = x >> I64(shift)  # arithmetic shift: floor division by 2**shift
    rem = x - (floor << I64(shift))  # in [0, 2**shift)
    half = I64(1) << I64(shift - 1)
    if rounding is Rounding.FLOOR:
        return floor
    if rounding is Rounding.CEIL:
        return floor + (rem != 0)
    if rounding is Rounding.ROUND_TO_ZERO:
        return floor + ((rem != 0) & (x < 0))
    if rounding is Rounding.ROUND:
        up = (rem > half) | ((rem == half) & ((floor & 1) == 1))
        return floor + up
    raise HwgenError(f"unsupported rounding mode {rounding}")


def saturate(x, t: IntType) -> np.ndarray:
    """Return x clamped to the range of t."""
    return np.clip(as_int(x), I64(t.min), I64(t.max))


def requantize(x, from_exp: int, to: IntType, rounding: Rounding = Rounding.ROUND) -> np.ndarray:
    """Return codes x at scale 2**from_exp re-expressed in type ``to``: shift, round, saturate."""
    return saturate(shift_round(x, to.exp - int(from_exp), rounding), to)


def align(x, from_exp: int, to_exp: int) -> np.ndarray:
    """Return codes x at 2**from_exp expressed exactly at the finer scale 2**to_exp."""
    if to_exp > from_exp:
        raise HwgenError(f"cannot align 2^{from_exp} to the coarser 2^{to_exp} exactly")
    return as_int(x) << I64(from_exp - to_exp)


def matvec(weights, x) -> np.ndarray:
    """Return weights @ x for an int64 [rows, cols] matrix and [..., cols] vectors, exactly."""
    return np.matmul(as_int(x), as_int(weights).T)


def matvec_range(weights, in_type: IntType) -> tuple:
    """Return per-row (lo, hi) bounds of weights @ x over every x in in_type's range."""
    w = as_int(weights)
    at_max, at_min = w * I64(in_type.max), w * I64(in_type.min)
    return np.minimum(at_max, at_min).sum(axis=1), np.maximum(at_max, at_min).sum(axis=1)


def lut(table, index_type: IntType, x) -> np.ndarray:
    """Return table[x - index_type.min]: a lookup table indexed by every code of index_type."""
    x = as_int(x)
    if not index_type.contains(x):
        raise HwgenError(f"lookup index outside {index_type.describe()}")
    return as_int(table)[x - I64(index_type.min)]


def argmax_first(scores) -> np.ndarray:
    """Return the index of the first maximum along the last axis (torch.argmax's tie rule)."""
    return np.argmax(as_int(scores), axis=-1).astype(I64)
