"""End to end on tiny stacks: `hwgen hw` trains, exports, checks the reference, builds and simulates
the RTL, and reports 0 mismatches (the single-layer tiny spec runs in test_cache_concurrency)."""
from __future__ import annotations

import json

import pytest
from hwgen_cli import build_folder, run_hwgen

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
                                  for n in sorted(TINY_STACKS)])
def test_hw_flow_on_tiny_stacks(name, tmp_path):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(TINY_STACKS[name])
    run = run_hwgen("hw", str(spec), cwd=tmp_path)
    assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
    report = json.loads((tmp_path / build_folder(spec) / "report.json").read_text())
    assert report["sequences"] == 370
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    acc = report["accuracy"]
    assert acc["reference"] == acc["quantized"] == acc["rtl"] == acc["hls"]
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0
    if name == "ptq":
        post = report["post_training"]
        assert post["calibrated"] == acc["quantized"] and post["finetuned"] is None
