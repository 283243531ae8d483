"""`hwgen search --baseline`: the sweep's best uniform-width point, priced on the search's device,
and each verified point against it (matches for less, beats, neither); refusals are one line."""
from __future__ import annotations

import json

import pytest

from hwgen.search.baseline import baseline_lines, load_baseline, versus
from hwgen.types import HwgenError

# LFE5U-85F capacities from Lattice's ECP5 family data sheet (LUT4, EBR blocks, 18x18 multipliers)
LUT4_85K, EBR_85K, MULT18_85K = 83640, 208, 156


def _row(point, acc, lut4, ebr, mult18, status="done", bits=4):
    return {"point": point, "bits": bits, "vary": "weights", "status": status, "acc_int": acc,
            "ecp5_LUT4": lut4, "ecp5_FF": 1000, "ecp5_EBR": ebr, "ecp5_MULT18": mult18}


def _sweep(tmp_path, rows):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"meta": {}, "rows": rows}))
    return folder


def test_the_most_accurate_point_is_the_baseline_and_the_cheaper_of_a_tie(tmp_path):
    folder = _sweep(tmp_path, [
        _row("w3", 0.95, 8364, 0, 0, bits=3),
        _row("w6", 0.97, 41820, 104, 0, bits=6),
        _row("w5", 0.97, 20910, 52, 39, bits=5),  # as accurate as w6, cheaper
        _row("w8", 0.99, 1000, 0, 0, status="failed: yosys", bits=8),  # not finished
    ])
    b = load_baseline(str(folder), "85k")
    assert (b["point"], b["bits"], b["accuracy"]) == ("w5", 5, 0.97)
    assert b["cost"] == pytest.approx(20910 / LUT4_85K + 52 / EBR_85K + 39 / MULT18_85K,
                                      rel=1e-12)
    assert b["cost"] == pytest.approx(0.75, rel=1e-12)  # 0.25 + 0.25 + 0.25
    # the same sweep priced on the 45k part: every share larger
    assert load_baseline(str(folder / "results.json"), "45k")["cost"] > b["cost"]


def _point(mean, spread):
    return {"name": "t1", "accuracy_mean": mean, "accuracy_spread": spread}


BASE = {"point": "w5", "bits": 5, "vary": "weights", "file": "x", "accuracy": 0.96, "cost": 0.5,
        "accuracies": [0.96], "accuracy_spread": 0.0,
        "ecp5": {"LUT4": 1, "FF": 1, "EBR": 0, "MULT18": 0}}


@pytest.mark.parametrize("mean, spread, cost, matches, beats", [
    (0.96, 0.01, 0.35, True, False),    # as accurate at exactly 70 % of the cost
    (0.96, 0.01, 0.36, False, False),   # as accurate at 72 %
    (0.9599, 0.0, 0.10, False, False),  # a little less accurate, however cheap
    (0.98, 0.01, 0.5, False, True),     # 2 points more, beyond its 1-point spread, same cost
    (0.98, 0.03, 0.5, False, False),    # 2 points more, within its 3-point spread
    (0.98, 0.01, 0.51, False, False),   # more accurate but dearer
    (0.98, 0.01, 0.30, True, True),     # both
])
def test_versus(mean, spread, cost, matches, beats):
    c = versus(_point(mean, spread), cost, BASE)
    assert (c["matches_for_less"], c["beats"]) == (matches, beats)
    assert c["cost_ratio"] == cost / 0.5


def test_beating_needs_more_than_the_baselines_spread_too():
    seeded = {**BASE, "accuracies": [0.99, 0.93, 0.96], "accuracy_spread": 0.06}
    assert versus(_point(0.98, 0.01), 0.5, BASE)["beats"]
    assert not versus(_point(0.98, 0.01), 0.5, seeded)["beats"]  # 2 points < its 6-point spread
    assert versus(_point(0.96, 0.01), 0.35, seeded)["matches_for_less"]  # mean against mean


def test_a_sweep_of_another_model_is_refused(tmp_path):
    folder = _sweep(tmp_path, [_row("w4", 0.9, 1000, 0, 0)])
    (folder / "results.json").write_text(json.dumps({"meta": {"model": "gru4b"},
                                                     "rows": [_row("w4", 0.9, 1000, 0, 0)]}))
    assert load_baseline(str(folder), "85k", "gru4b")["point"] == "w4"
    with pytest.raises(HwgenError, match="a sweep of 'gru4b', not of 'lstm4b'"):
        load_baseline(str(folder), "85k", "lstm4b")


def test_baseline_section_names_the_verdicts():
    a = {**_point(0.96, 0.0), "versus_baseline": versus(_point(0.96, 0.0), 0.3, BASE)}
    b = {**_point(0.95, 0.0), "name": "t2", "versus_baseline": versus(_point(0.95, 0.0), 0.3,
                                                                       BASE)}
    text = "\n".join(baseline_lines(BASE, [a, b]))
    assert "| t1 | +0.00 points | 60.0 % | matches its accuracy at ≤ 70 % of its cost |" in text
    assert "| t2 | -1.00 points | 60.0 % | neither |" in text
    assert "Found: t1." in text
    assert "integer accuracy 96.00 % (one seed)" in text
    seeded = {**BASE, "seeds": [0, 1, 2], "accuracies": [0.99, 0.93, 0.96],
              "accuracy_spread": 0.06}
    text = "\n".join(baseline_lines(seeded, [a]))
    assert "96.00 % mean (spread 6.00) over seeds 0, 1, 2: 99.00, 93.00, 96.00 %" in text


@pytest.mark.parametrize("content, words", [
    (None, "no sweep results there"),
    ("{not json", "not a sweep's results.json"),
    (json.dumps({"rows": [_row("w4", 0.9, None, None, None)]}), "no finished point with"),
    (json.dumps({"rows": [{**_row("w4", 0.9, 1, 1, 1), "status": "failed: x"}]}),
     "no finished point with"),
])
def test_bad_baselines_are_one_line(tmp_path, content, words):
    folder = tmp_path / "s"
    if content is not None:
        folder.mkdir()
        (folder / "results.json").write_text(content)
    with pytest.raises(HwgenError, match=words) as err:
        load_baseline(str(folder), "85k")
    assert "\n" not in str(err.value) and str(err.value).startswith("--baseline ")
