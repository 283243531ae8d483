"""The integer embedding lookup: a token id selects one row of the table, re-quantized by the
first recurrent layer's input quantizer.

Brevitas computes code * table_scale in float32 (exact: both are powers of two times small
integers) and the layer's input quantizer divides it by its own scale, rounds and clamps. On codes
that is one requantize per table entry; it is computed once for the whole table (table_io), so the
lookup itself is pure indexing, which is what the hardware stores and does.
"""
from __future__ import annotations

import numpy as np

from hwgen.reference.kernels import as_int
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType


def token_type(vocab: int) -> IntType:
    """Return the unsigned type of a token id: the fewest bits that hold vocab - 1."""
    if vocab < 1:
        raise HwgenError(f"an embedding needs at least one row, not {vocab}")
    return IntType(max(1, (vocab - 1).bit_length()), False)


def table_io(table, table_type: IntType, io: Quantizer) -> np.ndarray:
    """Return the table's codes [vocab, dim] at table_type re-quantized to the io quantizer."""
    return io.apply(as_int(table), table_type.exp)


def lookup(table_codes, tokens) -> np.ndarray:
    """Return table_codes[tokens]: [..., dim] int64 for integer token ids [...].

    Raises HwgenError naming the first token id outside 0..vocab-1.
    """
    tokens = np.asarray(tokens)
    if tokens.size and not np.issubdtype(tokens.dtype, np.integer):
        raise HwgenError(f"token ids must be integers, not {tokens.dtype}")
    tokens = as_int(tokens)
    vocab = len(table_codes)
    bad = np.argwhere((tokens < 0) | (tokens >= vocab))
    if len(bad):
        where = bad[0].tolist()
        raise HwgenError(f"token id {int(tokens[tuple(where)])} at {where} is outside "
                         f"0..{vocab - 1}")
    return as_int(table_codes)[tokens]
