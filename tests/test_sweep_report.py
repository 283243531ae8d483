"""The sweep report: Pareto front on hand-worked cases, and the five files of a sweep folder."""
import csv
import json

import matplotlib.image
import PIL.Image
import pytest

from hwgen.sweep.report import bits_figure, luts_figure, pareto_front, write_results

FILES = ("results.csv", "results.json", "results.md", "accuracy_vs_bits.png",
         "accuracy_vs_luts.png")


def _pt(name, bits, lut, acc):
    """Return a minimal row for the Pareto tests (no DSPs: LUTs decide; DSPs in
    test_sweep_pareto.py)."""
    return {"point": name, "bits": bits, "LUT": lut, "DSP": 0, "acc_int": acc}


def _names(rows):
    """Return the point ids of rows, in order."""
    return [r["point"] for r in rows]


# Worked out by hand: c is beaten by b (fewer LUTs, higher accuracy); d has b's accuracy with more
# LUTs; i has a's LUTs with lower accuracy; h ties b exactly, so neither beats the other; f and g
# lack a figure. What is left, by LUTs: a (100), b and h (200, b first by bits), e (400).
PARETO_ROWS = [_pt("a", 2, 100, 0.50), _pt("b", 4, 200, 0.80), _pt("c", 3, 250, 0.70),
               _pt("d", 6, 300, 0.80), _pt("e", 8, 400, 0.90), _pt("f", 9, None, 0.99),
               _pt("g", 1, 150, None), _pt("h", 5, 200, 0.80), _pt("i", 7, 100, 0.40)]


@pytest.mark.parametrize("order", ["given", "reversed"])
def test_pareto_front_hand_worked(order):
    rows = PARETO_ROWS if order == "given" else PARETO_ROWS[::-1]
    assert _names(pareto_front(rows)) == ["a", "b", "h", "e"]


def test_pareto_front_single_empty_and_unmeasured():
    only = _pt("x", 4, 10, 0.5)
    assert pareto_front([only]) == [only]
    assert pareto_front([]) == []
    assert pareto_front([_pt("y", 4, None, 0.5), _pt("z", 5, 9, None)]) == []


def test_pareto_front_other_axes():
    rows = [{"point": "p", "FF": 50, "acc_quant": 0.7}, {"point": "q", "FF": 40, "acc_quant": 0.9},
            {"point": "r", "FF": 60, "acc_quant": 0.95}]
    assert _names(pareto_front(rows, costs=("FF",), y="acc_quant")) == ["q", "r"]


def _row(point, bits, status="done", acc_int=None, lut=None, **more):
    """Return a full sweep row with plausible figures; keyword arguments override."""
    row = {"point": point, "vary": "weights", "bits": bits, "seed": 0, "status": status,
           "acc_float": 0.9757, "acc_quant": acc_int, "acc_int": acc_int, "mismatches": 0,
           "rtl_mismatches": None, "LUT": lut, "FF": None if lut is None else lut // 2,
           "DSP": None if lut is None else 0, "BRAM": None if lut is None else 1.5,
           "fmax_mhz": None, "cycles_per_step": 40, "cycles_per_step_sim": None,
           "cycles_per_sequence": 640.25, "cycles_per_sequence_sim": None, "seconds": 12.5}
    row.update(more)
    return row


ROWS = [_row("weights6", 6, acc_int=0.9730, lut=5210, acc_float=0.9784, rtl_mismatches=0,
             cycles_per_step_sim=40, fmax_mhz=187.5),
        _row("weights2", 2, status="failed: yosys ran out of memory", acc_int=0.4892,
             acc_float=0.9703),
        _row("weights4", 4, acc_int=0.9649, lut=3420, acc_float=0.9730),
        _row("weights3", 3, acc_int=0.9108, acc_float=0.9730)]
META = {"model": "lstm4b", "vary": "weights", "bits": [2, 3, 4, 6], "seed": 0,
        "spec": {"net": {"hidden": 20}}, "hwgen": "0.1.0", "created": "2025-01-01T00:00:00"}
BY_BITS = ["weights2", "weights3", "weights4", "weights6"]


@pytest.fixture
def written(tmp_path):
    """Return the folder write_results filled from ROWS, and the paths it returned."""
    return tmp_path, write_results(tmp_path / "sweep", ROWS, META)


def test_all_files_and_nothing_else(written):
    tmp, paths = written
    assert sorted(paths) == ["bits_plot", "csv", "json", "luts_plot", "md"]
    assert sorted(p.name for p in (tmp / "sweep").iterdir()) == sorted(FILES)  # no temp files
    assert all(p.parent == tmp / "sweep" and p.stat().st_size > 0 for p in paths.values())


def test_csv_parses_back(written):
    _, paths = written
    with open(paths["csv"], newline="") as f:
        got = list(csv.DictReader(f))
    assert [g["point"] for g in got] == BY_BITS
    four = got[2]
    assert int(four["bits"]) == 4 and int(four["LUT"]) == 3420 and int(four["FF"]) == 1710
    assert float(four["acc_int"]) == 0.9649 and float(four["BRAM"]) == 1.5
    assert float(four["cycles_per_sequence"]) == 640.25
    assert four["fmax_mhz"] == "" and four["cycles_per_step_sim"] == ""
    assert got[0]["LUT"] == "" and got[0]["status"] == "failed: yosys ran out of memory"
    assert float(got[3]["fmax_mhz"]) == 187.5
    assert list(got[0])[:5] == ["point", "vary", "bits", "seed", "status"]


def test_json_round_trips(written):
    _, paths = written
    got = json.loads(paths["json"].read_text())
    assert got["meta"] == META
    assert [r["point"] for r in got["rows"]] == BY_BITS
    assert sorted(got["rows"], key=lambda r: r["point"]) == sorted(ROWS, key=lambda r: r["point"])
    assert paths["json"].read_text().endswith("}\n")


def test_markdown_table(written):
    _, paths = written
    md = paths["md"].read_text()
    assert md.startswith("# ") and "lstm4b" in md.splitlines()[0]
    assert "weights" in md.splitlines()[0]
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 4  # header, rule, one line per row
    body = table[2:]
    assert [line.split("|")[1].strip() for line in body] == ["2", "3", "4", "6"]
    assert "96.49" in body[2] and "97.30" in body[2] and "3420" in body[2]
    assert "91.08" in body[1] and "97.84" in body[3] and "48.92" in body[0]
    front = next(line for line in md.splitlines() if "Pareto" in line)
    assert "weights4" in front and "weights6" in front
    assert "weights3" not in front and "weights2" not in front
    assert "yosys ran out of memory" in md.split("Pareto")[1]


def test_pngs_open_with_fixed_size_and_no_stamp(written):
    _, paths = written
    for kind in ("bits_plot", "luts_plot"):
        assert matplotlib.image.imread(paths[kind]).shape[:2] == (540, 840)
        with PIL.Image.open(paths[kind]) as image:
            assert "Software" not in image.info  # a version stamp would differ between installs


def test_bits_figure_axes():
    ax = bits_figure(ROWS, META).axes[0]
    assert "bit" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    assert "lstm4b" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "float baseline (97.37 %)" in labels  # mean of 97.84, 97.03, 97.30, 97.30 (failed too)
    integer = next(line for line in ax.get_lines() if line.get_label() == "integer (bit-exact)")
    assert list(integer.get_xdata()) == [3, 4, 6]  # the failed 2-bit point is not plotted


def test_luts_figure_front_skips_unmeasured():
    ax = luts_figure(ROWS, META).axes[0]
    assert "LUT" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    front = next(line for line in ax.get_lines() if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [3420, 5210]
    assert sorted(t.get_text() for t in ax.texts) == ["4 b", "6 b"]


def test_luts_figure_without_resources():
    rows = [_row("io4", 4, acc_int=0.96), _row("io5", 5, acc_int=0.97)]
    ax = luts_figure(rows, META).axes[0]
    assert [t.get_text() for t in ax.texts] == ["no resource figures"]


def test_same_rows_same_bytes(tmp_path):
    one = write_results(tmp_path / "one", ROWS, META)
    two = write_results(tmp_path / "two", list(reversed(ROWS)), META)
    for kind in one:
        assert one[kind].read_bytes() == two[kind].read_bytes(), kind


def test_post_training_rows_get_their_four_columns(tmp_path):
    rows = [_row("all4", 4, acc_int=0.9189, lut=900, acc_torch_int8=0.9622,
                 acc_torch_weights=0.9568, acc_calibrated=0.9189, acc_finetuned=None),
            _row("all8", 8, acc_int=0.9622, lut=2000, acc_torch_int8=0.9622,
                 acc_torch_weights=0.9622, acc_calibrated=0.9595, acc_finetuned=0.9649)]
    md = write_results(tmp_path, rows, dict(META, vary="all"))["md"].read_text()
    table = [line.split("|")[1:-1] for line in md.splitlines() if line.startswith("|")]
    header = [c.strip() for c in table[0]]
    assert header[:6] == ["bits", "float %", "torch int8 %", "torch W-bit %", "calibrated %",
                          "fine-tuned %"]
    four, eight = ([c.strip() for c in r] for r in table[2:])
    assert four[:6] == ["4", "97.57", "96.22", "95.68", "91.89", "–"]
    assert eight[:6] == ["8", "97.57", "96.22", "96.22", "95.95", "96.49"]
    assert len(four) == len(header)
    # a QAT sweep keeps its table as before
    plain = write_results(tmp_path / "qat", ROWS, META)["md"].read_text()
    assert "calibrated %" not in plain
