"""Caches that hold and runs that share a build folder safely.

One tiny `hwgen hw` flow (two runs started together, then a third) checks the whole flow, the
locks and every cache; `hwgen run --backend rtl` is checked the same way on a tiny export.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hwgen_cli import build_folder

from hwgen.cli import main
from hwgen.flow import out_dir
from hwgen.spec import MODELS_DIR, load_spec

TIMEOUT_S = 1200
TINY = """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 5, classes: 9}
bits: {weight: 3, io: 6, input_acc: 5, forget_acc: 6, cell_acc: 4, output_acc: 7, sigmoid: 4,
       tanh: 5, cell_state: 6, head: 4, bias: 12}
train: {seed: 3, float_epochs: 2, qat_epochs: 1, batch_size: 64}
"""


def start(*args, cwd) -> subprocess.Popen:
    """Return a started `python -m hwgen.cli ARGS` process in cwd (output captured)."""
    return subprocess.Popen([sys.executable, "-m", "hwgen.cli", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list) -> list:
    """Return (status, stdout, stderr) of every process once all have ended."""
    outputs = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    return [(p.returncode, *out) for p, out in zip(procs, outputs)]


def cached_files(folder: Path) -> dict:
    """Return {path: mtime_ns} of the artifacts and caches a rerun must leave untouched."""
    files = [folder / "checkpoint.pt", folder / "model.onnx", folder / "synth" / "resources.json",
             folder / "sim_build" / "build.key", *sorted((folder / "hls_build").glob("csim-*"))]
    return {str(f): f.stat().st_mtime_ns for f in files}


FIGURES = ("float accuracy:", "quantized accuracy:", "reference accuracy:", "rtl accuracy:",
           "cycles per step:", "hls accuracy:", "resources:")


def figures(stdout: str) -> list:
    """Return the lines of a `hwgen hw` run that state its figures, in order."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith(FIGURES)]
    assert len(lines) == len(FIGURES), stdout
    return lines


def check_report(report: dict) -> None:
    """Check a tiny spec's report: every backend equals the reference, cycles as modelled."""
    assert report["sequences"] == 370
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    acc = report["accuracy"]
    assert acc["reference"] == acc["quantized"] == acc["rtl"] == acc["hls"]
    assert report["cycles_per_step"]["simulated"] == report["cycles_per_step"]["model"]
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0
    assert {s["kind"] for s in report["stages"]} >= {"matvec", "gate_sum", "lut", "head"}
    res = report["resources"]  # Yosys synth_xilinx of the generated design
    assert set(res) == {"LUT", "FF", "DSP", "BRAM"} and res["LUT"] > 0 and res["FF"] > 0
    assert report["fmax_mhz"] is None and report["time"] is None  # not asked
    assert report["no_time"] == "ECP5 cost not asked (--no-ecp5)"


def test_concurrent_hw_runs_agree_and_a_rerun_reuses_everything(tmp_path):
    """Two `hwgen hw` of one spec at once both succeed with the same report; a third trains,
    exports, lowers, builds, simulates and synthesizes nothing."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    # Xilinx counts only: the ECP5 cost is checked in test_flow.py and test_synth.py
    runs = finish([start("hw", spec, "--no-ecp5", cwd=tmp_path) for _ in range(2)])
    for status, out, err in runs:
        assert status == 0, err[-2000:]
        assert "float accuracy:" in out and "quantized accuracy:" in out and "resources:" in out
    assert sum("waiting for another hwgen run" in out for _, out, _ in runs) == 1
    assert figures(runs[0][1]) == figures(runs[1][1])  # the waiting run reports the same
    folder = tmp_path / build_folder(spec)
    report_bytes = (folder / "report.json").read_bytes()
    check_report(json.loads(report_bytes))
    assert (folder / "hls" / "build.tcl").is_file() and (folder / "report.md").is_file()
    assert not (folder / "rtl" / "synth").exists()  # rtl/ holds sources only
    ckpt = torch.load(folder / "checkpoint.pt", weights_only=True)  # no arbitrary unpickling
    assert ckpt["spec_hash"] == load_spec(str(spec)).training_hash()
    before = cached_files(folder)

    [(status, out, err)] = finish([start("hw", spec, "--no-ecp5", cwd=tmp_path)])
    assert status == 0, err[-2000:]
    for reused in (f"reusing {build_folder(spec) / 'checkpoint.pt'} (spec unchanged)",
                   f"reusing {build_folder(spec) / 'model.onnx'} (exported from the same",
                   *(f"reusing {step} result (inputs unchanged)" for step in
                     ("lower", "fold", "reference", "emit_rtl", "emit_hls", "sim_rtl", "sim_hls",
                      "cost"))):
        assert reused in out, reused
    assert "synthesizing" not in out and "training" not in err
    assert figures(out) == figures(runs[0][1])
    assert cached_files(folder) == before
    assert (folder / "report.json").read_bytes() == report_bytes


@pytest.fixture
def tiny_export(tmp_path):
    """Return (folder with model.onnx and x.npy, the reference's output for x)."""
    from hwgen.onnx.execute import run_reference
    from hwgen.onnx.graph import load_model
    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier

    torch.manual_seed(0)
    m = QuantClassifier(5, 7, 3, LSTMWidths(weight=4), 4).eval()
    export_model(m, torch.randn(1, 6, 5), tmp_path / "model.onnx")
    x = torch.randn(4, 2, 5).numpy()  # [T, B, I]: the export is not batch-first
    np.save(tmp_path / "x.npy", x)
    return tmp_path, run_reference(load_model(tmp_path / "model.onnx"), x)


def test_concurrent_rtl_runs_of_a_new_file_agree(tiny_export):
    """Three `hwgen run --backend rtl` of one new file at once all succeed with the reference's
    output; a design without a reverse direction is built once for every sequence length."""
    folder, expected = tiny_export
    args = ("run", "model.onnx", "--input", "x.npy", "--backend", "rtl")
    runs = finish([start(*args, "--output", f"y{k}.npy", cwd=folder) for k in range(3)])
    for status, _, err in runs:
        assert status == 0, err[-2000:]
    for k in range(3):
        assert np.array_equal(np.load(folder / f"y{k}.npy"), expected)
    [design] = (folder / "build" / "run").iterdir()
    key = design / "sim_build" / "build.key"
    built = key.stat().st_mtime_ns
    np.save(folder / "x7.npy", np.zeros((7, 1, 5), dtype=np.float32))
    [(status, _, err)] = finish([start("run", "model.onnx", "--input", "x7.npy", "--backend",
                                       "rtl", "--output", "y7.npy", cwd=folder)])
    assert status == 0, err[-2000:]
    assert list((folder / "build" / "run").iterdir()) == [design]
    assert key.stat().st_mtime_ns == built


def test_specs_of_one_name_get_their_own_build_folders(tmp_path):
    """Same file name in two folders: two build folders; a models/ spec keeps build/NAME."""
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "tiny.yaml").write_text(TINY)
    a, b = (out_dir(load_spec(str(tmp_path / s / "tiny.yaml"))) for s in ("a", "b"))
    assert a != b and a.parent == b.parent == Path("build")
    assert a.name.startswith("tiny-") and len(a.name) == len("tiny-") + 8
    assert out_dir(load_spec("lstm4b")) == Path("build/lstm4b")
    assert out_dir(load_spec(str(MODELS_DIR / "lstm4b.yaml"))) == Path("build/lstm4b")
    odd = tmp_path / "a" / "x\ny $(z).yaml"
    odd.write_text(TINY)
    assert out_dir(load_spec(str(odd))).name.startswith("x_y___z_-")


def test_export_refuses_another_specs_checkpoint(tmp_path, monkeypatch, capsys):
    """A missing checkpoint leaves no build folder; one trained from another spec is refused with
    the command that fixes it."""
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    folder = out_dir(load_spec(str(spec)))
    assert main(["export", str(spec)]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert not folder.exists() and not Path("build").exists()  # nor build/, made for it
    folder.mkdir(parents=True)
    torch.save({"spec_hash": "0" * 16, "quant": {}}, folder / "checkpoint.pt")
    assert main(["export", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"run `hwgen train {spec}` first" in err
    assert sorted(p.name for p in folder.iterdir()) == [".hwgen.lock", "checkpoint.pt"]


def test_failed_import_leaves_no_folder(tmp_path, monkeypatch, capsys):
    """An import that fails after taking its build folder removes the folder it made."""
    import hwgen.flow
    from hwgen.qat.model import build_float
    from hwgen.types import HwgenError

    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    torch.save({"float": build_float(load_spec(str(spec))).state_dict()}, tmp_path / "float.pt")

    def fail(*args, **kwargs):
        """Stand in for the training step: fail as a bad input does."""
        raise HwgenError("calibration failed")

    monkeypatch.setattr(hwgen.flow, "step_train", fail)
    assert main(["import", "float.pt", "--spec", str(spec)]) == 2
    assert "calibration failed" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["float.pt", "tiny.yaml"]
