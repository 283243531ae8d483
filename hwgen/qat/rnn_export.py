"""An export path for Brevitas QuantRNN, which Brevitas cannot export to QONNX itself.

Brevitas registers no export handler for its plain-RNN layer, so its layers call None in export
mode (TypeError). hwgen adds one: the handler reads each layer's accumulator and io quantizers the
way Brevitas's LSTM handler does, and emits one QuantRNNCell node in hwgen's op domain (layout in
hwgen.onnx.rnn_cell). Weights, biases and the input go through Brevitas's own Quant handlers.
"""
from __future__ import annotations

import torch
from brevitas.export.onnx.handler import ONNXBaseHandler
from brevitas.export.onnx.qonnx.manager import QONNXManager
from brevitas.nn.quant_rnn import _QuantRNNLayer

from hwgen.onnx.rnn_cell import HWGEN_DOMAIN, QUANTIZERS
from hwgen.qat.gru import QuantGRUCellFn, QuantGRULayerHandler

# quantizer name in the node -> attribute of Brevitas's _QuantRNNCell holding its proxy
_PROXIES = {"gate_acc": "gate_acc_quant", "output": "output_quant"}
_ACTIVATIONS = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}


class QuantRNNCellFn(torch.autograd.Function):
    """The traced stand-in of a whole QuantRNN layer: one QuantRNNCell node in the graph."""

    @staticmethod
    def symbolic(g, x, h0, w_ih, w_hh, bias, batch_first, reverse_input, nonlinearity,
                 acc_scale, acc_zero_point, acc_bit_width, acc_narrow, acc_signed, acc_rounding,
                 out_scale, out_zero_point, out_bit_width, out_narrow, out_signed, out_rounding):
        """Return the QuantRNNCell node: tensors as inputs, flags and modes as attributes."""
        return g.op(f"{HWGEN_DOMAIN}::QuantRNNCell", x, h0, w_ih, w_hh, bias,
                    acc_scale, acc_zero_point, acc_bit_width, out_scale, out_zero_point,
                    out_bit_width, batch_first_i=int(batch_first),
                    reverse_input_i=int(reverse_input), nonlinearity_s=nonlinearity,
                    gate_acc_narrow_i=int(acc_narrow), gate_acc_signed_i=int(acc_signed),
                    gate_acc_rounding_mode_s=acc_rounding, output_narrow_i=int(out_narrow),
                    output_signed_i=int(out_signed), output_rounding_mode_s=out_rounding)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, bias, batch_first, *args):
        """Return zeros of the output's shape: tracing needs the shape only, not the values."""
        steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
        shape = (batch, steps, w_hh.shape[0]) if batch_first else (steps, batch, w_hh.shape[0])
        return torch.zeros(shape, dtype=x.dtype)


class QuantRNNLayerHandler(ONNXBaseHandler):
    """Exports a Brevitas _QuantRNNLayer (one direction) as a QuantRNNCell node."""

    handled_layer = _QuantRNNLayer

    def prepare_for_export(self, module: _QuantRNNLayer):
        """Collect the layer's flags and its quantizers' scale, zero point, width and modes."""
        cell = module.cell
        act = _ACTIVATIONS.get(type(cell.act_fn))
        if act is None:
            raise RuntimeError(f"QuantRNN activation {type(cell.act_fn).__name__} has no export")
        self.symbolic_kwargs = {"batch_first": cell.batch_first,
                                "reverse_input": cell.reverse_input, "nonlinearity": act}
        for name in QUANTIZERS:
            quant = getattr(cell, _PROXIES[name])
            if not quant.is_quant_enabled:
                raise RuntimeError(f"QuantRNN {name} quantizer is disabled; hwgen needs it")
            self.symbolic_kwargs.update({
                f"{name}_scale": quant.scale(), f"{name}_zero_point": quant.zero_point(),
                f"{name}_bit_width": quant.bit_width(), f"{name}_narrow": quant.is_narrow_range,
                f"{name}_signed": quant.is_signed, f"{name}_rounding": quant.rounding_mode})

    def symbolic_execution(self, quant_input, quant_state, quant_weight_ih, quant_weight_hh,
                           quant_bias):
        """Return the layer's outputs at every step (its final state is not a separate output)."""
        return QuantRNNCellFn.apply(quant_input, quant_state, quant_weight_ih, quant_weight_hh,
                                    quant_bias, *self.symbolic_kwargs.values())


class HwgenQONNXManager(QONNXManager):
    """Brevitas's QONNX manager plus the QuantRNN handler."""

    handlers = QONNXManager.handlers + [QuantRNNLayerHandler, QuantGRULayerHandler]
    custom_fns = QONNXManager.custom_fns + [QuantRNNCellFn, QuantGRUCellFn]


def export_qonnx_torchscript(model, example, path: str, input_names: list) -> None:
    """Export model with the TorchScript exporter, QuantRNN layers included."""
    HwgenQONNXManager.export(model, args=example, export_path=path, input_names=input_names,
                             custom_opsets={HWGEN_DOMAIN: 1}, dynamo=False)
