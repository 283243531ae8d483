"""QuantGRUCell: a QuantGRU layer (one direction, hwgen.qat.gru) as an executable qonnx CustomOp.

hwgen.qat.gru writes this node in hwgen's own op domain. Layout (GRU_CELL): inputs x, h0, the input
weights of the reset, update and new gates, their hidden weights, their biases (b_r = b_ir + b_hr,
b_z = b_iz + b_hz, b_in; zero constants when the layer has none), the hidden bias b_hn, then
scale / zero point / bit width of each quantizer in QUANTIZERS order.
Attributes: batch_first, reverse_input and narrow / signed / rounding_mode per quantizer.
Outputs: the hidden state at every step and the final hidden state.
"""
from __future__ import annotations

import numpy as np
from qonnx.custom_op.registry import add_op_to_domain

from hwgen.gates import CellLayout
from hwgen.onnx.graph import CELL_LAYOUTS, attr, constant, quant_info, quantized_constant
from hwgen.onnx.lstm_cell import node_quantizer
from hwgen.onnx.rnn_cell import HiddenStateCellOp
from hwgen.reference.gru import GRU_GATES, GRUGate, GRUParams, gru_layer
from hwgen.reference.lstm import GateParams
from hwgen.reference.luts import activation_table
from hwgen.types import HwgenError

HWGEN_DOMAIN = "hwgen.custom_op"
QUANTIZERS = ("output", "reset_acc", "update_acc", "new_acc", "hidden_acc", "reset_sigmoid",
              "update_sigmoid", "new_tanh")
GATE_ACC = {GRUGate.RESET: "reset_acc", GRUGate.UPDATE: "update_acc", GRUGate.NEW: "new_acc"}
GATE_ACT = {GRUGate.RESET: "reset_sigmoid", GRUGate.UPDATE: "update_sigmoid",
            GRUGate.NEW: "new_tanh"}


class GRULayout(CellLayout):
    """CellLayout of the three GRU gates plus the hidden bias b_hn after the gate biases."""

    def __init__(self):
        super().__init__(GRU_GATES, False, QUANTIZERS)

    @property
    def hidden_bias(self) -> int:
        """Return the position of b_hn."""
        return super().first_quant

    @property
    def first_quant(self) -> int:
        """Return the position of the first quantizer's scale (after b_hn)."""
        return super().first_quant + 1


GRU_CELL = GRULayout()
INPUT_COUNT = GRU_CELL.count
CELL_LAYOUTS["QuantGRUCell"] = GRU_CELL


def _bias(model, node, position: int, where: str, values):
    """Return (codes, type) of a bias input, or (None, None) for a zero constant (no bias)."""
    tensor = node.input[position]
    if quant_info(model, tensor, per_channel=True) is None:
        value = constant(model, tensor, where)
        if np.any(value != 0):
            raise HwgenError(f"{where}: tensor {tensor!r} is not quantized")
        return None, None
    return quantized_constant(model, tensor, where, values)


def _gate(model, node, gate: GRUGate, x_size: int, hidden: int, values) -> GateParams:
    """Return one gate's weights, input-side bias, accumulator and activation."""
    where = f"node {node.name!r} {gate.value} gate"
    wx, wx_type = quantized_constant(model, node.input[GRU_CELL.wx(gate)], where, values)
    wh, wh_type = quantized_constant(model, node.input[GRU_CELL.wh(gate)], where, values)
    if wx.shape != (hidden, x_size) or wh.shape != (hidden, hidden):
        raise HwgenError(f"{where}: weight shapes {list(wx.shape)} and {list(wh.shape)} do not "
                         f"match input size {x_size} and hidden size {hidden}")
    bias, bias_type = _bias(model, node, GRU_CELL.bias(gate), f"{where} bias", values)
    acc = node_quantizer(model, node, GATE_ACC[gate], GRU_CELL)
    act = node_quantizer(model, node, GATE_ACT[gate], GRU_CELL)
    table = activation_table(gate.activation, acc.type, act.type, act.rounding)
    return GateParams(wx, wx_type, wh, wh_type, bias, bias_type, acc, act, table)


def gru_params(model, node, values=None) -> GRUParams:
    """Return the integer GRUParams of a QuantGRUCell node (values: optional name -> array)."""
    where = f"node {node.name!r}"
    if len(node.input) != INPUT_COUNT:
        raise HwgenError(f"{where}: QuantGRUCell has {len(node.input)} inputs, expected "
                         f"{INPUT_COUNT}")
    out = node_quantizer(model, node, "output", GRU_CELL)
    x_info = quant_info(model, node.input[GRU_CELL.x])
    x_type = x_info.type if x_info is not None else out.type
    wx, _ = quantized_constant(model, node.input[GRU_CELL.wx(GRUGate.RESET)],
                               f"{where} reset input weight", values)
    hidden, x_size = int(wx.shape[0]), int(wx.shape[1])
    gates = {g: _gate(model, node, g, x_size, hidden, values) for g in GRU_GATES}
    hb, hb_type = _bias(model, node, GRU_CELL.hidden_bias, f"{where} hidden bias", values)
    hidden_acc = node_quantizer(model, node, "hidden_acc", GRU_CELL)
    return GRUParams(x_size, hidden, x_type, gates, hb, hb_type, hidden_acc, out,
                     bool(attr(node, "reverse_input", 0)))


class QuantGRUCell(HiddenStateCellOp):
    """A whole QuantGRU layer (one direction), executed by the int64 reference."""

    QUANTIZERS = QUANTIZERS
    INPUTS = INPUT_COUNT
    LAYOUT = GRU_CELL

    def params(self, model, node, values):
        return gru_params(model, node, values=values)

    def layer(self, p, x_codes, h0):
        return gru_layer(p, x_codes, h0)


add_op_to_domain(HWGEN_DOMAIN, QuantGRUCell)
