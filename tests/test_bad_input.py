"""Bad input of every kind is refused in seconds, before any training, export or simulation: one
`hwgen: error:` line naming what is wrong, exit status 2, nothing left behind. A failed
verification (a backend that differs from the reference) is one line too, with exit status 3.
"""
import socket
import time
from pathlib import Path

import onnx
import pytest
import torch
from onnx import helper

from tests.test_cli_errors import (assert_one_error_line, export,  # noqa: F401  (a fixture)
                                   hwgen_inprocess)

SPEC = "net: {hidden_size: 4}\ntrain: {float_epochs: 1, qat_epochs: 1}\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Return an empty working folder (the current directory during the test)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _spec(folder, text: str = SPEC, name: str = "spec.yaml"):
    """Return the path of a spec file holding text."""
    path = folder / name
    path.write_text(text)
    return path


def _left(folder) -> list:
    """Return the names in folder (a refused command adds none)."""
    return sorted(p.name for p in folder.iterdir())


def test_spec_not_utf8(folder, hwgen_inprocess):
    spec = folder / "spec.yaml"
    spec.write_bytes(SPEC.encode() + b"# caf\xe9\n")
    line = assert_one_error_line(hwgen_inprocess("train", spec), str(spec), "UTF-8")
    assert "0xe9" in line
    assert _left(folder) == ["spec.yaml"]


@pytest.mark.parametrize("command", ["hw", "sweep", "train", "export", "compare"])
def test_model_is_not_a_spec(folder, hwgen_inprocess, command):
    model = folder / "model.onnx"
    model.write_bytes(b"\x08\x07")
    line = assert_one_error_line(hwgen_inprocess(command, model), str(model), "not a spec")
    assert f"hwgen build {model} --out DIR" in line and "hwgen run" in line
    assert _left(folder) == ["model.onnx"]


@pytest.mark.parametrize("key, value, dataset_has", [
    ("input_size", 13, "12 features per step"), ("classes", 3, "9 classes")])
def test_net_does_not_fit_dataset(folder, hwgen_inprocess, key, value, dataset_has):
    spec = _spec(folder, f"net: {{hidden_size: 4, {key}: {value}}}\n")
    start = time.monotonic()
    for command in ("train", "sweep", "compare"):
        line = assert_one_error_line(hwgen_inprocess(command, spec), str(spec),
                                     f"net.{key} is {value}", "japanese_vowels", dataset_has)
    assert time.monotonic() - start < 30, line  # refused before the dataset is even loaded
    assert _left(folder) == ["spec.yaml"]


def test_sizes_checked_on_loaded_data(folder):
    from hwgen.qat.data import check_sizes, load_dataset
    from hwgen.spec import load_spec
    from hwgen.types import HwgenError

    spec = load_spec(str(_spec(folder)))
    data = load_dataset(spec.dataset)
    check_sizes(spec, data)  # the promised sizes are the real ones
    wider = type(data)(data.name, data.train, data.test, data.mean, data.std, 10)
    with pytest.raises(HwgenError, match="net.classes is 9, dataset japanese_vowels has 10"):
        check_sizes(spec, wider)


def test_qat_epochs_zero_without_ptq(folder, hwgen_inprocess):
    spec = _spec(folder, "train: {qat_epochs: 0}\n")
    assert_one_error_line(hwgen_inprocess("train", spec), str(spec), "train.qat_epochs", "ptq")
    assert _left(folder) == ["spec.yaml"]


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_float_checkpoint_not_finite(folder, hwgen_inprocess, bad):
    from hwgen.qat.model import build_float
    from hwgen.spec import load_spec

    spec = _spec(folder)
    state = build_float(load_spec(str(spec))).state_dict()
    key = next(k for k in state if "weight_hh" in k)
    state[key][0, 0] = float(bad)
    torch.save(state, folder / "float.pt")
    proc = hwgen_inprocess("import", folder / "float.pt", "--spec", spec, "--out", folder / "out")
    assert_one_error_line(proc, str(folder / "float.pt"), key, "NaN")
    assert _left(folder) == ["float.pt", "spec.yaml"]


def test_graph_output_computed_by_no_node(export, folder, hwgen_inprocess):  # noqa: F811
    source, _ = export
    proto = onnx.load(str(source / "model.onnx"))
    proto.graph.output.append(helper.make_tensor_value_info("ghost", onnx.TensorProto.FLOAT,
                                                            [1, 3]))
    onnx.save(proto, str(folder / "model.onnx"))
    proc = hwgen_inprocess("run", folder / "model.onnx", "--input", source / "x.npy",
                           "--output", folder / "y.npy")
    assert_one_error_line(proc, str(folder / "model.onnx"), "'ghost'")
    assert _left(folder) == ["model.onnx"]


@pytest.mark.parametrize("args, named", [
    (["sweep", "lstm4b", "--seed", "-5"], "argument --seed: -5 is not in 0..2147483647"),
    (["sweep", "lstm4b", "--pe", "-1"], "argument --pe: -1"),
    (["sweep", "lstm4b", "--simd", "x"], "argument --simd: 'x' is not an integer"),
    (["sweep", "lstm4b", "--jobs", "0"], "argument --jobs: 0"),
    (["sweep", "lstm4b", "--finetune-epochs", "-1"], "argument --finetune-epochs: -1"),
    (["sweep", "lstm4b", "--bits", ""], "--bits ''"),
    (["sweep", "lstm4b", "--bits", "4-x"], "--bits '4-x'"),
    (["build", "lstm4b", "--out", "o", "--max-steps", "0"], "argument --max-steps: 0"),
    (["import", "f.pt", "--spec", "lstm4b", "--batches", "0"], "argument --batches: 0"),
    (["import", "f.pt", "--spec", "lstm4b", "--percentile", "200"], "argument --percentile"),
    (["train", "lstm4b", "--no-such-option"], "--no-such-option"),
    (["no-such-command"], "'no-such-command'"),
], ids=lambda v: "_".join(v) if isinstance(v, list) else None)
def test_bad_argument(folder, hwgen_inprocess, args, named):
    line = assert_one_error_line(hwgen_inprocess(*args), named)
    assert "usage" not in line
    assert _left(folder) == []


def test_ray_address_unreachable(folder, hwgen_inprocess):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    proc = hwgen_inprocess("sweep", "lstm4b", "--executor", "ray", "--address",
                           f"127.0.0.1:{port}", "--out", folder / "sweep")
    assert time.monotonic() - start < 15
    assert_one_error_line(proc, f"--address 127.0.0.1:{port}")
    assert_one_error_line(hwgen_inprocess("sweep", "lstm4b", "--executor", "ray", "--address",
                                          "no-port", "--out", folder / "sweep"), "'no-port'")
    assert _left(folder) == []


def test_spec_alias_bomb_and_long_values(folder, hwgen_inprocess):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
              f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)]
    spec = _spec(folder, "\n".join(lines) + "\n")
    line = assert_one_error_line(hwgen_inprocess("train", spec), str(spec), "line 1", "anchors")
    assert len(line) < 300
    spec = _spec(folder, "net: {cell: " + "x" * 100000 + "}\n")
    line = assert_one_error_line(hwgen_inprocess("train", spec), str(spec), "net.cell")
    assert len(line) < 400
    assert _left(folder) == ["spec.yaml"]


def test_folding_does_not_divide(folder, hwgen_inprocess):
    spec = _spec(folder, SPEC + "folding: {pe: 3}\n")
    line = assert_one_error_line(hwgen_inprocess("train", spec), str(spec), "PE=3", "16 gate rows")
    assert "folding" in line
    spec = _spec(folder, SPEC)
    assert_one_error_line(hwgen_inprocess("sweep", spec, "--simd", "5", "--out", folder / "s"),
                          "--simd 5", "SIMD=5", "12 columns")
    assert _left(folder) == ["spec.yaml"]


def test_os_error_is_one_line(folder, hwgen_inprocess, monkeypatch):
    import hwgen.flow

    def refuse(*args, **kwargs):
        raise IsADirectoryError(21, "Is a directory", "build/spec/model.onnx")

    monkeypatch.setattr(hwgen.flow, "step_export", refuse)
    proc = hwgen_inprocess("export", _spec(folder))
    assert_one_error_line(proc, "build/spec/model.onnx", "Is a directory")


def test_verification_failure_exits_3(folder, hwgen_inprocess, monkeypatch):
    import dataclasses

    import hwgen.flow

    rtl = {"accuracy": 0.0, "mismatches": 1, "sequences": 2,
           "cycles_per_step": {"simulated": {"min": 4, "max": 4, "mean": 4.0}, "model": 4}}
    results = {"lower": {}, "fold": {}, "emit_rtl": {}, "emit_hls": {},
               "reference": {"sequences": 2, "mismatches": 0, "reference_accuracy": 0.5},
               "sim_rtl": rtl, "sim_hls": {**rtl, "accuracy": 0.5, "mismatches": 0},
               "cost": {"resources": dict.fromkeys(hwgen.flow.RESOURCE_KEYS, 1), "fmax_mhz": None},
               "report": {}}
    monkeypatch.setattr(hwgen.flow, "step_train", lambda spec, **kw: {"quant_accuracy": 0.5})
    monkeypatch.setattr(hwgen.flow, "step_export", lambda spec, ckpt: folder / "model.onnx")
    for name, result in results.items():
        step = dataclasses.replace(hwgen.flow.FLOW[name], run=lambda b, r=result: r)
        monkeypatch.setitem(hwgen.flow.FLOW, name, step)
    proc = hwgen_inprocess("hw", _spec(folder))
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert proc.returncode == 3, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("hwgen: error: the RTL differs"), proc.stderr


def test_train_float_failed_save_leaves_nothing(folder, hwgen_inprocess, monkeypatch):
    """A train-float whose save fails half way (a full disk) is one line; no .pt, no temporary."""
    import hwgen.qat.ptq
    from hwgen.qat.model import build_float

    monkeypatch.setattr(hwgen.qat.ptq, "train_float", lambda spec, *_: build_float(spec))

    def full_disk(obj, path):
        Path(path).write_bytes(b"partial")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(torch, "save", full_disk)
    (folder / "models").mkdir()
    proc = hwgen_inprocess("train-float", _spec(folder), "--out", folder / "models" / "f.pt")
    assert_one_error_line(proc, "No space left on device")
    assert _left(folder / "models") == []
