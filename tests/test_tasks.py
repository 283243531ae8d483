"""task: regress: the spec key checked against the dataset, training, metrics and the hardware."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwgen.spec import load_spec
from hwgen.types import HwgenError
from tests.hwgen_cli import run_hwgen


def _spec(tmp_path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, line", [
    ("dataset: aeon:GunPoint\ntask: regress\nnet: {input_size: 1, classes: 2}\n",
     "task is regress, dataset aeon:GunPoint is a classification set (task: classify)"),
    ("dataset: aeon:Covid3Month\nnet: {input_size: 1, classes: 2}\n",
     "task is classify, dataset aeon:Covid3Month is a regression set (task: regress)"),
    ("dataset: aeon:Covid3Month\ntask: regress\nnet: {input_size: 1, classes: 2}\n",
     "net.classes is 2, dataset aeon:Covid3Month has 1 targets per sequence"),
    ("dataset: aeon:GunPoint\nnet: {input_size: 1, classes: 1}\n",
     "net.classes must be at least 2 for task classify, got 1"),
    ("task: forecast\n", "task must be one of classify, regress, per_step, next_token, got 'forecast'"),
    ("task: [regress]\n", "task must be one of classify, regress, per_step"),
])
def test_task_checked_against_the_dataset(tmp_path, text, line):
    path = _spec(tmp_path, text)
    with pytest.raises(HwgenError) as err:
        load_spec(str(path))
    assert str(err.value).startswith(f"{path}: {line}") and "\n" not in str(err.value)


def test_task_error_is_one_line_and_exit_2(tmp_path):
    path = _spec(tmp_path, "dataset: aeon:GunPoint\ntask: regress\nnet: {input_size: 1, "
                           "classes: 2}\n")
    done = run_hwgen("train", str(path), cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "task is regress, dataset aeon:GunPoint" in lines[0]


def test_npz_task_follows_y(tmp_path):
    np.savez(tmp_path / "r.npz", x=np.zeros((6, 3, 2)), y=np.linspace(0, 1, 12).reshape(6, 2))
    ok = load_spec(str(_spec(tmp_path, "dataset: {file: r.npz}\ntask: regress\n"
                                       "net: {input_size: 2, classes: 2}\n")))
    assert ok.task == "regress" and ok.to_dict()["task"] == "regress"
    with pytest.raises(HwgenError, match="task is classify, dataset .*r.npz is a regression"):
        load_spec(str(_spec(tmp_path, "dataset: {file: r.npz}\nnet: {input_size: 2, "
                                      "classes: 2}\n")))


def test_classify_keeps_its_training_hash(tmp_path):
    """Checkpoints trained before `task:` existed stay valid: classify adds nothing to the hash."""
    plain = load_spec(str(_spec(tmp_path, "net: {hidden_size: 4}\n")))
    explicit = load_spec(str(_spec(tmp_path, "task: classify\nnet: {hidden_size: 4}\n")))
    assert plain.training_hash() == explicit.training_hash()


TINY_REGRESS = """\
dataset: {file: data.npz}
task: regress
net: {input_size: 2, hidden_size: 4, classes: 1}
bits: {weight: 4, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 4, bias: 12}
train: {seed: 3, float_epochs: 3, qat_epochs: 1, batch_size: 16}
"""


def _tiny_regression_set(path):
    """Write a .npz regression set (variable lengths, one target: a scaled mean of feature 0);
    return its arrays."""
    rng = np.random.default_rng(11)
    n, steps = 40, 7
    lengths = rng.integers(2, steps + 1, size=n)
    x = rng.normal(size=(n, steps, 2))
    valid = np.arange(steps)[None, :] < lengths[:, None]
    y = 3.0 * (x[:, :, 0] * valid).sum(axis=1) / lengths + 10.0 + 0.1 * rng.normal(size=n)
    split = (np.arange(n) % 4 == 3).astype(np.int64)
    np.savez(path, x=x, lengths=lengths, y=y, split=split)
    return {"x": x, "lengths": lengths, "y": y, "split": split}


def _mse_mae(values, raw, split):
    """Return (MSE, MAE) of standardized outputs against the raw test targets, the targets'
    statistics taken from the training part (as the README describes)."""
    train = raw[split == 0]
    pred = np.asarray(values, dtype=np.float64)[:, 0] * train.std() + train.mean()
    err = pred - raw[split == 1]
    return float(np.mean(err ** 2)), float(np.mean(np.abs(err)))


def test_tiny_regression_end_to_end(tmp_path):
    """hwgen hw on a tiny .npz regression set (one output: the head with C = 1 inside the
    engine): 0 mismatches in reference, RTL and HLS, and MSE/MAE as computed here from the
    reference's and the RTL's outputs."""
    import json

    import hwgen
    from hwgen.qat.data import load_dataset
    from tests.hwgen_cli import build_folder

    arrays = _tiny_regression_set(tmp_path / "data.npz")
    spec = tmp_path / "tiny_regress.yaml"
    spec.write_text(TINY_REGRESS)
    run = run_hwgen("hw", str(spec), "--no-synth", cwd=tmp_path)  # verification only
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / build_folder(spec)
    report = json.loads((folder / "report.json").read_text())
    assert report["task"] == "regress" and "accuracy" not in report
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    assert report["sequences"] == int(arrays["split"].sum()) == 10
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0
    metrics = report["metrics"]
    ref_values = np.load(folder / "reference.npy")
    mse, mae = _mse_mae(ref_values, arrays["y"], arrays["split"])
    for name in ("quantized", "reference", "rtl", "hls"):
        assert metrics[name] == {"mse": mse, "mae": mae}, name
    assert set(metrics["float"]) == {"mse", "mae"}
    assert "| rtl | " in (folder / "report.md").read_text()

    # The RTL's own outputs, run again through the Python API, give the same figures.
    test = load_dataset(load_spec(str(spec)).dataset).test
    design = hwgen.load(folder)
    rtl = design.run(test.x, "rtl")
    assert all(len(c) == 1 for c in rtl.codes) and set(rtl.classes) == {0}
    assert _mse_mae(np.stack(rtl.values), arrays["y"], arrays["split"]) == (mse, mae)
    train = arrays["y"][arrays["split"] == 0]
    # design.json (and the saved IR) say how an output code becomes a target
    pre = json.loads((folder / "rtl" / "design.json").read_text())["preprocess"]
    assert (pre["target_mean"], pre["target_std"]) == ([train.mean()], [train.std()])
    assert design.ir.preprocess.target_mean == (train.mean(),)
    exp = json.loads((folder / "hls" / "design.json").read_text())["output"]["exp"]
    assert np.array_equal(np.stack(rtl.codes)[:, 0] * 2.0 ** exp, np.stack(rtl.values)[:, 0])
    got = design.evaluate(test.x, backends=("rtl",), targets=arrays["y"][arrays["split"] == 1],
                          target_mean=train.mean(), target_std=train.std())
    assert got["rtl"]["mismatches"] == 0 and got["rtl"]["mse"] == mse
    assert got["reference"] == {"mse": mse, "mae": mae}


def test_ptq_regression_with_two_outputs(tmp_path):
    """A ptq spec calibrates on a regression set with two targets per sequence; the checkpoint's
    figures are the quantized model's outputs de-standardised per output, computed here."""
    import torch

    from hwgen.flow import quant_model, step_train
    from hwgen.qat.data import load_dataset

    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 5, 1))
    y = np.stack([x[:, :, 0].sum(axis=1), 100.0 + 20.0 * x[:, -1, 0]], axis=1)
    np.savez(tmp_path / "two.npz", x=x, y=y)
    spec = load_spec(str(_spec(tmp_path, """\
dataset: {file: two.npz}
task: regress
net: {input_size: 1, hidden_size: 3, classes: 2}
train: {seed: 1, float_epochs: 2, batch_size: 8}
ptq: {batches: 2}
""")))
    spec = dataclasses.replace(spec, out=str(tmp_path / "build"))
    ckpt = step_train(spec)
    assert ckpt["task"] == "regress" and ckpt["quant_accuracy"] is None
    assert ckpt["preprocess"]["target_mean"] == list(y[np.arange(30) % 5 != 4].mean(axis=0))
    test = load_dataset(spec.dataset).test
    with torch.no_grad():
        out = np.concatenate([quant_model(spec, ckpt)(torch.from_numpy(s[None])).numpy()
                              for s in test.x]).astype(np.float64)
    train = y[np.arange(30) % 5 != 4]
    err = out * train.std(axis=0) + train.mean(axis=0) - y[np.arange(30) % 5 == 4]
    want = {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}
    assert ckpt["quant_metrics"] == pytest.approx(want, rel=1e-6)
    assert ckpt["ptq"]["metrics"]["calibrated"] == ckpt["quant_metrics"]
    assert set(ckpt["float_metrics"]) == {"mse", "mae"}


def test_hls_head_with_one_output(tmp_path):
    """The HLS head with one output (C = 1): scores equal to the IR executor and Brevitas, class
    always 0, for sequences of several lengths."""
    import torch

    from hwgen.codegen.hls import emit_hls
    from hwgen.ir.graph import execute
    from hwgen.onnx.graph import load_model
    from hwgen.passes.lower import lower
    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier
    from hwgen.sim.design import load_design, quantize_inputs
    from hwgen.sim.hls_run import run_hls

    torch.manual_seed(21)
    model = QuantClassifier(3, 5, 1, LSTMWidths(weight=4, io=6, cell_state=6), 5).eval()
    x = torch.randn(4, 6, 3)
    export_model(model, x, tmp_path / "r.onnx")
    ir = lower(load_model(tmp_path / "r.onnx"))
    assert ir.out_count == 1
    hls = emit_hls(ir, tmp_path / "out", "one output")
    design = load_design(hls)
    seqs = list(quantize_inputs(x.numpy(), design)) + [quantize_inputs(x.numpy()[2, :3], design)]
    result = run_hls(hls, seqs, tmp_path / "build")
    for k, seq in enumerate(seqs):
        assert np.array_equal(result.outputs[k], execute(ir, seq[:, None, :])["scores"][0]), k
    assert result.classes == [0] * len(seqs)
    with torch.no_grad():
        want = model(x).numpy()
    got = np.stack(result.outputs[:4]).astype(np.float32) * np.float32(design.y_type.scale)
    assert np.array_equal(got, want)


def test_report_of_a_regression_model():
    """report.json holds metrics instead of accuracy, report.md a table of MSE and MAE."""
    from hwgen import report as rep
    from tests.test_report import IR, ecp5, results

    figures = {"mse": 0.25, "mae": 0.5}
    ckpt = {"task": "regress", "float_accuracy": None, "quant_accuracy": None,
            "float_metrics": {"mse": 0.125, "mae": 0.375}, "quant_metrics": figures}
    steps = results({"fmax_mhz": None, "ecp5": ecp5(no_pnr="place and route not asked")})
    for name in ("reference", "sim_rtl", "sim_hls"):
        steps[name]["metrics"] = figures
    r = rep.build_report("m", {}, ckpt, IR(), steps)
    assert r["task"] == "regress" and "accuracy" not in r
    assert r["metrics"] == {"float": {"mse": 0.125, "mae": 0.375}, "quantized": figures,
                            "reference": figures, "rtl": figures, "hls": figures}
    md = rep.report_md(r)
    assert "| | MSE | MAE |" in md and "| float | 0.125 | 0.375 |" in md
    assert "| hls | 0.25 | 0.5 |" in md and "accuracy" not in md


def test_sweep_rows_and_results_of_a_regression_model(tmp_path):
    """A regression sweep point carries MSE and MAE columns; results.md tabulates them."""
    from hwgen.sweep import report as sweep_report
    from hwgen.sweep.run import point_summary, task_metrics

    ckpt = {"float_accuracy": None, "quant_accuracy": None,
            "float_metrics": {"mse": 1.0, "mae": 0.5}, "quant_metrics": {"mse": 2.0, "mae": 0.75}}
    cols = task_metrics(ckpt, {"metrics": {"mse": 2.0, "mae": 0.75}})
    assert cols == {"mse_float": 1.0, "mae_float": 0.5, "mse_quant": 2.0, "mae_quant": 0.75,
                    "mse_int": 2.0, "mae_int": 0.75}
    assert task_metrics({"float_accuracy": 0.5, "quant_accuracy": 0.5}, {"mismatches": 0}) == {}
    row = {"point": "b4", "vary": "all", "bits": 4, "seed": 0, "status": "done",
           "acc_float": None, "acc_quant": None, "acc_int": None, "mismatches": 0,
           "LUT": 10, "FF": 3, "DSP": 0, "BRAM": 0.0, **cols}
    assert point_summary(row) == "integer MSE 2, MAE 0.75, LUT 10, DSP 0"
    paths = sweep_report.write_results(tmp_path, [row], {"model": "m", "vary": "all"})
    md = (tmp_path / "results.md").read_text()
    assert "| bits | float MSE | fake-quant MSE | integer MSE |" in md
    assert "| 4 | 1 | 2 | 2 | 0.5 | 0.75 | 0.75 |" in md
    assert "mse_int" in (tmp_path / "results.csv").read_text() and paths


def test_compare_of_a_regression_model(tmp_path):
    """`hwgen compare` (PTQ per width) on a regression set: MSE and MAE of every model."""
    import json

    from tests.hwgen_cli import build_folder

    _tiny_regression_set(tmp_path / "data.npz")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_REGRESS.replace("qat_epochs: 1, ", "") + "ptq: {batches: 2}\n")
    run = run_hwgen("compare", "tiny.yaml", "--bits", "4,8", "--finetune-epochs", "1",
                    cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / "build" / "compare" / build_folder(spec).name
    rows = json.loads((folder / "compare.json").read_text())["rows"]
    assert [r["bits"] for r in rows] == [4, 8]
    for row in rows:
        assert row["acc_float"] is None and row["acc_calibrated"] is None
        for model in ("float", "torch_int8", "torch_weights", "calibrated", "finetuned"):
            assert row[f"mse_{model}"] >= row[f"mae_{model}"] ** 2 > 0, (row["bits"], model)
    assert len({r["mse_float"] for r in rows}) == 1  # one float model for every width
    md = (folder / "compare.md").read_text()
    assert "| bits | float MSE / MAE |" in md and "\n| 8 | " in md
    assert "mse_finetuned" in (folder / "compare.csv").read_text()
