"""On Verilator: a `.onnx` whose name holds SystemVerilog after a newline never runs it, and a
design in a folder whose path holds spaces (which make refuses) still builds and runs.

The hostile case builds a copy of a tiny export under a name whose payload binds a module with
`$system("touch pwned")` into hwgen_top, runs the design on a couple of sequences, and checks the
marker file does not exist, the outputs equal the reference and the generated files equal a
benign build's but for their first line (see tests/hostile_names.py).
"""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from hwgen.backends import run_backend_rtl
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.sim.tools import make_safe_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile_names import (MARKER, PAYLOADS, assert_inert, build_as,  # noqa: E402
                           export_tiny, markers)

FAST_BUILD = "-O0"  # a few dozen cycles: compile time dominates


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Return (model.onnx, x) of a tiny export in a folder whose path holds a space."""
    folder = tmp_path_factory.mktemp("tiny") / "with space"
    folder.mkdir()
    return export_tiny(folder)


def test_sv_payload_does_not_run(tiny, tmp_path, monkeypatch):
    model, x = tiny
    benign = build_as(model, "benign", tmp_path / "benign")
    out = build_as(model, PAYLOADS["sv"], tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    got = run_backend_rtl(model, x, out / "rtl", tmp_path / "sim", compile_opt=FAST_BUILD)
    assert not markers(tmp_path, model.parent), f"the SystemVerilog payload ran ({MARKER} exists)"
    np.testing.assert_array_equal(got, run_reference(load_model(model), x))
    assert_inert(out, benign)


def test_build_folder_with_spaces(tiny):
    model, x = tiny
    out = build_as(model, "model copy", model.parent / "build out")
    wanted = out / "sim build"
    used = make_safe_dir(wanted)
    try:
        got = run_backend_rtl(model, x, out / "rtl", wanted, compile_opt=FAST_BUILD)
        np.testing.assert_array_equal(got, run_reference(load_model(model), x))
        assert " " not in str(used) and (used / "build.key").is_file()
    finally:
        shutil.rmtree(used, ignore_errors=True)
