"""QuantLSTMCell: Brevitas's exported LSTM layer as an executable qonnx CustomOp.

``lstm_params`` reads a node into the integer reference's LSTMParams (the single reader of the node
layout); ``QuantLSTMCell.execute_node`` converts its float inputs to codes, runs the int64 reference
and writes dequantized float32 outputs, so qonnx's execute_onnx runs a whole exported graph.
"""
from __future__ import annotations

import numpy as np
import onnx.helper
from qonnx.custom_op.base import CustomOp
from qonnx.custom_op.registry import add_op_to_domain

from hwgen.gates import GATES, LSTM_CELL, CellLayout, Gate
from hwgen.onnx.graph import SHAPE_ONLY_DOMAIN, attr, codes_of, constant, quant_info, quantized_constant, quantizer_type
from hwgen.reference.lstm import GateParams, LSTMParams, Quantizer, lstm_layer
from hwgen.reference.luts import activation_table, quantize_float32
from hwgen.types import HwgenError, Rounding

# Node layout (Brevitas BrevitasQuantLSTMCellFn): hwgen.gates.LSTM_CELL.
QUANTIZERS = LSTM_CELL.quantizers
GATE_ACC = {Gate.INPUT: "input_acc", Gate.FORGET: "forget_acc", Gate.CELL: "cell_acc",
            Gate.OUTPUT: "output_acc"}
GATE_ACT = {Gate.INPUT: "input_sigmoid", Gate.FORGET: "forget_sigmoid", Gate.CELL: "cell_tanh",
            Gate.OUTPUT: "output_sigmoid"}
# Brevitas names one narrow-range attribute differently from the others.
NARROW_ATTR = {"output_sigmoid": "output_sigmoid_narrow_range"}


def node_quantizer(model, node, name: str, layout: CellLayout = LSTM_CELL) -> Quantizer:
    """Return the Quantizer the node's inputs and attributes describe for quantizer ``name``.

    layout gives the node's input positions (each quantizer has scale, zero-point, bit width).
    """
    where = f"node {node.name!r} quantizer {name}"
    base = layout.quant(name)
    if len(node.input) < base + 3:
        raise HwgenError(f"node {node.name!r}: missing inputs of quantizer {name}")
    narrow = attr(node, NARROW_ATTR.get(name, f"{name}_narrow"))
    signed = attr(node, f"{name}_signed")
    if narrow is None or signed is None:
        raise HwgenError(f"{where}: missing narrow/signed attribute")
    t = quantizer_type(model, *node.input[base:base + 3], signed, narrow, where)
    rounding = Rounding.parse(attr(node, f"{name}_rounding_mode", "ROUND"), where)
    return Quantizer(t, rounding)


def _bias(model, node, gate: Gate, values):
    """Return (codes, type) of a gate's bias, or (None, None) for a layer exported without bias."""
    tensor = node.input[LSTM_CELL.bias(gate)]
    if quant_info(model, tensor, per_channel=True) is None:
        value = constant(model, tensor, f"node {node.name!r} {gate.value} bias")
        if np.any(value != 0):
            raise HwgenError(f"node {node.name!r}: {gate.value} bias {tensor!r} is not quantized")
        return None, None
    return quantized_constant(model, tensor, f"node {node.name!r} {gate.value} bias", values)


def _gate(model, node, gate: Gate, source: Gate, x_size: int, hidden: int, values) -> GateParams:
    """Return one gate's parameters; ``source`` names the weights to read (CIFG reuses input's)."""
    where = f"node {node.name!r} {gate.value} gate"
    wx, wx_type = quantized_constant(model, node.input[LSTM_CELL.wx(source)], where, values)
    wh, wh_type = quantized_constant(model, node.input[LSTM_CELL.wh(source)], where, values)
    if wx.shape != (hidden, x_size) or wh.shape != (hidden, hidden):
        raise HwgenError(f"{where}: weight shapes {list(wx.shape)} and {list(wh.shape)} do not "
                         f"match input size {x_size} and hidden size {hidden}")
    bias, bias_type = _bias(model, node, source, values)
    acc = node_quantizer(model, node, GATE_ACC[source])
    act = node_quantizer(model, node, GATE_ACT[source])
    table = activation_table(gate.activation, acc.type, act.type, act.rounding)
    return GateParams(wx, wx_type, wh, wh_type, bias, bias_type, acc, act, table)


def lstm_params(model, node, values=None) -> LSTMParams:
    """Return the integer LSTMParams of a QuantLSTMCell node (values: optional name -> array)."""
    x_info = quant_info(model, node.input[LSTM_CELL.x])
    out = node_quantizer(model, node, "output")
    x_type = x_info.type if x_info is not None else out.type
    first = node.input[LSTM_CELL.wx(GATES[0])]
    w_shape = model.get_tensor_shape(first) or list(
        constant(model, quant_info(model, first).source, node.name).shape)
    hidden, x_size = int(w_shape[0]), int(w_shape[1])
    cifg = bool(attr(node, "cifg", 0))
    gates = {}
    for gate in GATES:
        if cifg and gate is Gate.FORGET:
            continue
        # Under CIFG Brevitas exports the forget gate's parameters in the input gate's slots too.
        gates[gate] = _gate(model, node, gate, gate, x_size, hidden, values)
    cell = node_quantizer(model, node, "cell_state")
    hidden_tanh = node_quantizer(model, node, "hidden_state_tanh")
    hidden_table = activation_table("tanh", cell.type, hidden_tanh.type, hidden_tanh.rounding)
    i_act = gates[Gate.INPUT].act
    import torch

    one = int(quantize_float32(torch.ones(1), i_act.type, i_act.rounding)[0])
    return LSTMParams(x_size, hidden, x_type, gates, cell, out, hidden_tanh, hidden_table, cifg,
                      bool(attr(node, "reverse_input", 0)), one)


def state_codes(value, t, batch: int, hidden: int, where: str) -> np.ndarray:
    """Return initial-state codes [batch, hidden] of a state tensor at type t.

    Brevitas exports zero states as constants sized for the export's batch; a zero state fits any.
    """
    codes = codes_of(np.asarray(value, dtype=np.float64), t, where)
    if not np.any(codes):
        return np.zeros((batch, hidden), dtype=np.int64)
    rows = codes.reshape(-1, hidden)
    if rows.shape[0] not in (1, batch):
        raise HwgenError(f"{where}: {rows.shape[0]} rows for a batch of {batch}")
    return np.broadcast_to(rows, (batch, hidden)).copy()


def _time_major(x: np.ndarray, batch_first: bool) -> np.ndarray:
    """Return x as [T, B, ...] given its layout."""
    return np.swapaxes(x, 0, 1) if batch_first else x


class RecurrentCellOp(CustomOp):
    """What every recurrent-layer op shares: shapes come from hwgen, outputs stay float32."""

    def make_shape_compatible_op(self, model):
        """Return a stand-in node in a private domain: ONNX skips it and keeps hwgen's shapes."""
        n = self.onnx_node
        return onnx.helper.make_node(n.op_type, list(n.input), list(n.output),
                                     domain=SHAPE_ONLY_DOMAIN)

    def infer_node_datatype(self, model):
        """Keep float32 outputs: they carry dequantized values, as Brevitas's do."""


class QuantLSTMCell(RecurrentCellOp):
    """A whole Brevitas QuantLSTM layer (one direction), executed by the int64 reference."""

    def get_nodeattr_types(self):
        """Return the node's attributes (see Brevitas's BrevitasQuantLSTMCellFn)."""
        types = {"batch_first": ("i", True, 0), "reverse_input": ("i", True, 0),
                 "cifg": ("i", True, 0)}
        for name in QUANTIZERS:
            types[NARROW_ATTR.get(name, f"{name}_narrow")] = ("i", True, 0)
            types[f"{name}_signed"] = ("i", True, 1)
            types[f"{name}_rounding_mode"] = ("s", True, "ROUND")
        return types

    def verify_node(self):
        """Return a list of messages about the node's well-formedness."""
        ok = len(self.onnx_node.input) == LSTM_CELL.count
        return ["QuantLSTMCell: input count " + ("ok" if ok else "wrong")]

    def execute_node(self, context, graph):
        """Run the layer on the int64 reference and write float32 outputs into context."""
        from qonnx.core.modelwrapper import ModelWrapper

        node = self.onnx_node
        model = ModelWrapper(onnx.helper.make_model(graph))
        p = lstm_params(model, node, values=context.get)
        batch_first = bool(self.get_nodeattr("batch_first"))
        x_name = node.input[LSTM_CELL.x]
        x = _time_major(np.asarray(context[x_name]), batch_first)
        if x.ndim != 3 or x.shape[2] != p.input_size:
            raise HwgenError(f"node {node.name!r}: input {x_name!r} has shape "
                             f"{list(np.shape(context[x_name]))}, expected 3 dimensions "
                             f"ending in {p.input_size}")
        x_codes = codes_of(x, p.x_type, f"node {node.name!r} input {x_name!r}")
        h0 = self._state(context, node.input[LSTM_CELL.h0], p.out.type, x.shape[1],
                         p.hidden_size)
        c0 = self._state(context, node.input[LSTM_CELL.c0], p.cell.type, x.shape[1],
                         p.hidden_size)
        outs, h, c = lstm_layer(p, x_codes, h0, c0)
        context[node.output[0]] = _time_major(outs, batch_first).astype(np.float32) * np.float32(
            p.out.type.scale)
        context[node.output[1]] = (h * p.out.type.scale).astype(np.float32)
        if len(node.output) > 2:
            context[node.output[2]] = (c * p.cell.type.scale).astype(np.float32)

    def _state(self, context, tensor, t, batch, hidden):
        """Return initial-state codes of shape [batch, hidden] from a (possibly broadcast) tensor."""
        return state_codes(context[tensor], t, batch, hidden,
                           f"node {self.onnx_node.name!r} state {tensor!r}")


add_op_to_domain("qonnx.custom_op.general", QuantLSTMCell)
