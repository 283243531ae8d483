"""The sweep's Pareto front over LUT and DSP together, on hand-made points."""
import pytest

from hwgen.sweep.report import pareto_front


def _pt(name, bits, lut, dsp, acc):
    return {"point": name, "bits": bits, "LUT": lut, "DSP": dsp, "acc_int": acc}


def _names(rows):
    return [r["point"] for r in rows]


def test_fewer_luts_but_more_dsps_does_not_dominate():
    """The issue's case: 8 bits is more accurate with fewer LUTs than 7 bits but uses 1,100 more
    DSPs, so both are on the front (on LUTs alone 7 bits would be dominated)."""
    seven, eight = _pt("w7", 7, 90_000, 180, 0.95), _pt("w8", 8, 85_000, 1_280, 0.96)
    assert _names(pareto_front([seven, eight])) == ["w8", "w7"]
    assert _names(pareto_front([seven, eight], costs=("LUT",))) == ["w8"]


# By hand: b beats c (no more LUTs or DSPs, more accurate); d equals b's accuracy with more DSPs;
# e is beaten by a (same costs, less accurate); f ties a exactly (both stay); g has the fewest
# LUTs but the most DSPs (stays); h lacks a DSP figure (ignored); i is the most accurate (stays);
# j has b's accuracy and LUTs but fewer DSPs, so it beats b and d.
ROWS = [_pt("a", 2, 100, 10, 0.50), _pt("b", 4, 200, 20, 0.80), _pt("c", 3, 200, 25, 0.70),
        _pt("d", 5, 210, 40, 0.80), _pt("e", 1, 100, 10, 0.40), _pt("f", 6, 100, 10, 0.50),
        _pt("g", 7, 50, 500, 0.60), _pt("h", 8, 10, None, 0.99), _pt("i", 9, 900, 90, 0.90),
        _pt("j", 10, 200, 15, 0.80)]


@pytest.mark.parametrize("order", ["given", "reversed"])
def test_front_hand_worked(order):
    rows = ROWS if order == "given" else ROWS[::-1]
    assert _names(pareto_front(rows)) == ["g", "a", "f", "j", "i"]


def test_equal_accuracy_needs_a_strictly_lower_cost():
    a, b = _pt("a", 4, 100, 10, 0.8), _pt("b", 5, 100, 11, 0.8)
    assert _names(pareto_front([b, a])) == ["a"]
    assert _names(pareto_front([_pt("x", 1, 5, None, 0.5), _pt("y", 2, None, 5, 0.5)])) == []
