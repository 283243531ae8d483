"""hwgen.types: integer ranges, the narrowest type for a range, power-of-two scales, rendering."""
import math

import numpy as np
import pytest

from hwgen.types import HwgenError, IntType, Rounding, exact_log2, type_for_range

WIDTHS = range(2, 9)


def _codes(width: int, signed: bool, narrow: bool) -> list:
    """Return every value a width-bit pattern stands for (two's complement when signed)."""
    values = [b - (1 << width) if signed and b >> (width - 1) else b for b in range(1 << width)]
    if narrow:  # drop the most negative code (signed) or the largest one (unsigned)
        values.remove(min(values) if signed else max(values))
    return values


@pytest.mark.parametrize("narrow", [False, True], ids=["full", "narrow"])
@pytest.mark.parametrize("signed", [False, True], ids=["uint", "int"])
@pytest.mark.parametrize("width", WIDTHS)
def test_min_max_match_bit_patterns(width, signed, narrow):
    t = IntType(width, signed, narrow=narrow)
    codes = _codes(width, signed, narrow)
    assert (t.min, t.max) == (min(codes), max(codes))
    assert t.levels == len(codes)
    assert t.contains(codes)
    assert not t.contains([t.min - 1]) and not t.contains([t.max + 1])


def test_exp_and_narrow_keep_storage_width():
    t = IntType(8, True, exp=-5, narrow=True)
    assert (t.min, t.max, t.scale) == (-127, 127, 2.0**-5)
    assert t.with_exp(3) == IntType(8, True, 3, True)
    assert t.sv() == IntType(8, True).sv()


@pytest.mark.parametrize("width, signed", [(0, False), (-3, True), (1, True), (8.0, True)],
                         ids=["zero", "negative", "int1", "float_width"])
def test_invalid_widths_are_refused(width, signed):
    with pytest.raises(HwgenError):
        IntType(width, signed)


def _narrowest_by_search(lo: int, hi: int):
    """Return (width, signed) of the first type, trying widths upward, that holds [lo, hi]."""
    for width in range(1, 64):
        for signed in (False, True):
            if signed and width < 2:
                continue
            codes = _codes(width, signed, False)
            if min(codes) <= lo and hi <= max(codes):
                return width, signed
    raise AssertionError(f"no type holds [{lo}, {hi}]")


def test_type_for_range_is_narrowest():
    for lo in range(-40, 41):
        for hi in range(lo, 41):
            t = type_for_range(lo, hi, exp=-3)
            assert (t.width, t.signed) == _narrowest_by_search(lo, hi), (lo, hi)
            assert (t.exp, t.narrow) == (-3, False)


@pytest.mark.parametrize("lo, hi, width, signed", [
    (0, 0, 1, False), (0, 1, 1, False), (-1, 0, 2, True), (-128, 127, 8, True),
    (-129, 0, 9, True), (0, 255, 8, False), (-1, 255, 9, True), (-1, 256, 10, True), (-(2**40), 2**40, 42, True),
], ids=["zero", "bit", "minus_one", "int8", "past_int8", "uint8", "int9", "int10", "wide"])
def test_type_for_range_curated(lo, hi, width, signed):
    t = type_for_range(lo, hi)
    assert (t.width, t.signed) == (width, signed)


def test_type_for_empty_range_is_refused():
    with pytest.raises(HwgenError, match=r"\[3, 2\]"):
        type_for_range(3, 2)


@pytest.mark.parametrize("exp", range(-20, 11))
def test_exact_log2_accepts_powers_of_two(exp):
    assert exact_log2(2.0**exp, "s") == exp
    assert exact_log2(np.float32(math.ldexp(1.0, exp)), "s") == exp


@pytest.mark.parametrize("scale", [0.3, 3.0, 0.0, -1.0, -0.5, math.nan, math.inf, -math.inf,
                                   2.0**-20 * 1.5],
                         ids=["0.3", "3", "zero", "minus_one", "minus_half", "nan", "inf",
                              "minus_inf", "tiny_non_power"])
def test_exact_log2_rejects_others(scale):
    with pytest.raises(HwgenError, match="node 'Quant_7'") as info:
        exact_log2(scale, "node 'Quant_7'")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, mode", [("ROUND", Rounding.ROUND), ("floor", Rounding.FLOOR),
                                        ("Ceil", Rounding.CEIL),
                                        ("round_to_zero", Rounding.ROUND_TO_ZERO)])
def test_rounding_parse_accepts_names(text, mode):
    assert Rounding.parse(text, "here") is mode


@pytest.mark.parametrize("text", ["HALF_UP", "", None, 3], ids=["half_up", "empty", "none", "int"])
def test_rounding_parse_errors_name_the_place(text):
    with pytest.raises(HwgenError, match=r"^node 'Quant_2': unsupported rounding mode") as info:
        Rounding.parse(text, "node 'Quant_2'")
    message = str(info.value)
    assert repr(text) in message and "ROUND_TO_ZERO" in message and "\n" not in message


@pytest.mark.parametrize("t, sv, hls, text", [
    (IntType(8, True), "logic signed [7:0]", "ap_int<8>", "int8*2^0"),
    (IntType(4, False, -3), "logic [3:0]", "ap_uint<4>", "uint4*2^-3"),
    (IntType(2, True, 5, True), "logic signed [1:0]", "ap_int<2>", "int2n*2^5"),
    (IntType(1, False), "logic [0:0]", "ap_uint<1>", "uint1*2^0"),
], ids=["int8", "uint4", "int2_narrow", "uint1"])
def test_rendering(t, sv, hls, text):
    assert (t.sv(), t.hls(), t.describe()) == (sv, hls, text)


def test_signed_type_for_range_is_signed_even_for_non_negative_ranges():
    from hwgen.types import signed_type_for_range

    t = signed_type_for_range(11, 18)
    assert t.signed and t.min <= 0 and t.max >= 18 and t.width == 6
    assert signed_type_for_range(-5, 3) == type_for_range(-5, 3)
