"""`hwgen run --backend reference` on QuantLSTM exports made directly with Brevitas's own API.

These models are built the way a Brevitas user writes them (not through hwgen's model builders) and
exported with plain export_qonnx, untidied; the CLI's output must equal their forward output (==).
"""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import brevitas.quant as bq
from brevitas.export import export_qonnx
from brevitas.nn import QuantIdentity, QuantLinear, QuantLSTM

FIXED = dict(weight_quant=bq.Int8WeightPerTensorFixedPoint, io_quant=bq.Int8ActPerTensorFixedPoint,
             gate_acc_quant=bq.Int8ActPerTensorFixedPoint,
             sigmoid_quant=bq.Uint8ActPerTensorFixedPoint, tanh_quant=bq.Int8ActPerTensorFixedPoint,
             cell_state_quant=bq.Int8ActPerTensorFixedPoint)


class WithHead(nn.Module):
    """A user's classifier: QuantLSTM, last step, requantized, QuantLinear with an int32 bias."""

    def __init__(self):
        super().__init__()
        self.lstm = QuantLSTM(6, 10, batch_first=True, weight_bit_width=5, io_bit_width=7, **FIXED)
        self.requant = QuantIdentity(bq.Int8ActPerTensorFixedPoint, return_quant_tensor=True)
        self.head = QuantLinear(10, 4, bias=True, weight_quant=bq.Int8WeightPerTensorFixedPoint,
                                bias_quant=bq.Int32Bias)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(self.requant(out[:, -1, :]))


MODELS = {
    "default_layout": lambda: QuantLSTM(3, 5, **FIXED),
    "batch_first_cifg": lambda: QuantLSTM(4, 6, batch_first=True, coupled_input_forget_gates=True,
                                          weight_bit_width=3, gate_acc_bit_width=6, **FIXED),
    "shared_gate_acc_4bit": lambda: QuantLSTM(2, 9, shared_intra_layer_gate_acc_quant=True,
                                              weight_bit_width=4, io_bit_width=4,
                                              cell_state_bit_width=5, **FIXED),
    "no_bias": lambda: QuantLSTM(5, 4, bias=False, **FIXED),
    "with_head": WithHead,
}


def _output(model, x):
    with torch.no_grad():
        out = model(x)
    return (out[0] if isinstance(out, tuple) else out).numpy()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cli_run_equals_brevitas(name, tmp_path):
    torch.manual_seed(7)
    model = MODELS[name]()
    batch_first = getattr(model, "lstm", model).layers[0][0].cell.batch_first
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):  # move the scales away from their initial values
        x = torch.randn(2, 7, model_input_size(model)) if batch_first else torch.randn(
            7, 2, model_input_size(model))
        loss = _torch_out(model, x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    example = torch.randn(3, 11, model_input_size(model)) if batch_first else torch.randn(
        11, 3, model_input_size(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(model, example, str(tmp_path / "user.onnx"), dynamo=False)
    x = example * 2
    np.save(tmp_path / "x.npy", x.numpy())
    proc = subprocess.run(
        [sys.executable, "-m", "hwgen.cli", "run", str(tmp_path / "user.onnx"), "--input",
         str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"), "--backend", "reference"],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32
    assert np.array_equal(y, _output(model, x))


def model_input_size(model) -> int:
    return getattr(model, "lstm", model).layers[0][0].input_size


def _torch_out(model, x):
    out = model(x)
    return out[0] if isinstance(out, tuple) else out
