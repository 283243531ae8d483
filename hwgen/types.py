"""Integer and fixed-point types: the one place that knows widths, ranges and how to render them.

A value of an :class:`IntType` is an integer ``q`` that stands for the real number ``q * 2**exp``.
Every stream, register, weight and accumulator in hwgen carries one of these.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np


class HwgenError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with status 2."""


def shown(value, limit: int = 200) -> str:
    """Return repr(value) cut to about limit characters, for quoting a user's value in an error."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class VerificationError(HwgenError):
    """hwgen's own check failed (a backend differs from the reference): one line, exit status 3."""


class Rounding(enum.Enum):
    """How a right shift (division by a power of two) rounds, named as Brevitas/QONNX name them."""

    ROUND = "ROUND"  # round half to even, as torch.round / np.round
    FLOOR = "FLOOR"
    CEIL = "CEIL"
    ROUND_TO_ZERO = "ROUND_TO_ZERO"

    @classmethod
    def parse(cls, text: str, where: str) -> "Rounding":
        """Return the rounding mode named by text, or raise HwgenError naming where it came from."""
        try:
            return cls(str(text).upper())
        except ValueError:
            raise HwgenError(f"{where}: unsupported rounding mode {text!r} "
                             f"(supported: {', '.join(m.value for m in cls)})") from None

    @property
    def code(self) -> int:
        """Return the mode's number in the hardware cores' ROUNDING parameter (RTL and HLS)."""
        return _ROUNDING_CODES[self]


_ROUNDING_CODES = {Rounding.ROUND: 0, Rounding.FLOOR: 1, Rounding.CEIL: 2,
                   Rounding.ROUND_TO_ZERO: 3}


@dataclass(frozen=True)
class IntType:
    """An integer type: storage width, signedness, power-of-two scale exponent and range.

    ``narrow`` removes the most negative code of a signed type (or the largest of an unsigned one),
    as Brevitas's narrow_range does; the storage width stays the same.
    """

    width: int
    signed: bool
    exp: int = 0
    narrow: bool = False

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 1:
            raise HwgenError(f"invalid integer width {self.width!r}")
        if self.signed and self.width < 2:
            raise HwgenError("a signed integer type needs at least 2 bits")

    @property
    def min(self) -> int:
        """Smallest representable code."""
        if not self.signed:
            return 0
        return -(1 << (self.width - 1)) + (1 if self.narrow else 0)

    @property
    def max(self) -> int:
        """Largest representable code."""
        if self.signed:
            return (1 << (self.width - 1)) - 1
        return (1 << self.width) - 1 - (1 if self.narrow else 0)

    @property
    def scale(self) -> float:
        """The real value of one code step, 2**exp."""
        return math.ldexp(1.0, self.exp)

    @property
    def levels(self) -> int:
        """Number of codes in [min, max]."""
        return self.max - self.min + 1

    def with_exp(self, exp: int) -> "IntType":
        """Return the same integer range at another scale."""
        return IntType(self.width, self.signed, exp, self.narrow)

    def contains(self, values) -> bool:
        """Return True when every value lies in [min, max]."""
        arr = np.asarray(values)
        return arr.size == 0 or (int(arr.min()) >= self.min and int(arr.max()) <= self.max)

    # --- rendering: the only place where a type becomes HDL or C++ text -------------------------
    def sv(self) -> str:
        """Return the SystemVerilog packed type, e.g. ``logic signed [7:0]``."""
        sign = " signed" if self.signed else ""
        return f"logic{sign} [{self.width - 1}:0]"

    def hls(self) -> str:
        """Return the Vitis HLS arbitrary-precision type, e.g. ``ap_int<8>``."""
        return f"ap_int<{self.width}>" if self.signed else f"ap_uint<{self.width}>"

    def describe(self) -> str:
        """Return a short human-readable form, e.g. ``int8*2^-5`` or ``uint4n*2^0``."""
        base = f"{'int' if self.signed else 'uint'}{self.width}{'n' if self.narrow else ''}"
        return f"{base}*2^{self.exp}"

    def to_dict(self) -> dict:
        """Return a JSON-ready description."""
        return {"width": self.width, "signed": self.signed, "exp": self.exp, "narrow": self.narrow,
                "min": self.min, "max": self.max}


def quant_type(bit_width: int, signed: bool, narrow: bool, exp: int) -> IntType:
    """Return the type of a Brevitas/QONNX quantizer with the given parameters."""
    return IntType(int(bit_width), bool(signed), int(exp), bool(narrow))


def type_for_range(lo: int, hi: int, exp: int = 0) -> IntType:
    """Return the narrowest IntType that holds every integer in [lo, hi]."""
    lo, hi = int(lo), int(hi)
    if lo > hi:
        raise HwgenError(f"empty integer range [{lo}, {hi}]")
    if lo >= 0:
        return IntType(max(1, hi.bit_length()), False, exp)
    width = max((-lo - 1).bit_length(), hi.bit_length() if hi > 0 else 0) + 1
    return IntType(max(2, width), True, exp)


def signed_type_for_range(lo: int, hi: int, exp: int = 0) -> IntType:
    """Return the narrowest signed IntType holding [lo, hi] and 0: the type of an accumulator,
    which the hardware cores always treat as two's complement."""
    return type_for_range(min(int(lo), -1), max(int(hi), 0), exp)


def exact_log2(scale: float, where: str) -> int:
    """Return e such that scale == 2**e exactly, or raise HwgenError naming where the scale is."""
    value = float(scale)
    if not math.isfinite(value) or value <= 0:
        raise HwgenError(f"{where}: scale {value!r} is not a positive power of two")
    mantissa, exponent = math.frexp(value)
    if mantissa != 0.5:
        raise HwgenError(f"{where}: scale {value!r} is not a power of two (hwgen supports only "
                         "fixed-point quantizers)")
    return exponent - 1
