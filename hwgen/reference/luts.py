"""Activation lookup tables, built with the same float32 functions the PyTorch model applies.

A table lists, for every code of the input quantizer (from its min to its max), the output code that
Brevitas produces: act(code * in_scale) in float32, divided by the output scale, rounded, clamped.
This is the only place in the reference that uses floating point, and it runs once per table.
"""
from __future__ import annotations

import numpy as np
import torch

from hwgen.types import HwgenError, IntType, Rounding

_FUNCTIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
_ROUNDERS = {
    Rounding.ROUND: torch.round,
    Rounding.FLOOR: torch.floor,
    Rounding.CEIL: torch.ceil,
    Rounding.ROUND_TO_ZERO: torch.trunc,
}


def quantize_float32(values: torch.Tensor, out: IntType, rounding: Rounding) -> np.ndarray:
    """Return the codes Brevitas's integer quantizer gives float32 values at type ``out``."""
    scale = torch.tensor(out.scale, dtype=torch.float32)
    codes = torch.clamp(_ROUNDERS[rounding](values / scale), out.min, out.max)
    return codes.to(torch.float64).numpy().astype(np.int64)


def activation_table(function: str, index: IntType, out: IntType, rounding: Rounding) -> np.ndarray:
    """Return the int64 table of ``function`` over every code of ``index``, quantized to ``out``."""
    if function not in _FUNCTIONS:
        raise HwgenError(f"unknown activation {function!r}")
    codes = torch.arange(index.min, index.max + 1, dtype=torch.float64)
    x = (codes * index.scale).to(torch.float32)  # exact: small integers times a power of two
    return quantize_float32(_FUNCTIONS[function](x), out, rounding)


def quantize_input(x: np.ndarray, t: IntType, rounding: Rounding, name: str) -> np.ndarray:
    """Return the codes of float32 input x at type t, as Brevitas's input quantizer computes them."""
    x = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise HwgenError(f"{name}: input holds NaN or infinity")
    return quantize_float32(torch.from_numpy(np.ascontiguousarray(x)), t, rounding)
