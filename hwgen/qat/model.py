"""Brevitas models: a fixed-point QuantLSTM (+ QuantLinear head) and its float twin.

Every quantizer is one of Brevitas's *FixedPoint quantizers, so every scale is a power of two.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from hwgen.spec import LSTMWidths  # noqa: F401  (re-exported for model builders)
from hwgen.types import HwgenError

warnings.filterwarnings("ignore", message=".*(named tensors|TracerWarning|__floordiv__).*")


def _act_proxy(quant, bits: int):
    """Return a fresh activation quantizer proxy of class quant at the given width."""
    from brevitas.nn import QuantIdentity

    return QuantIdentity(quant, bit_width=bits).act_quant


def quant_lstm(input_size: int, hidden_size: int, widths: LSTMWidths, batch_first: bool = True,
               cifg: bool = False, bias: bool = True):
    """Return a Brevitas QuantLSTM with fixed-point quantizers at the given widths."""
    import brevitas.quant as bq
    from brevitas.nn import QuantLSTM

    lstm = QuantLSTM(
        input_size, hidden_size, num_layers=1, bias=bias, batch_first=batch_first,
        weight_quant=bq.Int8WeightPerTensorFixedPoint, weight_bit_width=widths.weight,
        bias_quant=bq.Int16Bias, bias_bit_width=widths.bias,
        io_quant=bq.Int8ActPerTensorFixedPoint, io_bit_width=widths.io,
        gate_acc_quant=bq.Int8ActPerTensorFixedPoint, gate_acc_bit_width=widths.input_acc,
        sigmoid_quant=bq.Uint8ActPerTensorFixedPoint, sigmoid_bit_width=widths.sigmoid,
        tanh_quant=bq.Int8ActPerTensorFixedPoint, tanh_bit_width=widths.tanh,
        cell_state_quant=bq.Int8ActPerTensorFixedPoint, cell_state_bit_width=widths.cell_state,
        coupled_input_forget_gates=cifg)
    # Brevitas builds the four gate accumulators from one quantizer description; give each its
    # own width. This must happen before the first forward, which caches the fused cell.
    for layer in lstm.layers:
        for direction in layer:
            cell = direction.cell
            cell.cell_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.cell_acc)
            cell.output_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.output_acc)
            if cifg:
                cell.forget_acc_quant = cell.input_acc_quant
            else:
                cell.forget_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.forget_acc)
    return lstm


class QuantClassifier(nn.Module):
    """QuantLSTM followed by a QuantLinear head on the hidden state at each sequence's last step."""

    def __init__(self, input_size: int, hidden_size: int, classes: int, widths: LSTMWidths,
                 head_bits: int):
        super().__init__()
        import brevitas.quant as bq
        from brevitas.nn import QuantLinear

        self.lstm = quant_lstm(input_size, hidden_size, widths)
        # The head's bias carries its own power-of-two scale, so it needs no input scale.
        self.head = QuantLinear(hidden_size, classes, bias=True,
                                weight_quant=bq.Int8WeightPerTensorFixedPoint,
                                weight_bit_width=head_bits,
                                bias_quant=bq.Int8BiasPerTensorFixedPointInternalScaling,
                                bias_bit_width=widths.bias)

    def forward(self, x, lengths=None):
        """Return class scores for x [B, T, C]; lengths picks each sequence's true last step."""
        out, _ = self.lstm(x)
        if lengths is None:
            last = out[:, -1, :]
        else:
            last = out[torch.arange(out.shape[0]), lengths - 1]
        return self.head(last)


class FloatClassifier(nn.Module):
    """The same network in float (nn.LSTM + nn.Linear): the accuracy baseline."""

    def __init__(self, input_size: int, hidden_size: int, classes: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, x, lengths=None):
        """Return class scores for x [B, T, C]."""
        out, _ = self.lstm(x)
        last = out[:, -1, :] if lengths is None else out[torch.arange(out.shape[0]), lengths - 1]
        return self.head(last)


def widths_from_spec(spec) -> LSTMWidths:
    """Return the LSTM widths a spec's bits section gives."""
    return spec.bits.lstm()


def build_quant(spec) -> QuantClassifier:
    """Return the QuantClassifier a spec describes."""
    n = spec.net
    return QuantClassifier(n.input_size, n.hidden_size, n.classes, widths_from_spec(spec),
                           spec.bits.head)


def build_float(spec) -> FloatClassifier:
    """Return the float twin of the spec's network."""
    n = spec.net
    return FloatClassifier(n.input_size, n.hidden_size, n.classes)


def load_float_into_quant(quant: QuantClassifier, float_model: FloatClassifier) -> None:
    """Copy a float model's weights into the quantized model (quantizer scales stay untouched)."""
    state = {f"lstm.{k}": v for k, v in float_model.lstm.state_dict().items()}
    state.update({f"head.{k}": v for k, v in float_model.head.state_dict().items()})
    missing, unexpected = quant.load_state_dict(state, strict=False)
    if unexpected:
        raise HwgenError(f"float weights do not fit the quantized model: {unexpected[0]}")
