"""Reading an embedding from a QONNX graph: Gather(Quant(table), token ids) before the first
recurrent layer's input quantizer.

Brevitas's QuantEmbedding exports as a Quant node on the table initializer and a Gather whose
indices are the graph's token-id input (int64); the first recurrent layer then quantizes the
gathered rows with its io quantizer, as it quantizes any input.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import onnx

from hwgen.onnx.graph import attr, producer, quant_info, quantized_constant
from hwgen.types import HwgenError

INTEGER_INPUTS = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}


def token_input(model) -> bool:
    """Return True when the graph's first input holds integer token ids."""
    first = next(i for i in model.graph.input if model.get_initializer(i.name) is None)
    return first.type.tensor_type.elem_type in INTEGER_INPUTS


def token_vocab(model):
    """Return the rows of the table the token-id input indexes, or None when no Gather on a
    table reads the graph's first input."""
    first = next(i.name for i in model.graph.input if model.get_initializer(i.name) is None)
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) > 1 and node.input[1] == first:
            shape = model.get_tensor_shape(node.input[0])
            return int(shape[0]) if shape else None
    return None


def embedding_gather(model, first_cell) -> Optional[object]:
    """Return the Gather that feeds the first recurrent node's input quantizer from the token ids,
    or None when the first layer reads the graph input directly (no embedding)."""
    info = quant_info(model, first_cell.input[0])
    node = producer(model, info.source) if info is not None else None
    if node is None or node.op_type != "Gather":
        return None
    inputs = [i.name for i in model.graph.input if model.get_initializer(i.name) is None]
    if node.input[1] != inputs[0]:
        raise HwgenError(f"node {node.name!r}: the embedding must index the graph's first input "
                         f"(the token ids), not {node.input[1]!r}")
    if attr(node, "axis", 0) != 0:
        raise HwgenError(f"node {node.name!r}: the embedding must select table rows (axis 0)")
    return node


def embedding_table(model, gather) -> tuple:
    """Return (codes [vocab, dim], IntType) of the quantized table an embedding Gather reads."""
    where = f"node {gather.name!r}"
    codes, t = quantized_constant(model, gather.input[0], where)
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1:
        raise HwgenError(f"{where}: the table has shape {list(codes.shape)}, expected "
                         "[vocab, dim]")
    return np.asarray(codes, dtype=np.int64), t


__all__ = ["token_input", "embedding_gather", "embedding_table"]
