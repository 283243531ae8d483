"""The Python API: the README's example runs as written; errors are one-line HwgenErrors."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hwgen
from hwgen.flow import reference_codes
from ir_fixtures import fixture_dir

ROOT = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- api-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md has no api-example block"
    return match.group(1)


def test_readme_example_builds_and_verifies(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(_readme_example())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert "model vs reference: 0 mismatches" in lines
    assert any(ln.startswith("rtl: 0 mismatches, accuracy ") for ln in lines), lines
    assert "hls: 0 mismatches" in lines
    cycles = [ln.split() for ln in lines if ln.startswith("cycles per step:")]
    assert cycles and cycles[0][4] == cycles[0][6] and int(cycles[0][4]) > 0, lines
    assert (tmp_path / "build" / "api-example" / "rtl" / "hwgen_top.sv").is_file()


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    return hwgen.build(fixture_dir("lstm_head"), out=tmp_path_factory.mktemp("api") / "d")


def test_reference_backend_is_the_flows_reference(design):
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(t, 12)).astype(np.float32) for t in (3, 5, 5, 1)]
    out = design.run(seqs, "reference")
    assert np.array_equal(np.stack(out.codes), reference_codes(design.ir, seqs))
    assert out.classes == [int(np.argmax(c)) for c in out.codes]
    assert hwgen.load(design.folder).ir.dump() == design.ir.dump()


@pytest.mark.parametrize("call, words", [
    (lambda d: d.run([np.zeros((3, 11))], "reference"), "sequence 0: 11 features per step"),
    (lambda d: d.run([np.zeros(3)], "reference"), "sequence 0: shape [3]"),
    (lambda d: d.run([np.full((2, 12), np.nan)], "reference"), "NaN or infinite"),
    (lambda d: d.run([], "reference"), "no sequences given"),
    (lambda d: d.run([np.zeros((3, 12))], "vivado"), "backend 'vivado' is not one of"),
    (lambda d: d.evaluate([np.zeros((3, 12))], [0, 1], backends=()), "labels: [2], want one"),
    (lambda d: d.evaluate([np.zeros((3, 12))], backends=("reference",)), "backend 'reference'"),
])
def test_bad_calls_give_one_line(design, call, words):
    with pytest.raises(hwgen.HwgenError) as err:
        call(design)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_build_refuses_missing_inputs(tmp_path):
    with pytest.raises(hwgen.HwgenError, match="no such file or folder"):
        hwgen.build(tmp_path / "missing.onnx", out=tmp_path / "o")
    with pytest.raises(hwgen.HwgenError, match="needs an example input"):
        hwgen.build(hwgen.QuantClassifier(3, 4, 2, hwgen.LSTMWidths(), 4), out=tmp_path / "o")
    with pytest.raises(hwgen.HwgenError, match="not a folder written by hwgen.build"):
        hwgen.load(tmp_path)


def test_names_load_lazily():
    code = "import sys, hwgen; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == "False"
    with pytest.raises(AttributeError):
        hwgen.no_such_name  # noqa: B018
