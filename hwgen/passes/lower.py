"""Lower a tidied QONNX graph (QuantLSTMCell, optionally Gather(last step) + Gemm head) to the IR."""
from __future__ import annotations

import numpy as np

from hwgen.ir.graph import LoweredModel
from hwgen.ir.stages import Head, MatVec
from hwgen.onnx.graph import attr, constant, quant_info, quantized_constant
from hwgen.onnx.lstm_cell import lstm_params
from hwgen.passes.lower_lstm import check_folding, lower_lstm, matvec_range
from hwgen.reference.kernels import align
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, signed_type_for_range


def _consumers(model, tensor: str) -> list:
    return [n for n in model.graph.node if tensor in n.input]


def _lower_head(model, gather, in_type, time_axis: int) -> Head:
    """Return the Head stage for Gather(last step) -> Gemm, or raise naming the node."""
    index = constant(model, gather.input[1], f"node {gather.name!r}")
    if attr(gather, "axis", 0) != time_axis or int(np.asarray(index).reshape(-1)[0]) != -1:
        raise HwgenError(f"node {gather.name!r}: the head must read the last timestep")
    users = _consumers(model, gather.output[0])
    if len(users) != 1 or users[0].op_type != "Gemm" or attr(users[0], "transB", 0) != 1:
        raise HwgenError(f"node {gather.name!r}: expected one Gemm(transB=1) head after it")
    gemm = users[0]
    where = f"node {gemm.name!r}"
    if float(attr(gemm, "alpha", 1.0)) != 1.0 or float(attr(gemm, "beta", 1.0)) != 1.0:
        raise HwgenError(f"{where}: alpha and beta must be 1")
    weight, w_type = quantized_constant(model, gemm.input[1], where)
    exps = [w_type.exp + in_type.exp]
    bias = b_type = None
    if len(gemm.input) > 2 and gemm.input[2]:
        bias, b_type = quantized_constant(model, gemm.input[2], where)
        exps.append(b_type.exp)
    exp = min(exps)
    lo, hi = matvec_range(weight, in_type)
    acc = signed_type_for_range(int(lo.min()), int(hi.max()))
    mv = MatVec("head.mv", (), weight, w_type, in_type, acc, *check_folding(
        weight.shape[0], weight.shape[1], 0, 0, "head"))
    shift = w_type.exp + in_type.exp - exp
    aligned = align(bias, b_type.exp, exp) if bias is not None else None
    lo, hi = lo << shift, hi << shift
    if aligned is not None:
        lo, hi = lo + aligned, hi + aligned
    return Head("head", mv, aligned, shift, signed_type_for_range(int(lo.min()),
                                                                  int(hi.max()), exp))


def lower(model, pe: int = 0, simd: int = 0) -> LoweredModel:
    """Return the LoweredModel of a graph holding one QuantLSTMCell and an optional head."""
    cells = [n for n in model.graph.node if n.op_type == "QuantLSTMCell"]
    if len(cells) != 1:
        raise HwgenError(f"the graph has {len(cells)} QuantLSTMCell nodes; lowering supports one")
    node = cells[0]
    x_info = quant_info(model, node.input[0])
    if x_info is None:
        raise HwgenError(f"node {node.name!r}: its input is not written by a Quant node")
    params = lstm_params(model, node)
    layer = lower_lstm(params, "l0", pe, simd)
    head = None
    gathers = [n for n in _consumers(model, node.output[0]) if n.op_type == "Gather"]
    if gathers:
        time_axis = 1 if attr(node, "batch_first", 0) else 0
        head = _lower_head(model, gathers[0], params.out.type, time_axis)
    return LoweredModel(Quantizer(x_info.type, x_info.rounding), (layer,), head)
