"""hwgen.reference.kernels against exact models built from Python integers and Fractions."""
import math
from fractions import Fraction

import numpy as np
import pytest

from hwgen.reference import kernels
from hwgen.types import HwgenError, IntType, Rounding

XS = range(-300, 301)
SHIFTS = range(-3, 7)


def _round(q: Fraction, rounding: Rounding) -> int:
    """Return the exact rational q rounded to an integer as rounding says."""
    if rounding is Rounding.FLOOR:
        return math.floor(q)
    if rounding is Rounding.CEIL:
        return math.ceil(q)
    if rounding is Rounding.ROUND_TO_ZERO:
        return math.trunc(q)
    low = math.floor(q)
    frac = q - low
    if frac > Fraction(1, 2) or (frac == Fraction(1, 2) and low % 2 == 1):
        return low + 1
    return low


def _clamp(v: int, t: IntType) -> int:
    """Return v limited to [t.min, t.max]."""
    return min(max(v, t.min), t.max)


def test_round_model_sanity():
    half = [_round(Fraction(k, 2), Rounding.ROUND) for k in range(-5, 6)]
    assert half == [-2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2]


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("rounding", list(Rounding), ids=[r.value for r in Rounding])
def test_shift_round_matches_fractions(rounding, shift):
    got = kernels.shift_round(np.array(XS), shift, rounding)
    expected = [_round(Fraction(x) / Fraction(2) ** shift, rounding) for x in XS]
    assert got.dtype == np.int64
    assert got.tolist() == expected


def test_shift_round_scalar_and_wide_values():
    big = 3 * 2**50 + 2**9  # exact in int64, not in float64 after the shift
    assert kernels.shift_round(big, 10) == 3 * 2**40
    assert kernels.shift_round(big + 2**9, 10) == 3 * 2**40 + 1  # rounds half to even (up)
    assert kernels.shift_round(-(2**40), -20) == -(2**60)


def test_shift_round_refuses_unknown_mode():
    with pytest.raises(HwgenError):
        kernels.shift_round([1, 2], 1, "ROUND")


TYPES = {
    "int4": IntType(4, True), "int4n": IntType(4, True, narrow=True),
    "uint3": IntType(3, False), "uint3n": IntType(3, False, narrow=True),
}


@pytest.mark.parametrize("name", TYPES)
def test_saturate(name):
    t = TYPES[name]
    got = kernels.saturate(np.array(XS), t)
    assert got.dtype == np.int64
    assert got.tolist() == [_clamp(x, t) for x in XS]


@pytest.mark.parametrize("from_exp, to", [
    (-8, IntType(8, True, -4)), (-8, IntType(4, True, -2, True)), (-6, IntType(3, False, -3)),
    (-3, IntType(8, True, -5)), (0, IntType(5, False, 1, True)),
], ids=["int8_down4", "int4n_down6", "uint3_down3", "int8_up2", "uint5n_down1"])
@pytest.mark.parametrize("rounding", list(Rounding), ids=[r.value for r in Rounding])
def test_requantize_is_round_then_saturate(from_exp, to, rounding):
    got = kernels.requantize(np.array(XS), from_exp, to, rounding)
    expected = [_clamp(_round(Fraction(x) * Fraction(2) ** (from_exp - to.exp), rounding), to)
                for x in XS]
    assert got.tolist() == expected


def test_align_is_exact_and_refuses_coarser():
    x = np.array(XS)
    assert np.array_equal(kernels.align(x, -2, -5), x * 8)
    assert np.array_equal(kernels.align(x, 3, 3), x)
    assert kernels.align(-(2**50) + 1, 0, -12) == (-(2**50) + 1) * 2**12
    with pytest.raises(HwgenError, match=r"2\^-5 to the coarser 2\^-2"):
        kernels.align(x, -5, -2)


def _matvec_loops(w: list, x: list) -> list:
    """Return w @ x for nested lists with Python integers (never overflows)."""
    return [sum(w[r][c] * x[c] for c in range(len(x))) for r in range(len(w))]


MATVEC_CASES = {"4x3": (0, 4, 3, 8), "7x12": (1, 7, 12, 128), "1x1": (2, 1, 1, 3),
                "16x16_wide": (3, 16, 16, 2**26)}


@pytest.mark.parametrize("name", MATVEC_CASES)
def test_matvec_matches_double_loop(name):
    seed, rows, cols, bound = MATVEC_CASES[name]
    rng = np.random.default_rng(seed)
    w = rng.integers(-bound, bound, size=(rows, cols), endpoint=True)
    xs = rng.integers(-bound, bound, size=(5, cols), endpoint=True)
    batched = kernels.matvec(w, xs)
    assert batched.dtype == np.int64, f"seed {seed}"
    for b, x in enumerate(xs):
        expected = _matvec_loops(w.tolist(), x.tolist())
        assert kernels.matvec(w, x).tolist() == expected, f"seed {seed}"
        assert batched[b].tolist() == expected, f"seed {seed} row {b}"


def test_lut_indexes_from_the_type_minimum():
    t = IntType(3, True)
    table = np.arange(8) * 10 - 7
    got = kernels.lut(table, t, [[-4, 0], [3, -1]])
    assert got.tolist() == [[-7, 33], [63, 23]]
    narrow = IntType(3, True, narrow=True)
    assert kernels.lut(np.arange(7), narrow, [-3, 3]).tolist() == [0, 6]


@pytest.mark.parametrize("index", [-5, 4], ids=["below", "above"])
def test_lut_refuses_index_outside_type(index):
    with pytest.raises(HwgenError, match="int3"):
        kernels.lut(np.arange(8), IntType(3, True), [0, index])


def _argmax_first_loop(row: list) -> int:
    """Return the index of the first maximum of row."""
    best = 0
    for k, v in enumerate(row):
        if v > row[best]:
            best = k
    return best


def test_argmax_first_takes_first_of_ties():
    scores = [[1, 3, 3], [5, 5, 5], [0, -1, 0], [-2, -1, -1]]
    assert kernels.argmax_first(scores).tolist() == [1, 0, 0, 1]
    assert kernels.argmax_first([2, 7, 7, 1]) == 1


def test_argmax_first_random_ties():
    seed = 11
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(200, 5))  # few values: many ties
    expected = [_argmax_first_loop(row) for row in scores.tolist()]
    got = kernels.argmax_first(scores)
    assert got.dtype == np.int64
    assert got.tolist() == expected, f"seed {seed}"
