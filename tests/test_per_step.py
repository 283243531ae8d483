"""task: per_step: the spec key checked against the dataset, aeon's forecasting series as
next-value windows, the .npz per-step layout, training and the hardware end to end (the
figures recomputed here from the raw series and the reference's outputs)."""
from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from hwgen.spec import load_spec
from hwgen.types import HwgenError
from tests.hwgen_cli import build_folder, run_hwgen


def _spec(tmp_path, text: str, name: str = "m.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, line", [
    ("dataset: aeon:Airline\nnet: {input_size: 1, classes: 2}\n",
     "task is classify, dataset aeon:Airline is a per-step set (task: per_step)"),
    ("dataset: aeon:GunPoint\ntask: per_step\nnet: {input_size: 1, classes: 1}\n",
     "task is per_step, dataset aeon:GunPoint is a classification set (task: classify)"),
    ("dataset: aeon:Covid3Month\ntask: per_step\nnet: {input_size: 1, classes: 1}\n",
     "task is per_step, dataset aeon:Covid3Month is a regression set (task: regress)"),
    ("dataset: aeon:Airline\ntask: per_step\nnet: {input_size: 1, classes: 2}\n",
     "net.classes is 2, dataset aeon:Airline has 1 targets per step"),
    ("dataset: aeon:Lynx\ntask: per_step\nnet: {input_size: 3, classes: 1}\n",
     "net.input_size is 3, dataset aeon:Lynx has 1 features per step"),
    ("task: per_step\nnet: {input_size: 1, classes: 1, bidirectional: true}\n",
     "task per_step needs net.bidirectional: false"),
])
def test_per_step_spec_errors(tmp_path, text, line):
    path = _spec(tmp_path, text)
    with pytest.raises(HwgenError) as err:
        load_spec(str(path))
    assert str(err.value).startswith(f"{path}: {line}") and "\n" not in str(err.value)


def test_per_step_error_is_one_line_and_exit_2(tmp_path):
    path = _spec(tmp_path, "dataset: aeon:Airline\nnet: {input_size: 1, classes: 2}\n")
    done = run_hwgen("train", str(path), cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "dataset aeon:Airline is a per-step set" in lines[0]


def _raw_series(name: str) -> np.ndarray:
    """Return aeon's shipped series NAME, read here with the csv module (last column)."""
    from hwgen.qat.data import aeon_dir

    with open(aeon_dir() / name / f"{name}.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([float(r[-1]) for r in rows])


def _windows(series, window=12, train=0.75):
    """Return (train starts, test starts) of the README's windows: a training window's inputs
    and targets lie in the first `train` of the points, a test window's last target after."""
    split = int(len(series) * train)
    starts = np.arange(len(series) - window)
    return starts[starts + window < split], starts[starts + window >= split]


@pytest.mark.parametrize("name, points, train, test", [
    ("Airline", 144, 96, 36), ("Lynx", 114, 73, 29), ("ShampooSales", 36, 15, 9)])
def test_forecast_windows(name, points, train, test):
    """x = 12 consecutive points, y_t = the point after x_t; standardized with the training
    windows' statistics; every series point after the training part is some test target."""
    from hwgen.qat.data import load_dataset

    raw = _raw_series(name)
    assert len(raw) == points
    data = load_dataset(f"aeon:{name}")
    assert (data.task, data.classes, data.features) == ("per_step", 1, 1)
    tr, te = _windows(raw)
    assert (len(tr), len(te), len(data.train.x), len(data.test.x)) == (train, test, train, test)
    xs = np.stack([raw[i:i + 12] for i in tr])
    ys = np.stack([raw[i + 1:i + 13] for i in tr])
    assert np.allclose(data.mean, xs.mean()) and np.allclose(data.std, xs.std())
    assert np.allclose(data.target_mean, ys.mean()) and np.allclose(data.target_std, ys.std())
    for k, i in enumerate(te):
        assert np.array_equal(data.test.targets[k][:, 0], raw[i + 1:i + 13])
        assert np.array_equal(data.test.x[k][:, 0],
                              ((raw[i:i + 12] - data.mean[0]) / data.std[0]).astype(np.float32))
    assert set(range(int(points * 0.75), points)) <= {i + 12 for i in te}


def test_npz_per_step_layout(tmp_path):
    """y_step gives per-step targets (standardized over the true steps); errors name the array."""
    from hwgen.qat.data import load_dataset

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(10, 4, 2)), rng.normal(size=(10, 4)) * 5 + 2
    lengths = np.array([4, 2, 3, 4, 1, 4, 4, 2, 4, 4])
    y[np.arange(4)[None, :] >= lengths[:, None]] = 1e6  # padding: must not count
    np.savez(tmp_path / "s.npz", x=x, y_step=y, lengths=lengths)
    spec = load_spec(str(_spec(tmp_path, "dataset: {file: s.npz}\ntask: per_step\n"
                                         "net: {input_size: 2, classes: 1}\n")))
    data = load_dataset(spec.dataset)
    train = np.arange(10) % 5 != 4
    true = np.concatenate([y[i, :lengths[i]] for i in np.flatnonzero(train)])
    assert np.allclose(data.target_mean, true.mean()) and np.allclose(data.target_std, true.std())
    assert [len(s) for s in data.test.x] == [1, 4]
    for bad, message in [
        (dict(x=x, y=y[:, 0], y_step=y), "array 'y_step' and 'y' are both present"),
        (dict(x=x, y_step=y[:, :3]), "array 'y_step' must hold float targets [10, 4]"),
        (dict(x=x, y_step=np.where(y > 1e5, np.nan, y)), "array 'y_step' holds NaN"),
        (dict(x=x, y_step=y.astype(np.int64)), "array 'y_step' must hold float targets"),
    ]:
        np.savez(tmp_path / "bad.npz", **bad)
        with pytest.raises(HwgenError) as err:
            load_spec(str(_spec(tmp_path, "dataset: {file: bad.npz}\ntask: per_step\n"
                                          "net: {input_size: 2, classes: 1}\n", "b.yaml")))
        assert message in str(err.value) and "\n" not in str(err.value)


TINY_PER_STEP = """\
dataset: aeon:ShampooSales
task: per_step
net: {input_size: 1, hidden_size: 4, classes: 1}
bits: {weight: 6, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 6, output_acc: 6, sigmoid: 6,
       tanh: 6, cell_state: 7, head: 6, bias: 12}
train: {seed: 2, float_epochs: 4, qat_epochs: 2, batch_size: 8}
"""


def _figures(values, raw):
    """Return {"mse", "mae"} of standardized per-step outputs [N, 12, 1] of the test windows,
    de-standardized with the training windows' target statistics, against the raw series."""
    tr, te = _windows(raw)
    ys = np.stack([raw[i + 1:i + 13] for i in tr])
    pred = np.asarray(values, dtype=np.float64)[:, :, 0] * ys.std() + ys.mean()
    err = pred - np.stack([raw[i + 1:i + 13] for i in te])
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}


def test_tiny_per_step_end_to_end(tmp_path):
    """hwgen hw on aeon:ShampooSales windows: 0 mismatches in reference, RTL and HLS over every
    step, latencies == the cycle model, and MSE/MAE as computed here from the raw series and
    the reference's (and the RTL's) per-step outputs."""
    import hwgen
    from hwgen.qat.data import load_dataset

    spec = _spec(tmp_path, TINY_PER_STEP, "tiny_step.yaml")
    run = run_hwgen("hw", str(spec), "--no-synth", cwd=tmp_path)  # verification only
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / build_folder(spec)
    report = json.loads((folder / "report.json").read_text())
    assert report["task"] == "per_step" and "accuracy" not in report
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    assert report["sequences"] == 9
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0
    raw = _raw_series("ShampooSales")
    ref_values = np.load(folder / "reference.npy")
    assert ref_values.shape == (9, 12, 1)
    want = _figures(ref_values, raw)
    # equal integer outputs give the same figures through the same code: ==
    assert report["metrics"]["rtl"] == report["metrics"]["reference"] == report["metrics"]["hls"]
    for name in ("quantized", "reference"):  # hwgen's float metric code against this test's
        assert report["metrics"][name] == pytest.approx(want, rel=1e-12), name
    assert "| rtl | " in (folder / "report.md").read_text()

    # the RTL's own outputs, through the Python API: every step, the same figures
    test = load_dataset(load_spec(str(spec)).dataset).test
    design = hwgen.load(folder)
    rtl = design.run(test.x, "rtl")
    assert [np.shape(c) for c in rtl.codes] == [(12, 1)] * 9
    assert all(set(np.asarray(k).tolist()) == {0} for k in rtl.classes)
    assert np.array_equal(np.stack(rtl.values), ref_values)
    assert _figures(np.stack(rtl.values), raw) == want
    pre = design.ir.preprocess
    got = design.evaluate(test.x, backends=("hls",), targets=list(test.targets),
                          target_mean=pre.target_mean[0], target_std=pre.target_std[0])
    assert got["hls"]["mismatches"] == 0
    assert {k: v for k, v in got["hls"].items() if k != "mismatches"} == got["reference"]
    assert got["reference"] == pytest.approx(want, rel=1e-12)  # hwgen's float metric code


def test_ptq_per_step(tmp_path):
    """A ptq spec calibrates a per-step model; its figures are the quantized model's outputs at
    every step, de-standardized, against the raw series (computed here)."""
    import torch

    from hwgen.flow import quant_model, step_train
    from hwgen.qat.data import load_dataset

    spec = load_spec(str(_spec(tmp_path, TINY_PER_STEP + "ptq: {batches: 2}\n")))
    spec = dataclasses.replace(spec, out=str(tmp_path / "build"))
    ckpt = step_train(spec)
    assert ckpt["task"] == "per_step" and ckpt["quant_accuracy"] is None
    test = load_dataset(spec.dataset).test
    with torch.no_grad():
        out = np.concatenate([quant_model(spec, ckpt)(torch.from_numpy(s[None])).numpy()
                              for s in test.x])
    assert out.shape == (9, 12, 1)
    assert ckpt["quant_metrics"] == pytest.approx(_figures(out, _raw_series("ShampooSales")),
                                                  rel=1e-9)
