"""QuantRNNCell: a Brevitas QuantRNN layer (one direction) as an executable qonnx CustomOp.

Brevitas has no QONNX export for QuantRNN; hwgen.qat.rnn_export writes this node, in hwgen's own
op domain. Layout (hwgen.gates.RNN_CELL): inputs x, h0, input weight, hidden weight, bias (a zero
constant when the layer has none), then scale / zero-point / bit width of the accumulator and of
the output (io) quantizer.
Attributes: batch_first, reverse_input, nonlinearity ("tanh" or "relu") and narrow / signed /
rounding_mode per quantizer. One output: the hidden state at every step.
"""
from __future__ import annotations

import numpy as np
import onnx.helper
from qonnx.custom_op.registry import add_op_to_domain

from hwgen.gates import RNN_CELL, Gate
from hwgen.onnx.graph import attr, codes_of, constant, quant_info, quantized_constant
from hwgen.onnx.lstm_cell import RecurrentCellOp, node_quantizer, state_codes
from hwgen.reference.lstm import GateParams
from hwgen.reference.luts import activation_table
from hwgen.reference.rnn import NONLINEARITIES, RNNParams, rnn_layer
from hwgen.types import HwgenError

HWGEN_DOMAIN = "hwgen.custom_op"
QUANTIZERS = RNN_CELL.quantizers
INPUT_COUNT = RNN_CELL.count


def _bias(model, node, values):
    """Return (codes, type) of the bias, or (None, None) when the layer has none (zeros)."""
    tensor = node.input[RNN_CELL.bias(Gate.CELL)]
    if quant_info(model, tensor, per_channel=True) is None:
        value = constant(model, tensor, f"node {node.name!r} bias")
        if np.any(value != 0):
            raise HwgenError(f"node {node.name!r}: bias {tensor!r} is not quantized")
        return None, None
    return quantized_constant(model, tensor, f"node {node.name!r} bias", values)


def rnn_params(model, node, values=None) -> RNNParams:
    """Return the integer RNNParams of a QuantRNNCell node (values: optional name -> array)."""
    where = f"node {node.name!r}"
    if len(node.input) != INPUT_COUNT:
        raise HwgenError(f"{where}: QuantRNNCell has {len(node.input)} inputs, expected "
                         f"{INPUT_COUNT}")
    act = attr(node, "nonlinearity", "tanh")
    if act not in NONLINEARITIES:
        raise HwgenError(f"{where}: nonlinearity {act!r} is not one of {', '.join(NONLINEARITIES)}")
    acc = node_quantizer(model, node, "gate_acc", RNN_CELL)
    out = node_quantizer(model, node, "output", RNN_CELL)
    x_info = quant_info(model, node.input[RNN_CELL.x])
    x_type = x_info.type if x_info is not None else out.type
    wx, wx_type = quantized_constant(model, node.input[RNN_CELL.wx(Gate.CELL)],
                                     f"{where} input weight", values)
    wh, wh_type = quantized_constant(model, node.input[RNN_CELL.wh(Gate.CELL)],
                                     f"{where} hidden weight", values)
    hidden, x_size = wx.shape
    if wh.shape != (hidden, hidden):
        raise HwgenError(f"{where}: hidden weight shape {list(wh.shape)} does not match hidden "
                         f"size {hidden}")
    bias, bias_type = _bias(model, node, values)
    table = activation_table(act, acc.type, out.type, out.rounding)
    gate = GateParams(wx, wx_type, wh, wh_type, bias, bias_type, acc, out, table)
    return RNNParams(int(x_size), int(hidden), x_type, {Gate.CELL: gate}, out, act,
                     bool(attr(node, "reverse_input", 0)))


class HiddenStateCellOp(RecurrentCellOp):
    """A recurrent layer with one state, h (QuantRNNCell, QuantGRUCell): the subclass names its
    quantizers, input count, layout, parameter reader and integer layer. Outputs: the hidden
    state at every step and, when the node has a second output, the final one."""

    QUANTIZERS: tuple = ()
    INPUTS = 0
    LAYOUT = None
    EXTRA_ATTRS: dict = {}

    def params(self, model, node, values):
        """Return the reference's parameters of node."""
        raise NotImplementedError

    def layer(self, p, x_codes, h0):
        """Return (outputs [T, B, H], h_T) codes of the integer layer."""
        raise NotImplementedError

    def get_nodeattr_types(self):
        """Return the node's attributes."""
        types = {"batch_first": ("i", True, 0), "reverse_input": ("i", True, 0),
                 **self.EXTRA_ATTRS}
        for name in self.QUANTIZERS:
            types[f"{name}_narrow"] = ("i", True, 0)
            types[f"{name}_signed"] = ("i", True, 1)
            types[f"{name}_rounding_mode"] = ("s", True, "ROUND")
        return types

    def verify_node(self):
        """Return a list of messages about the node's well-formedness."""
        ok = len(self.onnx_node.input) == self.INPUTS
        return [f"{self.onnx_node.op_type}: input count " + ("ok" if ok else "wrong")]

    def execute_node(self, context, graph):
        """Run the layer on the int64 reference and write float32 outputs into context."""
        from qonnx.core.modelwrapper import ModelWrapper

        node = self.onnx_node
        model = ModelWrapper(onnx.helper.make_model(graph))
        p = self.params(model, node, context.get)
        batch_first = bool(self.get_nodeattr("batch_first"))
        x_name, h_name = node.input[self.LAYOUT.x], node.input[self.LAYOUT.h0]
        raw = np.asarray(context[x_name])
        x = np.swapaxes(raw, 0, 1) if batch_first else raw
        if x.ndim != 3 or x.shape[2] != p.input_size:
            raise HwgenError(f"node {node.name!r}: input {x_name!r} has shape "
                             f"{list(raw.shape)}, expected 3 dimensions ending in {p.input_size}")
        x_codes = codes_of(x, p.x_type, f"node {node.name!r} input {x_name!r}")
        h0 = state_codes(context[h_name], p.out.type, x.shape[1], p.hidden_size,
                         f"node {node.name!r} state {h_name!r}")
        outs, h = self.layer(p, x_codes, h0)
        if batch_first:
            outs = np.swapaxes(outs, 0, 1)
        scale = np.float32(p.out.type.scale)
        context[node.output[0]] = outs.astype(np.float32) * scale
        if len(node.output) > 1:
            context[node.output[1]] = h.astype(np.float32) * scale


class QuantRNNCell(HiddenStateCellOp):
    """A whole Brevitas QuantRNN layer (one direction), executed by the int64 reference."""

    QUANTIZERS = QUANTIZERS
    INPUTS = INPUT_COUNT
    LAYOUT = RNN_CELL
    EXTRA_ATTRS = {"nonlinearity": ("s", True, "tanh")}

    def params(self, model, node, values):
        return rnn_params(model, node, values=values)

    def layer(self, p, x_codes, h0):
        return rnn_layer(p, x_codes, h0)


add_op_to_domain(HWGEN_DOMAIN, QuantRNNCell)
