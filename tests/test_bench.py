"""`hwgen bench --quick`: exact backends, cycles as modelled, resources counted, results reused."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwgen.bench import WORKLOADS, macs_per_step

ROOT = Path(__file__).resolve().parent.parent


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwgen.cli", "bench", *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    run = _bench("--quick", "--no-pnr", "--out", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    return out, run


def test_quick_bench_is_exact_and_costed(quick):
    out, run = quick
    data = json.loads((out / "bench.json").read_text())
    [r] = data["workloads"]
    assert r["error"] is None
    assert r["mismatches"] == {"rtl": 0, "hls": 0}
    cyc = r["cycles_per_step"]
    assert cyc["simulated_min"] == cyc["simulated_max"] == cyc["model"] > 0
    assert r["latency_cycles"]["simulated"] == r["latency_cycles"]["model"]
    assert len(r["latency_cycles"]["simulated"]) == r["sequences"] == 3
    assert r["resources"]["LUT"] > 0 and r["ecp5"]["resources"]["LUT4"] > 0
    assert r["ecp5"]["pnr"] is None and "--no-pnr" in r["ecp5"]["no_pnr"]
    assert r["time"] is None  # no Fmax without place and route
    # input 3, hidden 4: x product 16x3, h product 16x4 (four gates of 4 rows)
    assert r["macs_per_step"] == 16 * 3 + 16 * 4
    assert all(r["seconds"][k] >= 0 for k in ("build", "rtl", "hls", "synth_xilinx", "ecp5"))
    tools = r["tool_seconds"]
    assert tools["synth_xilinx"] > 0 and tools["synth_ecp5"] > 0 and tools["pnr"] is None
    table = (out / "bench.md").read_text()
    assert "| quick | pe all, simd all | " in table and " | 0/0 | " in table
    assert "[hwgen] quick: RTL on Verilator" in run.stdout


def test_second_run_reuses_the_result(quick):
    out, _ = quick
    top = out / "quick" / "design" / "rtl" / "hwgen_top.sv"
    before = (top.stat().st_mtime_ns, (out / "quick" / "result.json").read_bytes())
    run = _bench("--quick", "--no-pnr", "--out", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "quick: reusing" in run.stdout
    assert "Verilator" not in run.stdout and "exporting" not in run.stdout
    assert (top.stat().st_mtime_ns, (out / "quick" / "result.json").read_bytes()) == before
    [r] = json.loads((out / "bench.json").read_text())["workloads"]
    assert r["reused"] is True and r["mismatches"] == {"rtl": 0, "hls": 0}


def test_unknown_workload_is_one_line_exit_2(tmp_path):
    run = _bench("--only", "hidden8,nope", "--out", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.startswith("hwgen: error: --only: unknown workload 'nope'")
    assert run.stderr.count("\n") == 1 and not any(tmp_path.iterdir())


def test_foldings_divide_and_macs_count_both_products():
    for w in WORKLOADS:
        rows = 4 * w.hidden_size
        assert w.pe == 0 or rows % w.pe == 0, w.name
        assert w.simd == 0 or (w.input_size % w.simd == 0 and w.hidden_size % w.simd == 0), w.name

    class Mv:
        def __init__(self, rows, cols):
            self.rows, self.cols = rows, cols

    class Layer:
        def __init__(self, i, h):
            self.x_mv, self.h_mv = Mv(4 * h, i), Mv(4 * h, h)

    class Ir:
        layers = (Layer(32, 128), Layer(32, 128))

    assert macs_per_step(Ir) == 2 * (512 * 32 + 512 * 128)


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    from hwgen.cli import main

    taken = tmp_path / "taken"
    taken.write_text("keep me\n")
    assert main(["bench", "--quick", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hwgen: error: --out {taken}: is a file") and err.count("\n") == 1
    assert taken.read_text() == "keep me\n" and sorted(tmp_path.iterdir()) == [taken]


def test_a_failing_workload_gets_its_reason_and_the_bench_goes_on(tmp_path, monkeypatch):
    import dataclasses

    import hwgen.bench as b

    second = dataclasses.replace(b.QUICK, name="quick2")
    monkeypatch.setattr(b, "select", lambda only, quick: [b.QUICK, second])

    def out_of_memory(w):
        raise b.HwgenError(f"{w.name}: tool ran out of memory")

    monkeypatch.setattr(b, "make_model", out_of_memory)
    data = b.bench(tmp_path, quick=True, pnr=False)
    assert [r["error"] for r in data["workloads"]] == [
        "model: quick: tool ran out of memory", "model: quick2: tool ran out of memory"]
    table = (tmp_path / "bench.md").read_text()
    assert "| quick2 | " in table and "model: quick2: tool ran out of memory |" in table
    again = b.bench(tmp_path, quick=True, pnr=False)  # a failed workload is run again
    assert [r["reused"] for r in again["workloads"]] == [False, False]
