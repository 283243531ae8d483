"""End to end on tiny stacks: `hwgen hw` trains, exports, checks the reference, builds and simulates
the RTL, and reports 0 mismatches (the single-layer tiny spec runs in test_cache_concurrency)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hwgen_cli import build_folder, run_hwgen

import hwgen.onnx.graph
import hwgen.passes.lower
from hwgen import cli, flow
from hwgen.ir.store import load_ir

TINY_STACKS = {
    # two bidirectional CIFG LSTM layers: four engines, sequence buffers, equal-length batches
    "bi2": """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 2, num_layers: 2, bidirectional: true, cifg: true, classes: 9}
bits: {weight: 4, io: 6, input_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5, tanh: 5,
       cell_state: 6, head: 4, bias: 12}
train: {seed: 4, float_epochs: 1, qat_epochs: 1, batch_size: 64}
folding: {max_steps: 29}
""",
    # a relu QuantRNN without bias, per-channel weight scales: hwgen's own export path
    "rnn": """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 6, cell: rnn, nonlinearity: relu, bias: false,
      per_channel_weights: true, classes: 9}
bits: {weight: 4, io: 6, input_acc: 7, head: 4, bias: 12}
train: {seed: 5, float_epochs: 2, qat_epochs: 1, batch_size: 64}
""",
    # post-training quantization: a float LSTM calibrated (least-error ranges), no QAT
    "ptq": """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 4, classes: 9}
bits: {weight: 5, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 5, bias: 12}
train: {seed: 6, float_epochs: 3, batch_size: 64}
ptq: {batches: 2}
""",
}


# bi2 (about 3 minutes) runs in `make test-slow`: the RTL and HLS of 2-layer bidirectional CIFG
# stacks are checked in make test by rtl_tests/test_e2e_stack.py and tests/test_hls_stack.py.
@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n == "bi2" else [])
                                  for n in sorted(TINY_STACKS) if n != "rnn"])
def test_hw_flow_on_tiny_stacks(name, tmp_path):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(TINY_STACKS[name])
    # verification only: Yosys and nextpnr run in the rnn test below
    run = run_hwgen("hw", str(spec), "--no-synth", cwd=tmp_path)
    assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
    check_report(name, json.loads((tmp_path / build_folder(spec) / "report.json").read_text()))


def check_report(name: str, report: dict) -> None:
    """Check a tiny stack's report: every backend equals the reference, cycles as modelled."""
    assert report["sequences"] == 370
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    acc = report["accuracy"]
    assert acc["reference"] == acc["quantized"] == acc["rtl"] == acc["hls"]
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0
    if name == "ptq":
        post = report["post_training"]
        assert post["calibrated"] == acc["quantized"] and post["finetuned"] is None


def write_user_npz(path) -> tuple:
    """Write a small user dataset in the documented layout: 40 sequences of 3..9 steps, 2
    features, 3 classes (the sign pattern of the feature means), every fourth a test sequence."""
    rng = np.random.default_rng(7)
    lengths = rng.integers(3, 10, size=40)
    y = np.arange(40) % 3
    x = rng.normal(size=(40, 9, 2)) + np.array([[-1, 0], [1, 1], [0, -1]])[y][:, None, :]
    x[np.arange(9)[None, :] >= lengths[:, None]] = 0.0  # padding
    split = (np.arange(40) % 4 == 3).astype(np.int64)
    np.savez(path, x=x, lengths=lengths, y=y, split=split)
    return lengths[split == 1], y[split == 1]


USER_SPEC = """\
dataset: {{file: mine.npz}}
net: {{input_size: 2, hidden_size: 3, classes: 3}}
bits: {{weight: 4, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 6, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 4, bias: 12}}
train: {{seed: 2, float_epochs: {float_epochs}, qat_epochs: {qat_epochs}, batch_size: 8}}
"""


def write_user_spec(folder, float_epochs: int, qat_epochs: int):
    """Write folder/mine.yaml, a tiny spec on write_user_npz's folder/mine.npz; return its path."""
    spec = folder / "mine.yaml"
    spec.write_text(USER_SPEC.format(float_epochs=float_epochs, qat_epochs=qat_epochs))
    return spec


def test_hw_flow_on_a_user_npz_dataset(tmp_path):
    """A user's own .npz file goes through `hwgen hw`: trained, exported, simulated, 0 mismatches
    on every one of its test sequences, whatever their lengths."""
    test_lengths, _ = write_user_npz(tmp_path / "mine.npz")
    spec = write_user_spec(tmp_path, float_epochs=3, qat_epochs=2)
    run = run_hwgen("hw", str(spec), "--no-synth", cwd=tmp_path)  # verification only
    assert run.returncode == 0, run.stderr[-2000:]
    assert "synthesizing" not in run.stderr + run.stdout  # no Yosys, no nextpnr
    folder = tmp_path / build_folder(spec)
    report = json.loads((folder / "report.json").read_text())
    assert report["resources"] is None and report["ecp5"] is None and report["time"] is None
    assert report["no_time"] == "synthesis not asked (--no-synth)"
    assert report["utilisation"] is None
    md = (folder / "report.md").read_text()
    assert "Resources: not measured (synthesis not asked (--no-synth))." in md
    assert "Utilisation: not measured" in md and "| resource |" not in md
    assert report["sequences"] == len(test_lengths) == 10
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    acc = report["accuracy"]
    assert acc["reference"] == acc["quantized"] == acc["rtl"] == acc["hls"]
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0


class Calls:
    """Counts the calls of the functions that parse an ONNX file and lower a graph."""

    def __init__(self, monkeypatch):
        self.counts = {"load_model": 0, "lower": 0}
        for module, name in ((hwgen.onnx.graph, "load_model"), (hwgen.passes.lower, "lower")):
            monkeypatch.setattr(module, name, self.counted(name, getattr(module, name)))

    def counted(self, name, function):
        def wrapper(*args, **kwargs):
            self.counts[name] += 1
            return function(*args, **kwargs)
        return wrapper


def mtimes(folder) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def fake_place_and_route(rtl_dir, device, freq_mhz=100.0, **kwargs):
    """Stand in for nextpnr (its own test is tests/test_synth.py): 125 MHz, 8 ns a cycle,
    whatever the target."""
    return {"fmax_mhz": 125.0, "clock": "clk", "seed": 1, "critical_path": None,
            "utilisation": {"LUT4": {"used": 1, "available": 2}}, "device": device,
            "target_mhz": freq_mhz}


def check_time(report: dict, sim_rtl: dict) -> None:
    """Check the report's times at the stand-in's 125 MHz against the simulated cycles."""
    steps = sim_rtl["cycles_per_step"]["simulated"]["max"]
    latencies = sim_rtl["latency"]["simulated"]
    assert report["fmax_mhz"] == 125.0 and report["no_time"] is None
    t = report["time"]
    # 8 ns a cycle; the report rounds ns to 3 digits, µs to 4 and steps/s to 1
    assert t["ns_per_step"] == 8 * steps and t["cycles_per_step"] == steps
    assert t["latency_us"]["mean"] == round(sum(latencies) / len(latencies) * 8 / 1000, 4)
    assert t["latency_us"]["max"] == round(max(latencies) * 8 / 1000, 4)
    assert t["steps_per_s"] == round(125e6 / steps, 1)
    ecp5 = report["ecp5"]  # synth_ecp5 of the design itself, on the LFE5U-85F
    assert ecp5["part"] == "LFE5U-85F" and ecp5["resources"]["LUT4"] > 0
    assert ecp5["resources"]["FF"] > 0 and ecp5["no_pnr"] is None


def test_hw_parses_and_lowers_once_and_later_steps_read_the_saved_ir(tmp_path, monkeypatch,
                                                                      capsys):
    """`hwgen hw` on a tiny relu QuantRNN (hwgen's own export path) parses model.onnx once and
    lowers once; every later step reads the saved IR; `--from emit_rtl` parses and lowers
    nothing and leaves the saved IR as it is. The cost step synthesizes for ECP5 too, and the
    report's times follow from the simulated cycles at the (stand-in) Fmax."""
    import hwgen.sim.synth

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hwgen.sim.synth, "place_and_route", fake_place_and_route)
    spec = tmp_path / "rnn.yaml"
    spec.write_text(TINY_STACKS["rnn"])
    calls = Calls(monkeypatch)
    assert cli.main(["hw", str(spec)]) == 0, capsys.readouterr().err
    assert calls.counts == {"load_model": 1, "lower": 1}
    folder = tmp_path / build_folder(spec)
    report = json.loads((folder / "report.json").read_text())
    check_report("rnn", report)
    check_time(report, json.loads((folder / "steps" / "sim_rtl.json").read_text())["result"])
    out = capsys.readouterr().out
    assert "[hwgen] synthesizing" in out and "with Yosys synth_ecp5" in out
    assert "fmax:               125.00 MHz, target 100 MHz met" in out
    assert "time:               " in out
    dump = load_ir(folder / "ir").dump()
    assert (folder / "ir" / "ir.txt").read_text() == dump == (folder / "rtl" / "ir.txt").read_text()
    assert "layer l0: rnn" in dump
    pre = json.loads((folder / "rtl" / "design.json").read_text())["preprocess"]
    assert len(pre["mean"]) == len(pre["std"]) == 12  # JapaneseVowels' standardization
    assert dump.splitlines()[1].startswith("preprocess: (raw - mean) / std over 12 features")
    saved = mtimes(folder / "ir")

    assert cli.main(["hw", str(spec), "--from", "emit_rtl"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert calls.counts == {"load_model": 1, "lower": 1}  # nothing parsed or lowered again
    assert mtimes(folder / "ir") == saved
    for step in ("emit_rtl", "emit_hls", "sim_rtl", "sim_hls", "cost"):
        assert f"reusing {step} result (inputs unchanged)" in out, step
    assert "checkpoint.pt" not in out and "model.onnx" not in out  # train, export not run
    assert json.loads((folder / "report.json").read_text()) == report

    # a clock target reaches place and route and the report; the design and its cycles stay
    assert cli.main(["hw", str(spec), "--from", "cost", "--clock-mhz", "150"]) == 0
    out = capsys.readouterr().out
    assert "fmax:               125.00 MHz, target 150 MHz not met" in out
    again = json.loads((folder / "report.json").read_text())
    assert again["ecp5"]["pnr"]["target_mhz"] == 150.0
    assert again["spec"]["folding"]["clock_mhz"] == 150.0
    assert again["time"] == report["time"] and again["resources"] == report["resources"]
    assert "target 150 MHz not met" in (folder / "report.md").read_text()


def test_step_names_are_the_flows():
    assert cli.STEP_NAMES == flow.STEPS
