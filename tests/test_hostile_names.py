"""Hostile input names never run: a `.onnx` whose name holds Tcl or C++ code after a newline.

Each case builds a copy of a tiny export under a hostile name with `hwgen build`, then runs the
artifact that would execute the payload (build.tcl in Tcl, the vendor commands as no-ops;
the HLS C simulation compiled with g++) in a folder where the payload would create its marker
file. The marker must not exist, every generated file must equal a benign build's but for its
first line (one comment line), and the outputs must still equal the reference. The
SystemVerilog case runs on Verilator in rtl_tests/test_hostile_names_rtl.py. Also here:
safe_text itself, and folders a failed emission must not leave behind.
"""
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hostile_names import (MARKER, PAYLOADS, assert_inert, build_as, export_tiny, markers)
from hwgen.codegen.env import SAFE_CHARS, SAFE_TEXT_MAX, safe_text
from hwgen.onnx.graph import load_model
from hwgen.passes.lower import lower
from hwgen.types import HwgenError
from test_cli_errors import assert_one_error_line, hwgen_inprocess  # noqa: F401  (a fixture)

VENDOR_COMMANDS = ("open_project", "set_top", "add_files", "open_solution", "set_part",
                   "create_clock", "csynth_design", "export_design")
# build.tcl with the vendor commands as no-ops; `exit` (its last line) says it got there
TCL_HARNESS = "".join(f"proc {c} args {{}}\n" for c in VENDOR_COMMANDS) + (
    "catch {rename exit {}}\nproc exit args { puts finished; flush stdout }\n"
    "source [lindex $argv 0]\n")

# The Tcl interpreter that ships with Python (tkinter), in its own process as tclsh would be:
# argv[1] is the harness, argv[2] the script it sources.
TCL_RUNNER = ("import sys, tkinter\ntcl = tkinter.Tcl()\ntcl.call('set', 'argv', (sys.argv[2],))\n"
              "tcl.eval(sys.argv[1])\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Return (model.onnx, x, a benign build of it) shared by the cases."""
    folder = tmp_path_factory.mktemp("tiny")
    model, x = export_tiny(folder)
    return model, x, build_as(model, "benign", folder / "benign")


@pytest.mark.parametrize("text", ["a\nb", "x\\", "??/", "*/", "$system", "[exec ls]", "{;}",
                                  "\"'`", "é\u2028\r\t\0", "z" * 1000])
def test_safe_text_is_one_inert_line(text):
    line = safe_text(text)
    assert set(line) <= SAFE_CHARS
    assert len(line) <= SAFE_TEXT_MAX + 3
    assert "??" not in line and not line.endswith("\\")


def test_safe_text_keeps_plain_names():
    assert safe_text("lstm4b (build/lstm4b/model.onnx)") == "lstm4b (build/lstm4b/model.onnx)"


def test_tcl_payload_does_not_run(tiny, tmp_path):
    model, _, benign = tiny
    out = build_as(model, PAYLOADS["tcl"], tmp_path / "out")
    done = subprocess.run([sys.executable, "-c", TCL_RUNNER, TCL_HARNESS,
                           str(out / "hls" / "build.tcl")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert not markers(tmp_path, model.parent), f"the Tcl payload ran ({MARKER} exists)"
    assert done.returncode == 0 and done.stdout.strip() == "finished", done.stderr
    assert_inert(out, benign)


def test_cpp_payload_does_not_run(tiny, tmp_path, monkeypatch):
    from hwgen.onnx.execute import run_reference
    from hwgen.onnx.graph import load_model
    from hwgen.backends import run_backend_hls

    model, x, benign = tiny
    out = build_as(model, PAYLOADS["cpp"], tmp_path / "out")
    monkeypatch.chdir(tmp_path)  # where the payload's `touch` would write
    got = run_backend_hls(model, x, out / "hls", tmp_path / "hls_build")
    assert not markers(tmp_path, model.parent), f"the C++ payload ran ({MARKER} exists)"
    np.testing.assert_array_equal(got, run_reference(load_model(model), x))
    assert_inert(out, benign)


# --- a failed emission leaves nothing behind ----------------------------------------------------
def leftovers(out) -> list:
    """Return the names of emission folders (final or private) in out."""
    return sorted(p.name for p in out.iterdir() if p.name.lstrip(".").startswith(("rtl", "hls")))


def test_refused_folding_leaves_nothing(tiny, tmp_path, hwgen_inprocess):
    model, _, _ = tiny
    out = tmp_path / "out"
    out.mkdir()
    proc = hwgen_inprocess("build", model, "--out", out, "--pe", 5)  # 5 divides no row count
    assert_one_error_line(proc, "PE=5")
    assert leftovers(out) == []


@pytest.mark.parametrize("error", [HwgenError("refused"), KeyboardInterrupt()])
def test_failed_emission_keeps_the_old_folders(tiny, tmp_path, monkeypatch, error):
    import hwgen.codegen.hls
    import hwgen.codegen.rtl
    model, _, benign = tiny
    out = tmp_path / "out"
    shutil.copytree(benign, out)
    ir = lower(load_model(model))

    def fail(*_):
        raise error
    for module, emit in ((hwgen.codegen.rtl, "emit_rtl"), (hwgen.codegen.hls, "emit_hls")):
        monkeypatch.setattr(module, "render", fail)
        with pytest.raises(type(error)):
            getattr(module, emit)(ir, out, "m.onnx")
    assert leftovers(out) == ["hls", "rtl"]
    for f in sorted(benign.rglob("*")):
        assert f.is_dir() or f.read_bytes() == (out / f.relative_to(benign)).read_bytes(), f


def test_concurrent_emissions_into_one_folder(tiny, tmp_path):
    from hwgen.codegen.rtl import emit_rtl
    model, _, benign = tiny
    ir = lower(load_model(model))
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: emit_rtl(ir, tmp_path, "benign.onnx"),
                             range(8)))
    assert done == [tmp_path / "rtl"] * 8 and leftovers(tmp_path) == ["rtl"]
    assert sorted(p.name for p in (tmp_path / "rtl").rglob("*")) == \
        sorted(p.name for p in (benign / "rtl").rglob("*"))
