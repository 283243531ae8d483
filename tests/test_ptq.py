"""Post-training quantization: float checkpoints, calibration, the comparison table (no simulator)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from hwgen.qat.calibrate import (activation_quantizers, calibrate, load_float_state,
                                 mse_exponent, quantize, range_exponent, read_state_dict)
from hwgen.qat.model import build_float, build_quant, load_float_into_quant
from hwgen.spec import load_spec
from hwgen.types import HwgenError
from hwgen_cli import build_folder, run_hwgen

SPEC = """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 4, classes: 9}
bits: {weight: 8, io: 8, input_acc: 8, forget_acc: 8, cell_acc: 8, output_acc: 8, sigmoid: 8,
       tanh: 8, cell_state: 8, head: 8, bias: 16}
train: {seed: 1, float_epochs: 2, batch_size: 64}
"""


class UserNet(nn.Module):
    """A float model as a user would write it: its own module names."""

    def __init__(self, hidden=4, layers=1, bidirectional=False):
        super().__init__()
        self.encoder = nn.Sequential()
        self.encoder.add_module("rnn", nn.LSTM(12, hidden, num_layers=layers, batch_first=True,
                                               bidirectional=bidirectional))
        self.classifier = nn.Linear(hidden * (2 if bidirectional else 1), 9)


def _spec(tmp_path, text=SPEC, name="tiny"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return load_spec(str(path))


def _batches(count, seed=0, steps=7, batch=5):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        x = torch.from_numpy(rng.normal(0, 1.5, (batch, steps, 12)).astype(np.float32))
        yield x, torch.full((batch,), steps)


@pytest.mark.parametrize("value, exponent", [(0.3, -1), (0.5, -1), (0.51, 0), (1.0, 0),
                                             (1.5, 1), (6.0, 3), (0.0, 0)])
def test_range_exponent_is_the_smallest_covering_power_of_two(value, exponent):
    assert range_exponent(value) == exponent


def test_user_state_dict_loads_under_its_own_names(tmp_path):
    spec = _spec(tmp_path)
    torch.manual_seed(0)
    user = UserNet()
    torch.save(user.state_dict(), tmp_path / "user.pt")
    model = build_float(spec)
    load_float_state(tmp_path / "user.pt", model)
    for name, value in user.encoder.rnn.state_dict().items():
        assert torch.equal(model.lstm.state_dict()[name], value)
    assert torch.equal(model.head.weight, user.classifier.weight)
    assert torch.equal(model.head.bias, user.classifier.bias)
    # a checkpoint dict that keeps the state dict under a usual key works too
    torch.save({"epoch": 3, "model_state_dict": user.state_dict()}, tmp_path / "ckpt.pt")
    assert set(read_state_dict(tmp_path / "ckpt.pt")) == set(user.state_dict())


@pytest.mark.parametrize("user, message", [
    (UserNet(hidden=5), "tensor encoder.rnn.weight_ih_l0 has shape (20, 12), the spec needs "
                        "(16, 12)"),
    (UserNet(layers=2), "tensor encoder.rnn.weight_ih_l1 is not in the spec's network"),
    (UserNet(bidirectional=True), "tensor encoder.rnn.weight_ih_l0_reverse is not in the spec's"),
])
def test_a_state_dict_that_does_not_fit_names_the_first_bad_tensor(tmp_path, user, message):
    spec = _spec(tmp_path)
    torch.save(user.state_dict(), tmp_path / "user.pt")
    with pytest.raises(HwgenError, match="^" + str(tmp_path / "user.pt") + ": ") as err:
        load_float_state(tmp_path / "user.pt", build_float(spec))
    assert message in str(err.value)


def test_missing_and_foreign_tensors_are_named(tmp_path):
    spec = _spec(tmp_path)
    state = UserNet().state_dict()
    del state["encoder.rnn.bias_ih_l0"]
    torch.save(state, tmp_path / "a.pt")
    with pytest.raises(HwgenError, match="no tensor for the spec's lstm bias_ih_l0 "
                                         r"\(shape \(16,\)\)"):
        load_float_state(tmp_path / "a.pt", build_float(spec))
    state = UserNet().state_dict()
    state["norm.running_mean"] = torch.zeros(4)
    torch.save(state, tmp_path / "b.pt")
    with pytest.raises(HwgenError, match="expected one nn.Linear head .* found "
                                         "classifier.bias, classifier.weight, norm.running_mean"):
        load_float_state(tmp_path / "b.pt", build_float(spec))
    torch.save({"classifier.weight": torch.zeros(9, 4)}, tmp_path / "c.pt")
    with pytest.raises(HwgenError, match="no nn.LSTM or nn.RNN tensors"):
        load_float_state(tmp_path / "c.pt", build_float(spec))


UNPICKLED = []


class _Payload:
    """Not a tensor: a weights_only load must refuse to build it."""

    def __setstate__(self, state):
        UNPICKLED.append(state)


def test_a_pickled_object_is_never_unpickled(tmp_path):
    payload = _Payload()
    payload.note = "built"
    torch.save({"model": payload}, tmp_path / "evil.pt")
    torch.load(tmp_path / "evil.pt", weights_only=False)  # what a plain load would do
    assert UNPICKLED == [{"note": "built"}]
    with pytest.raises(HwgenError, match="evil.pt: not a loadable float checkpoint: holds objects "
                                         "other than tensors"):
        read_state_dict(tmp_path / "evil.pt")
    assert len(UNPICKLED) == 1
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(HwgenError, match="junk.pt: not a loadable float checkpoint"):
        read_state_dict(tmp_path / "junk.pt")


def test_calibration_sets_each_scale_to_the_observed_power_of_two_range(tmp_path):
    spec = _spec(tmp_path)
    torch.manual_seed(2)
    float_model = build_float(spec)
    quant = build_quant(spec)
    load_float_into_quant(quant, float_model)
    result = calibrate(quant, _batches(3), "max")
    names = set(activation_quantizers(quant))
    assert set(result) == names and len(names) == 11  # io, cell state, 4 accs, 5 activations
    for name, quant_impl in activation_quantizers(quant).items():
        seen, exponent = result[name]
        assert seen > 0 and 2.0 ** (exponent - 1) < seen <= 2.0 ** exponent, name
        signed = quant_impl.int_quant.signed
        with torch.no_grad():
            scale = float(quant_impl(torch.zeros(1))[1])  # (value, scale, zero point, bit width)
        assert scale == 2.0 ** exponent / 2 ** (8 - 1 if signed else 8), name
    # sigmoid and tanh outputs lie in (0, 1) and (-1, 1): their range is 1
    for name in names:
        if name.endswith(("sigmoid_quant", "tanh_quant")):
            assert result[name][1] == 0, name
    # the calibrated model follows the float one closely at 8 bits
    x, lengths = next(_batches(1, seed=9))
    with torch.no_grad():
        ref = float_model.eval()(x, lengths)
        out = quant.eval()(x, lengths)
    assert torch.equal(ref.argmax(-1), out.argmax(-1))
    # the ranges survive a state dict round trip (the checkpoint)
    again = build_quant(spec)
    again.load_state_dict(quant.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(again.eval()(x, lengths), out)


def test_percentile_ranges_are_no_wider_than_max_ranges(tmp_path):
    spec = _spec(tmp_path)
    torch.manual_seed(3)
    float_model = build_float(spec)
    ranges = {}
    for method, pct in (("max", 99.99), ("percentile", 90.0)):
        quant = build_quant(spec)
        load_float_into_quant(quant, float_model)
        ranges[method] = calibrate(quant, _batches(2), method, pct)
    assert all(ranges["percentile"][k][0] <= ranges["max"][k][0] for k in ranges["max"])
    assert any(ranges["percentile"][k][1] < ranges["max"][k][1] for k in ranges["max"])
    with pytest.raises(HwgenError, match="calibration method 'mean'"):
        calibrate(build_quant(spec), _batches(1), "mean")


def test_numpy_quantization_used_by_mse_is_brevitas_quantization(tmp_path):
    spec = _spec(tmp_path, SPEC.replace("cell_state: 8", "cell_state: 5").replace(
        "sigmoid: 8", "sigmoid: 3"))
    quant = build_quant(spec)
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(0, 3, 2000), np.arange(-40, 40) / 4 + 0.125])
    checked = set()
    for name, tq in activation_quantizers(quant).items():
        bits = int(tq.msb_clamp_bit_width_impl())
        signed, narrow = tq.int_quant.signed, tq.int_quant.narrow_range
        for exponent in (-1, 0, 2, 3):
            tq.scaling_impl.value.data.fill_(float(exponent))
            tq.scaling_impl.counter = tq.scaling_impl.collect_stats_steps + 1
            with torch.no_grad():
                ours = tq.eval()(torch.from_numpy(values).float())[0].double().numpy()
            expected = quantize(values.astype(np.float32), exponent, bits, signed, narrow)
            assert np.array_equal(ours, expected), (name, exponent)
        checked.add((bits, signed))
    assert checked >= {(5, True), (3, False), (8, True)}


def test_mse_range_gives_up_rare_large_values_for_resolution():
    rng = np.random.default_rng(8)
    values = np.concatenate([rng.normal(0, 0.3, 5000), [12.0, -9.0]])
    top = range_exponent(12.0)
    assert top == 4
    assert mse_exponent(values, top, 4, True, False) < top  # 4 bits: clip the two outliers
    assert mse_exponent(values, top, 16, True, False) == top  # 16 bits: room for everything
    uniform = np.linspace(-7.9, 7.9, 1001)
    assert mse_exponent(uniform, 3, 6, True, False) == 3


def test_ptq_spec_section_is_checked(tmp_path):
    bad = {"ptq: {calibration: mean}": "ptq.calibration must be one of mse, max, percentile",
           "ptq: {percentile: 101}": "ptq.percentile must be a number in (0, 100]",
           "ptq: {batches: 0}": "ptq.batches must be in 1..100000",
           "ptq: {float_checkpoint: nowhere.pt}": "ptq.float_checkpoint",
           "ptq: {epochs: 3}": "unknown key 'ptq.epochs'"}
    for line, message in bad.items():
        path = tmp_path / "bad.yaml"
        path.write_text(SPEC + line + "\n")
        with pytest.raises(HwgenError, match=message.replace("(", r"\(").replace(")", r"\)")
                           .replace(".", r"\.")):
            load_spec(str(path))
    assert _spec(tmp_path).ptq is None
    spec = _spec(tmp_path, SPEC + "ptq:\n")
    assert spec.ptq.calibration == "mse" and spec.ptq.finetune_epochs == 0


def test_import_calibrates_and_exports_like_training(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    torch.manual_seed(4)
    torch.save(UserNet().state_dict(), tmp_path / "user.pt")
    run = run_hwgen("import", "user.pt", "--spec", "tiny.yaml", "--calibration", "max",
                 "--batches", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    for line in ("float accuracy:", "torch dynamic int8:", "calibrated:", "quantized accuracy:"):
        assert line in run.stdout
    ckpt = torch.load(tmp_path / build_folder(spec) / "checkpoint.pt", weights_only=True)
    assert ckpt["ptq"]["calibration"] == "max" and ckpt["ptq"]["finetuned_accuracy"] is None
    assert ckpt["quant_accuracy"] == ckpt["ptq"]["calibrated_accuracy"]
    assert (tmp_path / build_folder(spec) / "model.onnx").is_file()
    # a checkpoint that does not fit: one line, exit 2, nothing written
    torch.save(UserNet(hidden=6).state_dict(), tmp_path / "wide.pt")
    bad = run_hwgen("import", "wide.pt", "--spec", "tiny.yaml", "--out", "other", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("hwgen: error: ") and bad.stderr.endswith(
        "wide.pt: tensor encoder.rnn.weight_ih_l0 has shape (24, 12), the spec needs (16, 12)\n")
    assert not (tmp_path / "other").exists()
    bad = run_hwgen("import", "user.pt", "--spec", "tiny.yaml", "--batches", "0", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == "hwgen: error: argument --batches: 0 is not in 1..100000\n"


def test_compare_table_has_four_accuracies_per_width(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC + "ptq: {batches: 2}\n")
    run = run_hwgen("compare", "tiny.yaml", "--bits", "4,8", "--finetune-epochs", "1",
                 cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / "build" / "compare" / build_folder(spec).name
    table = json.loads((folder / "compare.json").read_text())
    assert [r["bits"] for r in table["rows"]] == [4, 8]
    for row in table["rows"]:
        for key in ("acc_float", "acc_torch_int8", "acc_torch_weights", "acc_calibrated",
                    "acc_finetuned"):
            assert 0.0 <= row[key] <= 1.0, (row["bits"], key)
    assert len({r["acc_float"] for r in table["rows"]}) == 1  # one float model for every width
    assert len({r["acc_torch_int8"] for r in table["rows"]}) == 1
    md = (folder / "compare.md").read_text()
    assert "| bits | float % | torch dynamic int8 % |" in md and "\n| 8 | " in md
    assert (folder / "float.pt").is_file() and (folder / "compare.csv").is_file()
    # each width's checkpoint is a post-training one at that width
    ckpt = torch.load(folder / "points" / "all4" / "checkpoint.pt", weights_only=True)
    assert ckpt["ptq"]["finetune_epochs"] == 1
