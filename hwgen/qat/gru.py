"""QuantGRU: a quantized GRU in the style of Brevitas's QuantLSTM, and its export to QONNX.

PyTorch's gate equations, with a fixed-point (power-of-two) quantizer at every place a value is
rounded, so the int64 reference (hwgen.reference.gru) reproduces the float32 forward exactly:
  x, h  io quantizer (shared by the input, the hidden state and every layer, as in QuantLSTM)
  r  = reset_sigmoid(reset_acc(W_ir x + W_hr h + b_r))        b_r = b_ir + b_hr
  z  = update_sigmoid(update_acc(W_iz x + W_hz h + b_z))      b_z = b_iz + b_hz
  hn = hidden_acc(W_hn h + b_hn)      keeps r * hn a product of two narrow codes (exact in float32)
  n  = new_tanh(new_acc(W_in x + b_in + r * hn))
  h' = io((1 - z) * n + z * h)        1 is exact (not a sigmoid code); no quantizer before io
Each gate has one weight quantizer shared by its input and hidden weights; biases use Int16Bias
(scale = input scale * weight scale). quantize=False builds the same layer with every quantizer
disabled: a float GRU. A float nn.GRU's state dict (weight_ih_l0, ..., *_reverse) loads into either
(load_float_gru for the quantized one, whose quantizer scales are not in it).

Export: each layer direction becomes one QuantGRUCell node in hwgen's op domain (layout in
hwgen.onnx.gru_cell); weights, biases and the input go through Brevitas's own Quant handlers.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from brevitas.export.onnx.handler import ONNXBaseHandler
from brevitas.nn.mixin.base import QuantRecurrentLayerMixin
from brevitas.nn.mixin.parameter import QuantBiasMixin
from brevitas.nn.quant_rnn import GateParams, QuantRecurrentStackBase
from brevitas.quant_tensor import _unpack_quant_tensor
from torch import nn

from hwgen.onnx.gru_cell import HWGEN_DOMAIN, QUANTIZERS
from hwgen.reference.gru import GRU_GATES

_ACTS = {"reset_sigmoid": "sigmoid", "update_sigmoid": "sigmoid", "new_tanh": "tanh"}
# Floor of every activation quantizer's scale. A quantizer that saw only zeros while collecting
# statistics (hidden_acc of a bias-free layer trained on one-step sequences: W_hn h with h = 0)
# would otherwise get Brevitas's floor 1e-10, which is no power of two; this floor is one.
MIN_SCALE = 2.0 ** -16


@dataclass(frozen=True)
class GRUWidths:
    """Bit width of every quantizer of one QuantGRU."""

    weight: int = 8  # gate weights (input-to-hidden and hidden-to-hidden)
    bias: int = 16
    io: int = 8  # input and hidden state share one quantizer
    reset_acc: int = 8
    update_acc: int = 8
    new_acc: int = 8
    hidden_acc: int = 8  # W_hn h + b_hn, before the product with r
    sigmoid: int = 8
    tanh: int = 8


def _quant_classes(quantize: bool) -> dict:
    """Return the Brevitas quantizer class of each role, or None everywhere when not quantizing."""
    import brevitas.quant as bq

    roles = {"weight": bq.Int8WeightPerTensorFixedPoint, "bias": bq.Int16Bias,
             "io": bq.Int8ActPerTensorFixedPoint, "acc": bq.Int8ActPerTensorFixedPoint,
             "sigmoid": bq.Uint8ActPerTensorFixedPoint, "tanh": bq.Int8ActPerTensorFixedPoint}
    return {k: (v if quantize else None) for k, v in roles.items()}


def _act_proxy(name: str, classes: dict, widths: GRUWidths):
    """Return the activation proxy of the cell quantizer called name (its activation fused)."""
    from brevitas.nn import QuantIdentity, QuantSigmoid, QuantTanh

    act = _ACTS.get(name)
    if act == "sigmoid":
        return QuantSigmoid(classes["sigmoid"], bit_width=widths.sigmoid,
                            scaling_min_val=MIN_SCALE).act_quant
    if act == "tanh":
        return QuantTanh(classes["tanh"], bit_width=widths.tanh, scaling_min_val=MIN_SCALE).act_quant
    return QuantIdentity(classes["acc"], bit_width=getattr(widths, name),
                         scaling_min_val=MIN_SCALE).act_quant


class _QuantGRUCell(nn.Module):
    """Runs one direction of a layer over time; proxies return tuples whose [0] is the value."""

    def __init__(self, proxies: dict, reverse_input: bool, batch_first: bool):
        super().__init__()
        for name in QUANTIZERS:
            setattr(self, f"{name}_quant", proxies[name])
        self.reverse_input = reverse_input
        self.batch_first = batch_first

    def forward_iter(self, x, h, w_ir, w_iz, w_in, w_hr, w_hz, w_hn, b_r, b_z, b_in, b_hn):
        """Return the output quantizer's tuple for the next hidden state."""
        r = self.reset_acc_quant(F.linear(x, w_ir) + F.linear(h, w_hr) + b_r)[0]
        r = self.reset_sigmoid_quant(r)[0]
        z = self.update_acc_quant(F.linear(x, w_iz) + F.linear(h, w_hz) + b_z)[0]
        z = self.update_sigmoid_quant(z)[0]
        hn = self.hidden_acc_quant(F.linear(h, w_hn) + b_hn)[0]
        n = self.new_acc_quant(F.linear(x, w_in) + b_in + r * hn)[0]
        n = self.new_tanh_quant(n)[0]
        return self.output_quant((1.0 - z) * n + z * h)

    def forward(self, x, h, *params):
        """Return the output tuples of every step, in processing order."""
        steps = x.unbind(1 if self.batch_first else 0)
        if self.reverse_input:
            steps = steps[::-1]
        outputs = []
        for step in steps:
            out = self.forward_iter(step, h, *params)
            outputs.append(out)
            h = out[0]
        return outputs


class _HiddenBias(QuantBiasMixin, nn.Module):
    """b_hn: the new gate's hidden-side bias, inside r * (W_hn h + b_hn), with its own quantizer."""

    def __init__(self, hidden_size: int, bias_quant, bias_bit_width: int):
        nn.Module.__init__(self)
        self.bias = nn.Parameter(torch.randn(hidden_size))
        QuantBiasMixin.__init__(self, bias_quant, bias_bit_width=bias_bit_width)


class _QuantGRULayer(QuantRecurrentLayerMixin, nn.Module):
    """One direction of one QuantGRU layer."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, batch_first: bool,
                 io_quant, widths: GRUWidths, classes: dict, reverse_input: bool,
                 quantize_output_only: bool, return_quant_tensor: bool, **_unused):
        nn.Module.__init__(self)
        from brevitas.nn import QuantIdentity

        # The first direction builds the io quantizer; the others receive its proxy, which keeps
        # its width (Brevitas then warns, as for QuantLSTM, that keyword arguments go unused).
        io = QuantIdentity(io_quant, act_kwargs_prefix="io_", io_bit_width=widths.io,
                           io_scaling_min_val=MIN_SCALE).act_quant
        proxies = {name: _act_proxy(name, classes, widths) for name in QUANTIZERS[1:]}
        cell = _QuantGRUCell({"output": io, **proxies}, reverse_input, batch_first)
        QuantRecurrentLayerMixin.__init__(
            self, cell=cell, io_quant=io, input_size=input_size, hidden_size=hidden_size,
            reverse_input=reverse_input, quantize_output_only=quantize_output_only,
            shared_input_hidden_weights=False, return_quant_tensor=return_quant_tensor)
        for gate in GRU_GATES:
            setattr(self, f"{gate.value}_gate_params", GateParams(
                input_size, hidden_size, bias, classes["weight"], classes["bias"], None,
                dtype=None, device=None, weight_bit_width=widths.weight,
                bias_bit_width=widths.bias))
        self.new_gate_hidden_bias = (_HiddenBias(hidden_size, classes["bias"], widths.bias)
                                     if bias else None)
        self.reset_parameters()

    @property
    def weights_to_share(self):
        """QuantGRU shares no weights between directions."""
        return {}

    @property
    def quantizers_to_share(self):
        """The io quantizer is shared by every direction and layer."""
        return {"io_quant": self.io_quant}

    @property
    def fast_cell(self):
        """Return the cell built on the fused proxies (created on first use, as Brevitas does)."""
        if self._fast_cell is None:
            proxies = {name: self._wrap_act_proxy(f"{name}_quant") for name in QUANTIZERS}
            self._fast_cell = _QuantGRUCell(proxies, self.cell.reverse_input,
                                            self.cell.batch_first)
        return self._fast_cell

    def _params(self, quant_input):
        """Return the weights (ir, iz, in, hr, hz, hn) and biases (r, z, in, hn) as tensors."""
        zero = torch.tensor(0.0, device=_unpack_quant_tensor(quant_input).device)
        w_ih, w_hh, biases = [], [], []
        for gate in GRU_GATES:
            wi, wh, b = self.gate_params_fwd(getattr(self, f"{gate.value}_gate_params"),
                                             quant_input)
            w_ih.append(_unpack_quant_tensor(wi))
            w_hh.append(_unpack_quant_tensor(wh))
            biases.append(zero if b is None else _unpack_quant_tensor(b))
        hb = self.new_gate_hidden_bias
        if hb is None:
            biases.append(zero)
        else:
            new_wh = self.new_gate_params.hidden_weight()
            biases.append(_unpack_quant_tensor(hb.bias_quant(hb.bias, quant_input, new_wh)))
        return w_ih + w_hh + biases

    def forward(self, inp, state):
        """Return (outputs, final hidden state [1, B, H]) of this direction."""
        quant_input = self.maybe_quantize_input(inp)
        x = _unpack_quant_tensor(quant_input)
        params = self._params(quant_input)
        h0 = _unpack_quant_tensor(self.maybe_quantize_state(x, state, self.cell.output_quant))
        if self.export_mode:
            outputs, h = self.export_handler(x, h0, *params)
            return self.pack_quant_outputs(outputs), self.pack_quant_state(h, self.io_quant)
        outputs = self.fast_cell(x, h0, *params)
        return (self.pack_quant_outputs(outputs),
                self.pack_quant_state(outputs[-1], self.cell.output_quant))

    def _load_from_state_dict(self, state_dict, prefix, *args):
        """Accept nn.GRU's weight_ih / weight_hh / bias_ih / bias_hh as well as this layer's own."""
        float_keys = [prefix + k for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        tensors = [state_dict.pop(k, None) for k in float_keys]
        state_dict.update(_from_float_gru(*tensors, prefix, self.hidden_size))
        super()._load_from_state_dict(state_dict, prefix, *args)


def _from_float_gru(w_ih, w_hh, b_ih, b_hh, prefix: str, hidden: int) -> dict:
    """Return this layer's state-dict entries for nn.GRU's tensors (rows r, z, n; None: absent).

    b_r and b_z are sums of nn.GRU's two biases; b_in and b_hn stay apart (b_hn is inside r * .).
    """
    rows = {g: slice(k * hidden, (k + 1) * hidden) for k, g in enumerate(GRU_GATES)}
    out = {}
    for gate, part in rows.items():
        key = f"{prefix}{gate.value}_gate_params."
        if w_ih is not None:
            out[key + "input_weight.weight"] = w_ih[part]
        if w_hh is not None:
            out[key + "hidden_weight.weight"] = w_hh[part]
    if b_ih is None and b_hh is None:
        return out
    zeros = torch.zeros(3 * hidden)
    b_ih, b_hh = (zeros if b is None else b for b in (b_ih, b_hh))
    for gate in GRU_GATES[:2]:
        out[f"{prefix}{gate.value}_gate_params.bias"] = b_ih[rows[gate]] + b_hh[rows[gate]]
    new = rows[GRU_GATES[2]]
    out[f"{prefix}new_gate_params.bias"] = b_ih[new].clone()
    out[f"{prefix}new_gate_hidden_bias.bias"] = b_hh[new].clone()
    return out


class QuantGRU(QuantRecurrentStackBase):
    """A quantized GRU: nn.GRU's interface (input, h0) -> (outputs, h_n), stacked, bidirectional.

    quantize=False disables every quantizer (the float GRU this layer quantizes).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False,
                 widths: GRUWidths = GRUWidths(), quantize: bool = True,
                 return_quant_tensor: bool = False):
        classes = _quant_classes(quantize)
        super().__init__(
            layer_impl=_QuantGRULayer, input_size=input_size, hidden_size=hidden_size,
            num_layers=num_layers, bidirectional=bidirectional, io_quant=classes["io"],
            shared_input_hidden_weights=False, dtype=None, device=None,
            return_quant_tensor=return_quant_tensor, bias=bias, batch_first=batch_first,
            widths=widths, classes=classes)
        self.batch_first = batch_first
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional


def quant_gru(input_size: int, hidden_size: int, widths: GRUWidths, batch_first: bool = True,
              bias: bool = True, num_layers: int = 1, bidirectional: bool = False) -> QuantGRU:
    """Return a QuantGRU with fixed-point quantizers at the given widths."""
    return QuantGRU(input_size, hidden_size, num_layers=num_layers, bias=bias,
                    batch_first=batch_first, bidirectional=bidirectional, widths=widths)


def load_float_gru(model: QuantGRU, float_gru: nn.GRU) -> None:
    """Copy a float nn.GRU's weights into model (post-training quantization); quantizer scales
    keep their values. Raise HwgenError when the two do not have the same shapes and options."""
    from hwgen.types import HwgenError

    try:
        missing, unexpected = model.load_state_dict(float_gru.state_dict(), strict=False)
    except RuntimeError as exc:  # a size mismatch
        raise HwgenError(f"float GRU does not fit the QuantGRU: {str(exc).splitlines()[-1]}")
    missing = [k for k in missing if "_quant." not in k]
    if missing or unexpected:
        raise HwgenError(f"float GRU does not fit the QuantGRU: {(missing + unexpected)[0]}")


# --- export ------------------------------------------------------------------------------------
class QuantGRUCellFn(torch.autograd.Function):
    """The traced stand-in of a whole QuantGRU layer direction: one QuantGRUCell node."""

    @staticmethod
    def symbolic(g, x, h0, *args):
        """Return the QuantGRUCell node: tensors as inputs, flags and modes as attributes."""
        tensors, flags = list(args[:10]), args[10:]
        batch_first, reverse_input, quant = flags[0], flags[1], flags[2:]
        attrs, quant_inputs = {}, []
        for k, name in enumerate(QUANTIZERS):
            scale, zero_point, bit_width, narrow, signed, rounding = quant[6 * k:6 * k + 6]
            quant_inputs += [scale, zero_point, bit_width]
            attrs[f"{name}_narrow_i"] = int(narrow)
            attrs[f"{name}_signed_i"] = int(signed)
            attrs[f"{name}_rounding_mode_s"] = rounding
        return g.op(f"{HWGEN_DOMAIN}::QuantGRUCell", x, h0, *tensors, *quant_inputs,
                    batch_first_i=int(batch_first), reverse_input_i=int(reverse_input),
                    outputs=2, **attrs)

    @staticmethod
    def forward(ctx, x, h0, *args):
        """Return zeros of the outputs' shapes: tracing needs the shapes only, not the values."""
        batch_first, hidden = args[10], args[3].shape[0]
        steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
        shape = (batch, steps, hidden) if batch_first else (steps, batch, hidden)
        return torch.zeros(shape, dtype=x.dtype), torch.zeros((batch, hidden), dtype=x.dtype)


class QuantGRULayerHandler(ONNXBaseHandler):
    """Exports a _QuantGRULayer (one direction) as a QuantGRUCell node."""

    handled_layer = _QuantGRULayer

    def prepare_for_export(self, module: _QuantGRULayer):
        """Collect the layer's flags and its quantizers' scale, zero point, width and modes."""
        cell = module.cell
        self.symbolic_args = [cell.batch_first, cell.reverse_input]
        for name in QUANTIZERS:
            quant = getattr(cell, f"{name}_quant")
            if not quant.is_quant_enabled:
                raise RuntimeError(f"QuantGRU {name} quantizer is disabled; hwgen needs it")
            self.symbolic_args += [quant.scale(), quant.zero_point(), quant.bit_width(),
                                   quant.is_narrow_range, quant.is_signed, quant.rounding_mode]

    def symbolic_execution(self, x, h0, *params):
        """Return the layer's outputs at every step and its final hidden state."""
        return QuantGRUCellFn.apply(x, h0, *params, *self.symbolic_args)
