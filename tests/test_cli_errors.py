"""The `hwgen` command on bad input: one `hwgen: error:` line, exit status 2, no output file.

Each case changes one thing of a tiny valid export or its input. Every case runs in this process
through ``hwgen.cli.main`` with stderr captured at file-descriptor level (so onnxruntime's own log
lines count too); a curated few also run as the real command in a subprocess, which costs ~3 s each.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from hwgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


@pytest.fixture(scope="session")
def export(tmp_path_factory):
    """Return (folder with model.onnx and x.npy, the model's float32 output for x)."""
    import torch

    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier

    folder = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    m = QuantClassifier(5, 7, 3, LSTMWidths(weight=4), 4).eval()
    export_model(m, torch.randn(1, 6, 5), folder / "model.onnx")
    x = torch.randn(2, 4, 5)  # batch and time differ from the export's [1, 6, 5]
    np.save(folder / "x.npy", x.numpy())
    with torch.no_grad():
        expected = m(x).numpy()
    return folder, expected


def hwgen_subprocess(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    """Return the finished `python -m hwgen.cli ARGS` process."""
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture
def hwgen_inprocess(capfd):
    """Return a function running hwgen.cli.main(ARGS) here, giving its status and output."""
    def run(*args) -> subprocess.CompletedProcess:
        capfd.readouterr()
        status = main([str(a) for a in args])
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(args, status, out, err)
    return run


def assert_one_error_line(proc, *names) -> str:
    """Check proc failed as bad input with one line naming every one of names; return the line."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hwgen: error:"), proc.stderr
    assert proc.returncode == 2, proc.stderr
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]


# --- the model file -----------------------------------------------------------------------------
def _model_bytes(make):
    """Return a case whose model file holds make(valid export bytes); None: no file at all."""
    def build(folder, tmp):
        model = tmp / "model.onnx"
        if make is not None:
            model.write_bytes(make((folder / "model.onnx").read_bytes()))
        return model, folder / "x.npy", [str(model)]
    return build


# --- the graph: each mutation changes the export in one place and returns the node to name ------
def _node(proto, op_type: str):
    """Return the first node of op_type."""
    return next(n for n in proto.graph.node if n.op_type == op_type)


def _producer(proto, tensor: str):
    """Return the node that writes tensor."""
    return next(n for n in proto.graph.node if tensor in n.output)


def _scale_03(proto, node, index: int) -> str:
    """Make input index of node (a scale) a new constant 0.3; return the node's name."""
    tensor = f"{node.name}_scale_0p3"
    proto.graph.initializer.append(numpy_helper.from_array(np.array(0.3, np.float32), tensor))
    node.input[index] = tensor
    return node.name


def scale_input_quant(proto):
    return _scale_03(proto, _producer(proto, _node(proto, "QuantLSTMCell").input[0]), 1)


def scale_lstm_weight(proto):
    return _scale_03(proto, _producer(proto, _node(proto, "QuantLSTMCell").input[3]), 1)


def scale_head_weight(proto):
    return _scale_03(proto, _producer(proto, _node(proto, "Gemm").input[1]), 1)


def scale_cell_quantizer(proto):
    return _scale_03(proto, _node(proto, "QuantLSTMCell"), 15)  # the cell's output quantizer


def gather_as_softmax(proto):
    node = _node(proto, "Gather")
    node.op_type = "Softmax"
    return node.name


def sigmoid_appended(proto):
    gemm = _node(proto, "Gemm")
    final = gemm.output[0]
    gemm.output[0] = "scores"
    proto.graph.node.append(helper.make_node("Sigmoid", ["scores"], [final], name="Sigmoid_0"))
    return "Sigmoid_0"


def _cut_cell_inputs(proto, keep: int) -> str:
    """Delete the cell's inputs from index keep on; return the cell's name."""
    node = _node(proto, "QuantLSTMCell")
    del node.input[keep:]
    return node.name


def cell_last_quantizer_cut(proto):
    return _cut_cell_inputs(proto, -3)


def cell_last_input_cut(proto):
    return _cut_cell_inputs(proto, -1)


def cell_no_quantizers(proto):
    return _cut_cell_inputs(proto, 15)


def _graph(mutate):
    """Return a case whose model is the export changed by mutate, which names the node to report."""
    def build(folder, tmp):
        proto = onnx.load(str(folder / "model.onnx"))
        name = mutate(proto)
        model = tmp / "model.onnx"
        onnx.save(proto, str(model))
        return model, folder / "x.npy", [str(model), repr(name)]
    return build


# --- the input ----------------------------------------------------------------------------------
def _x_array(make):
    """Return a case whose input .npy holds make(valid input)."""
    def build(folder, tmp):
        x = tmp / "x.npy"
        np.save(x, make(np.load(folder / "x.npy")))
        return folder / "model.onnx", x, [str(x)]
    return build


def _x_bytes(content):
    """Return a case whose input file holds content; None: no file at all."""
    def build(folder, tmp):
        x = tmp / "x.npy"
        if content is not None:
            x.write_bytes(content)
        return folder / "model.onnx", x, [str(x)]
    return build


def _one_bad(x, k: int, value):
    """Return x with its k-th element (flat order) set to value."""
    bad = x.copy()
    bad.reshape(-1)[k] = value
    return bad


RUN_CASES = {
    "model_missing": _model_bytes(None),
    "model_truncated": _model_bytes(lambda valid: valid[:100]),
    "model_not_onnx": _model_bytes(lambda valid: b"this is a text file, not a protobuf\n" * 20),
    "model_empty_file": _model_bytes(lambda valid: b""),
    **{f"graph_{m.__name__}": _graph(m) for m in [
        scale_input_quant, scale_lstm_weight, scale_head_weight, scale_cell_quantizer,
        gather_as_softmax, sigmoid_appended, cell_last_quantizer_cut, cell_last_input_cut,
        cell_no_quantizers]},
    "x_rank_2": _x_array(lambda x: x[0]),
    "x_rank_4": _x_array(lambda x: x[None]),
    "x_features_6": _x_array(lambda x: np.zeros((2, 4, 6), np.float32)),
    "x_features_4": _x_array(lambda x: x[..., :4]),
    "x_nan": _x_array(lambda x: _one_bad(x, 7, np.nan)),
    "x_inf": _x_array(lambda x: _one_bad(x, 3, -np.inf)),
    "x_no_time_steps": _x_array(lambda x: x[:, :0]),
    "x_bool": _x_array(lambda x: x > 0),
    "x_not_npy": _x_bytes(b"1.0 2.0 3.0\n"),
    "x_missing": _x_bytes(None),
}
# The real command, once per kind of failure (and the case where onnxruntime used to log).
SUBPROCESS_CASES = ["model_truncated", "graph_scale_head_weight", "graph_cell_last_quantizer_cut",
                    "x_no_time_steps"]


def _check_bad_run(run, export, tmp_path, case) -> str:
    """Run a bad-input case with run, check the error and that nothing was written; return it."""
    folder, _ = export
    model, x, names = RUN_CASES[case](folder, tmp_path)
    out = tmp_path / "out" / "y.npy"
    line = assert_one_error_line(run("run", model, "--input", x, "--output", out), *names)
    assert not out.parent.exists() or not any(out.parent.iterdir())
    if case.startswith("graph_scale_"):
        assert "power of two" in line
    return line


@pytest.mark.parametrize("case", RUN_CASES)
def test_bad_run(export, tmp_path, hwgen_inprocess, case):
    _check_bad_run(hwgen_inprocess, export, tmp_path, case)


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_run_real_command(export, tmp_path, case):
    _check_bad_run(hwgen_subprocess, export, tmp_path, case)


def test_valid_run_matches_torch(export, tmp_path):
    folder, expected = export
    out = tmp_path / "new" / "y.npy"
    proc = hwgen_subprocess("run", folder / "model.onnx", "--input", folder / "x.npy",
                            "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    y = np.load(out)
    assert y.dtype == np.float32 and y.shape == (2, 3)
    assert np.array_equal(y, expected)
    assert [p.name for p in out.parent.iterdir()] == ["y.npy"]  # no temporary file left


@pytest.mark.parametrize("where", ["directory", "under_a_file", "empty_name"])
def test_unwritable_output(export, tmp_path, hwgen_inprocess, where):
    folder, _ = export
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "file").write_text("")
    out = {"directory": tmp_path / "dir.npy", "under_a_file": tmp_path / "file" / "y.npy",
           "empty_name": ""}[where]
    proc = hwgen_inprocess("run", folder / "model.onnx", "--input", folder / "x.npy",
                           "--output", out)
    assert_one_error_line(proc, repr(out) if out == "" else str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.npy", "file"]  # no temporary file
    assert not any((tmp_path / "dir.npy").iterdir())


# --- hwgen train: in an empty folder, so that a bad spec getting through leaves no build/ behind -
def test_train_unknown_model(tmp_path):
    proc = hwgen_subprocess("train", "NO_SUCH_MODEL", cwd=tmp_path)
    assert_one_error_line(proc, "'NO_SUCH_MODEL'")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("text, key", [
    ("net:\n  hidden_size: 8\nbogus: 1\n", "'bogus'"),
    ("bits:\n  weight: 4\n  wieght: 3\n", "'bits.wieght'"),
    ("net:\n  hidden_size: 8\nfolding:\n  lanes: 3\n", "folding.lanes=3"),
], ids=["top_level", "in_bits", "lanes_not_dividing_hidden"])
def test_train_spec_with_unknown_key(tmp_path, monkeypatch, hwgen_inprocess, text, key):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "some_spec.yaml"
    spec.write_text(text)
    assert_one_error_line(hwgen_inprocess("train", spec), str(spec), key)
    assert [p.name for p in tmp_path.iterdir()] == ["some_spec.yaml"]
