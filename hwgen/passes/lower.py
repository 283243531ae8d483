"""Lower a tidied QONNX graph to the IR: a chain of recurrent layers, optionally a head.

The chain starts at the graph input; each stack layer is one QuantLSTMCell or QuantRNNCell node,
or a forward and a reverse node reading the same tensor whose outputs one Concat joins. The head is
Gather(last step) + Gemm on the chain's output, or (task per_step) Reshape(steps into the batch) +
Gemm (+ Reshape back): the head on every step.
"""
from __future__ import annotations

import numpy as np

from hwgen.gates import LSTM_CELL, RNN_CELL
from hwgen.ir.graph import LoweredModel, StateInput
from hwgen.ir.stages import Embedding, Head, MatVec
from hwgen.onnx.embed import embedding_gather, embedding_table
from hwgen.onnx.graph import (RECURRENT_OPS, attr, constant, producer, quant_info,
                              quantized_constant)
from hwgen.onnx.lstm_cell import lstm_params
from hwgen.onnx.rnn_cell import rnn_params
from hwgen.onnx.gru_cell import GRU_CELL, gru_params
from hwgen.passes.lower_gru import lower_gru
from hwgen.passes.lower_lstm import lower_lstm, lower_rnn
from hwgen.reference.gru import GRUParams
from hwgen.reference.rnn import RNNParams
from hwgen.reference.kernels import align, matvec_range
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, signed_type_for_range


def _consumers(model, tensor: str) -> list:
    return [n for n in model.graph.node if tensor in n.input]


def _head_gemm(model, node):
    """Return the one Gemm(transB=1) reading node's output, or raise naming node."""
    users = _consumers(model, node.output[0])
    if len(users) != 1 or users[0].op_type != "Gemm" or attr(users[0], "transB", 0) != 1:
        raise HwgenError(f"node {node.name!r}: expected one Gemm(transB=1) head after it")
    return users[0]


def _lower_head(model, gather, in_type, time_axis: int) -> Head:
    """Return the Head stage for Gather(last step) -> Gemm, or raise naming the node."""
    index = constant(model, gather.input[1], f"node {gather.name!r}")
    if attr(gather, "axis", 0) != time_axis or int(np.asarray(index).reshape(-1)[0]) != -1:
        raise HwgenError(f"node {gather.name!r}: the head must read the last timestep")
    return _gemm_head(model, _head_gemm(model, gather), in_type, False)


def _lower_step_head(model, reshape, in_type, features: int) -> Head:
    """Return the per-step Head stage for Reshape([steps * batch, features]) -> Gemm."""
    shape = np.asarray(constant(model, reshape.input[1], f"node {reshape.name!r}")).reshape(-1)
    if len(shape) != 2 or int(shape[1]) != features:
        raise HwgenError(f"node {reshape.name!r}: a per-step head must read the steps as rows "
                         f"of {features} features (shape {shape.tolist()})")
    return _gemm_head(model, _head_gemm(model, reshape), in_type, True)


def _gemm_head(model, gemm, in_type, per_step: bool) -> Head:
    """Return the Head stage of the Gemm after the stack's output (per_step: on every step)."""
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
    mv = MatVec("head.mv", (), weight, (w_type,), in_type, acc, int(weight.shape[0]),
                int(weight.shape[1]))  # the head stays fully parallel
    shift = w_type.exp + in_type.exp - exp
    aligned = align(bias, b_type.exp, exp) if bias is not None else None
    lo, hi = lo << shift, hi << shift
    if aligned is not None:
        lo, hi = lo + aligned, hi + aligned
    return Head("head", mv, aligned, shift, signed_type_for_range(int(lo.min()),
                                                                  int(hi.max()), exp), per_step)


def _layer_input(model, node) -> str:
    """Return the tensor that identifies a recurrent node's input: what its input Quant reads."""
    info = quant_info(model, node.input[0])
    return info.source if info is not None else node.input[0]


def _directions(nodes: list, where: str) -> list:
    """Return [forward] or [forward, reverse] of the recurrent nodes that read one tensor."""
    fwd = [n for n in nodes if not attr(n, "reverse_input", 0)]
    rev = [n for n in nodes if attr(n, "reverse_input", 0)]
    if len(fwd) != 1 or len(rev) > 1:
        names = ", ".join(repr(n.name) for n in nodes)
        raise HwgenError(f"{where}: recurrent nodes {names} read one tensor; expected one forward "
                         "direction and at most one reverse direction")
    return fwd + rev


def _concat_of(model, outputs: list) -> str:
    """Return the output of the Concat that joins a bidirectional layer's outputs (fwd, rev)."""
    for node in _consumers(model, outputs[0]):
        if node.op_type == "Concat" and list(node.input) == outputs:
            if attr(node, "axis", 0) not in (-1, 2):
                raise HwgenError(f"node {node.name!r}: the directions must be joined on the "
                                 "feature axis")
            return node.output[0]
    raise HwgenError(f"the outputs {outputs} of a bidirectional layer are not joined by one Concat")


HARDWARE_OPS = ("QuantLSTMCell", "QuantRNNCell", "QuantGRUCell")  # recurrent ops lowered to the IR


def recurrent_stack(model) -> tuple:
    """Return ([[fwd node] or [fwd node, rev node] per stack layer], the stack's output tensor)."""
    cells = [n for n in model.graph.node if n.op_type in RECURRENT_OPS]
    if not cells:
        raise HwgenError("the graph has no QuantLSTMCell or QuantRNNCell node")
    for node in cells:
        if node.op_type not in HARDWARE_OPS:
            raise HwgenError(f"node {node.name!r}: {node.op_type} runs on the integer reference "
                             "but has no hardware yet (RTL and HLS take QuantLSTMCell, "
                             "QuantRNNCell and QuantGRUCell)")
    by_input = {}
    for node in cells:
        by_input.setdefault(_layer_input(model, node), []).append(node)
    current = _layer_input(model, cells[0])
    stack = []
    while current in by_input:
        nodes = _directions(by_input.pop(current), f"tensor {current!r}")
        if {n.op_type for n in nodes} != {nodes[0].op_type}:
            raise HwgenError(f"node {nodes[1].name!r}: both directions of a layer must be of one "
                             "kind (LSTM, RNN or GRU)")
        stack.append(nodes)
        outputs = [n.output[0] for n in nodes]
        current = outputs[0] if len(nodes) == 1 else _concat_of(model, outputs)
    if by_input:
        stray = next(iter(by_input.values()))[0]
        raise HwgenError(f"node {stray.name!r}: not part of the single chain of recurrent layers "
                         "that starts at the graph input")
    return stack, current


def _state_input(model, node, tensor: str, part: str, layer: str, want, count: int):
    """Return the StateInput of a direction's initial h or c, or None when it is a zero constant.

    A state given as input is Quant(Gather(graph input, row)); its quantizer must be the type
    the direction keeps that state in (Brevitas quantizes hx with io, cx with the cell state).
    """
    info = quant_info(model, tensor)
    source = info.source if info is not None else tensor
    try:
        value = constant(model, source, f"node {node.name!r}")
    except HwgenError:
        value = None
    if value is not None:
        if np.any(value != 0):
            raise HwgenError(f"node {node.name!r}: constant non-zero initial {part} state "
                             f"{source!r} is not supported (option: initial states are inputs)")
        return None
    gather = producer(model, source)
    inputs = [i.name for i in model.graph.input]
    if (info is None or gather is None or gather.op_type != "Gather" or attr(gather, "axis", 0)
            or gather.input[0] not in inputs[1:]):
        raise HwgenError(f"node {node.name!r}: initial {part} state {source!r} is neither zero "
                         "nor a quantized row of a graph input (option: initial states)")
    row = int(np.asarray(constant(model, gather.input[1], f"node {gather.name!r}")).reshape(()))
    if info.type != want:
        raise HwgenError(f"node {node.name!r}: initial {part} state quantizer {info.node!r} is "
                         f"{info.type.describe()}, not the state's {want.describe()}")
    return StateInput(gather.input[0], row, layer, part, Quantizer(info.type, info.rounding),
                      count)


def _state_inputs(model, node, layer) -> list:
    """Return the StateInputs of one lowered direction (empty when its states start at zero)."""
    cell = {"lstm": LSTM_CELL, "gru": GRU_CELL}.get(layer.kind, RNN_CELL)
    out = [_state_input(model, node, node.input[cell.h0], "h", layer.name, layer.state.h_type,
                        layer.hidden_size)]
    if layer.kind == "lstm":
        out.append(_state_input(model, node, node.input[cell.c0], "c", layer.name,
                                layer.state.c_type, layer.hidden_size))
    return [s for s in out if s is not None]


def _params(model, node):
    """Return the integer parameters of a recurrent node (LSTMParams, RNNParams or GRUParams)."""
    if node.op_type == "QuantGRUCell":
        return gru_params(model, node)
    if node.op_type == "QuantRNNCell":
        return rnn_params(model, node)
    return lstm_params(model, node)


def _lower_layer(params, name: str, index: int):
    """Return the LayerIR, RNNLayerIR or GRULayerIR of one direction."""
    if isinstance(params, GRUParams):
        return lower_gru(params, name, index)
    if isinstance(params, RNNParams):
        return lower_rnn(params, name, index)
    return lower_lstm(params, name, index)


def _embedding(model, first, x_info) -> tuple:
    """Return (input quantizer, Embedding or None): with an embedding, the input is the token id
    (unsigned, scale 1) and the first layer's input quantizer re-quantizes the table."""
    io = Quantizer(x_info.type, x_info.rounding)
    gather = embedding_gather(model, first)
    if gather is None:
        return io, None
    table, table_type = embedding_table(model, gather)
    embed = Embedding("embed", table, table_type, io)
    return Quantizer(embed.token_type), embed


def lower(model) -> LoweredModel:
    """Return the LoweredModel of a graph: a chain of recurrent layers and an optional head.

    The result is fully parallel and has max_steps 0; hwgen.passes.fold folds it and sets the
    sequence-buffer depth that reverse directions need.
    """
    stack, output = recurrent_stack(model)
    first = stack[0][0]
    x_info = quant_info(model, first.input[0])
    if x_info is None:
        raise HwgenError(f"node {first.name!r}: its input is not written by a Quant node")
    x_quant, embed = _embedding(model, first, x_info)
    layers, states, in_type = [], [], x_info.type
    for index, nodes in enumerate(stack):
        for node in nodes:
            params = _params(model, node)
            if params.x_type != in_type:
                raise HwgenError(f"node {node.name!r}: its input type {params.x_type.describe()} "
                                 f"differs from what feeds it ({in_type.describe()})")
            suffix = "r" if params.reverse else ""
            layers.append(_lower_layer(params, f"l{index}{suffix}", index))
            states += _state_inputs(model, node, layers[-1])
        out_types = {layer.state.h_type for layer in layers[-len(nodes):]}
        if len(out_types) != 1:
            raise HwgenError(f"node {nodes[1].name!r}: the two directions' outputs have different "
                             "types")
        in_type = out_types.pop()
    head = None
    gathers = [n for n in _consumers(model, output) if n.op_type == "Gather"]
    reshapes = [n for n in _consumers(model, output) if n.op_type == "Reshape"]
    if gathers:
        time_axis = 1 if attr(first, "batch_first", 0) else 0
        head = _lower_head(model, gathers[0], in_type, time_axis)
    elif reshapes:
        head = _lower_step_head(model, reshapes[0], in_type,
                                sum(layer.hidden_size for layer in layers[-len(nodes):]))
    return LoweredModel(x_quant, tuple(layers), head, 0, tuple(states),
                        bool(attr(first, "batch_first", 0)), embed=embed)
