"""`hwgen sweep` end to end on a tiny spec: two points on the local process pool and on a Ray
instance started here, resume, and the point of the spec's own widths equal to `hwgen train`."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from hwgen.sim.synth import ECP5_KEYS
from hwgen.spec import load_spec
from hwgen.sweep.points import GROUPS, Point, parse_bits, point_spec, quantizers
from hwgen.sweep.run import ecp5_figures
from hwgen.types import HwgenError
from hwgen_cli import build_folder, run_hwgen

# The spec's weights are 4 bits, so the 4-bit point of `--vary weights` is this very spec.
TINY = """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 4, classes: 9}
bits: {weight: 4, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 4, bias: 12}
train: {seed: 1, float_epochs: 2, qat_epochs: 1, batch_size: 64}
sweep: {vary: weights, bits: [3, 4]}
"""
ACCURACY = ("acc_float", "acc_quant", "acc_int")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "tiny.yaml").write_text(TINY)
    return folder


def _rows(folder: Path) -> list:
    return json.loads((folder / "results.json").read_text())["rows"]


def _check_rows(rows, bits):
    assert [r["bits"] for r in rows] == bits
    for r in rows:
        assert r["status"] == "done", r["status"]
        assert r["vary"] == "weights" and r["point"] == f"weights{r['bits']}"
        assert r["mismatches"] == 0  # integer reference == fake-quantized model, sequence by sequence
        assert r["acc_int"] == r["acc_quant"]
        assert r["LUT"] > 0 and r["FF"] > 0 and r["DSP"] >= 0 and r["BRAM"] >= 0
        assert r["cycles_per_step"] >= 5 and r["cycles_per_sequence"] > r["cycles_per_step"]
        assert r["fmax_mhz"] is None


def test_local_then_ray_sweep(tiny, ray_cluster):
    out = tiny / "local"
    run = run_hwgen("sweep", "tiny.yaml", "--jobs", "2", "--simulate", "--no-ecp5", "--out",
                    str(out), cwd=tiny)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = _rows(out)
    _check_rows(rows, [3, 4])
    assert all(r["ecp5_LUT4"] is None and r["device_cost"] is None for r in rows)
    for r in rows:  # the RTL ran the whole test set: same scores, cycles as modelled
        assert r["rtl_mismatches"] == 0
        assert r["cycles_per_step_sim"] == r["cycles_per_step"]
        assert r["cycles_per_sequence_sim"] == r["cycles_per_sequence"]
    # different weights, different hardware
    assert rows[0]["LUT"] != rows[1]["LUT"]
    # every output file, from the same rows
    with open(out / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [int(t["bits"]) for t in table] == [3, 4]
    assert [float(t["acc_int"]) for t in table] == [r["acc_int"] for r in rows]
    md = (out / "results.md").read_text()
    assert f"{100 * rows[1]['acc_int']:.2f}" in md
    for png in ("accuracy_vs_bits.png", "accuracy_vs_luts.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the 4-bit point is the spec itself: trained on its own, it gives the same accuracy
    train = run_hwgen("train", "tiny.yaml", cwd=tiny)
    assert train.returncode == 0, train.stderr[-2000:]
    ckpt = torch.load(tiny / build_folder(tiny / "tiny.yaml") / "checkpoint.pt", weights_only=True)
    assert (ckpt["float_accuracy"], ckpt["quant_accuracy"]) == \
        (rows[1]["acc_float"], rows[1]["acc_quant"])
    assert rows[0]["acc_float"] == rows[1]["acc_float"]  # the float baseline is the same run
    # a second run finds both points done and runs nothing
    again = run_hwgen("sweep", "tiny.yaml", "--simulate", "--no-ecp5", "--out", str(out), cwd=tiny)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 point(s) already done, 0 to run" in again.stderr
    assert _rows(out) == rows
    # the same points as Ray tasks on a local Ray instance: the same figures
    ray_out = tiny / "ray"
    # (without synth_ecp5, as the local run: the ECP5 figures of a row are checked below)
    with ray_cluster() as address:
        run = run_hwgen("sweep", "tiny.yaml", "--executor", "ray", "--address", address,
                        "--no-ecp5", "--out", str(ray_out), cwd=tiny)
    assert run.returncode == 0, run.stderr[-3000:]
    ray_rows = _rows(ray_out)
    _check_rows(ray_rows, [3, 4])
    assert all(r["rtl_mismatches"] is None and r["cycles_per_step_sim"] is None for r in ray_rows)
    same = (*ACCURACY, "LUT", "FF", "DSP", "BRAM", "cycles_per_step", "cycles_per_sequence",
            *(f"ecp5_{k}" for k in ECP5_KEYS), "device_cost")
    for a, b in zip(ray_rows, rows):
        assert {k: a[k] for k in same} == {k: b[k] for k in same}


def test_a_rows_ecp5_figures_are_the_counts_and_their_device_cost():
    # what the cost step's synth_ecp5 counts give a row (the sweep's default, --no-ecp5 aside);
    # the shares are the LFE5U-85F data sheet's: 83,640 LUT4, 208 EBR, 156 MULT18
    counts = {"LUT4": 41820, "FF": 900, "EBR": 52, "MULT18": 39, "CCU2C": 7}
    row = ecp5_figures({"resources": counts}, "85k")
    assert row == {"ecp5_LUT4": 41820, "ecp5_FF": 900, "ecp5_EBR": 52, "ecp5_MULT18": 39,
                   "device_cost": 1.0}
    assert ecp5_figures(None, "85k") == {"ecp5_LUT4": None, "ecp5_FF": None, "ecp5_EBR": None,
                                         "ecp5_MULT18": None, "device_cost": None}
    assert ecp5_figures({"resources": None}, "85k")["device_cost"] is None


@pytest.mark.parametrize("args, words", [
    (["--vary", "gates"], "--vary 'gates'"),
    (["--bits", "1,4"], "--bits '1,4'"),
    (["--bits", "4,x"], "'x'"),
    (["--jobs", "0"], "--jobs: 0"),
    (["--address", "127.0.0.1:1"], "--address is for --executor ray"),
])
def test_sweep_bad_arguments(tiny, args, words):
    run = run_hwgen("sweep", "tiny.yaml", "--out", str(tiny / "bad"), *args, cwd=tiny, timeout=120)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert not (tiny / "bad" / "results.json").exists()


def test_points_change_only_what_varies(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    base = load_spec(str(tmp_path / "tiny.yaml"))
    assert base.sweep.vary == "weights" and base.sweep.bits == (3, 4)
    for vary in (*GROUPS, "cell_state", "io"):
        spec = point_spec(base, Point(vary, 7, seed=9), tmp_path)
        changed = {k for k, v in vars(spec.bits).items() if v != getattr(base.bits, k)}
        assert changed == set(quantizers(vary))
        assert all(getattr(spec.bits, k) == 7 for k in changed)
        assert spec.train.seed == 9 and spec.net == base.net and spec.folding == base.folding
        assert Path(spec.out) == tmp_path / "points" / f"{vary}7"
    assert "bias" not in quantizers("all") and "weight" in quantizers("all")
    assert point_spec(base, Point("weights", 4, 1), tmp_path).training_hash() == \
        base.training_hash()
    assert parse_bits("2-4,8") == (2, 3, 4, 8)
    with pytest.raises(HwgenError, match="distinct"):
        parse_bits("4,4")
