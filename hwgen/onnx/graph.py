"""Loading, checking and tidying QONNX graphs, and reading quantizer parameters out of them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import onnx

from hwgen.gates import LSTM_CELL, RNN_CELL
from hwgen.types import HwgenError, IntType, Rounding, exact_log2, quant_type, shown

QONNX_DOMAINS = ("qonnx.custom_op.general", "onnx.brevitas")
# Standard ops the head and the glue around LSTM layers may use; anything else is refused.
SUPPORTED_OPS = {
    "Quant", "QuantLSTMCell", "Gather", "Gemm", "MatMul", "Add", "Unsqueeze", "Squeeze",
    "Identity", "Constant", "Reshape", "Transpose", "Flatten", "Slice", "Concat", "QuantRNNCell",
    "QuantGRUCell",
}
RNN_DOMAIN = "hwgen.custom_op"  # hwgen's own ops (QuantRNNCell); see hwgen.onnx.rnn_cell
RECURRENT_OPS = ("QuantLSTMCell", "QuantRNNCell", "QuantGRUCell")
# node layout of each recurrent op; hwgen.onnx.gru_cell adds QuantGRUCell's when imported
CELL_LAYOUTS = {"QuantLSTMCell": LSTM_CELL, "QuantRNNCell": RNN_CELL}


@dataclass(frozen=True)
class QuantInfo:
    """A fixed-point Quant node: the type of its codes, its rounding, and the tensor it quantizes."""

    type: IntType
    rounding: Rounding
    source: str
    node: str


def load_model(path) -> "ModelWrapper":
    """Return a QONNX ModelWrapper for the file at path, or raise HwgenError saying what is wrong."""
    from qonnx.core.modelwrapper import ModelWrapper

    import hwgen.onnx.lstm_cell  # noqa: F401  registers QuantLSTMCell with qonnx
    import hwgen.onnx.rnn_cell  # noqa: F401  registers QuantRNNCell
    import hwgen.onnx.gru_cell  # noqa: F401  registers QuantGRUCell

    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"{path}: no such file")
    try:
        proto = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, ValueError, ... for damaged files
        raise HwgenError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    if len(proto.graph.node) == 0:
        raise HwgenError(f"{path}: the graph has no nodes (an empty or truncated export?)")
    model = ModelWrapper(proto)
    check_ops(model, str(path))
    check_outputs(model, str(path))
    try:
        tidied = tidy(model)
        check_quantizers(tidied)
        check_outputs(tidied, "after constant folding")
        return tidied
    except HwgenError as exc:
        raise HwgenError(f"{path}: {exc}") from None
    except Exception as exc:  # shape inference or folding failed on a malformed graph
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise HwgenError(f"{path}: malformed graph ({type(exc).__name__}: {first})") from None


def check_outputs(model, where: str) -> None:
    """Raise HwgenError naming the first graph output that no node computes (nor a graph input
    passes through): executing the graph would return zeros for it."""
    computed = {t for n in model.graph.node for t in n.output}
    computed |= {i.name for i in model.graph.input}
    for out in model.graph.output:
        if out.name not in computed:
            raise HwgenError(f"{where}: graph output {shown(out.name)} is computed by no node")


def check_ops(model, where: str) -> None:
    """Raise HwgenError naming the first node whose op hwgen does not support."""
    for node in model.graph.node:
        if node.op_type not in SUPPORTED_OPS:
            raise HwgenError(f"{where}: node {node.name or node.output[0]!r}: unsupported op "
                             f"{node.op_type!r}")
        if node.op_type in ("QuantRNNCell", "QuantGRUCell") and node.domain != RNN_DOMAIN:
            raise HwgenError(f"{where}: node {node.name!r}: op {node.op_type} in unknown domain "
                             f"{node.domain!r} (expected {RNN_DOMAIN!r})")
        if node.op_type in ("Quant", "QuantLSTMCell") and node.domain not in QONNX_DOMAINS:
            raise HwgenError(f"{where}: node {node.name!r}: op {node.op_type} in unknown domain "
                             f"{node.domain!r}")


def check_quantizers(model) -> None:
    """Raise HwgenError naming the first Quant node that is not a fixed-point quantizer."""
    # QuantLSTMCell checks its own quantizers when it runs; without this, the others (input, head)
    # would run in float with any scale.
    for node in model.graph.node:
        if node.op_type == "Quant":  # constants (weights, biases) may have per-channel scales
            quant_info(model, node.output[0], model.get_initializer(node.input[0]) is not None)


def producer(model, tensor: str):
    """Return the node that writes tensor, or None for a graph input or initializer."""
    for node in model.graph.node:
        if tensor in node.output:
            return node
    return None


def attr(node, name: str, default=None):
    """Return the value of a node attribute (decoded strings), or default when absent."""
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def constant(model, tensor: str, where: str) -> np.ndarray:
    """Return the constant value of tensor (initializer or Constant node), or raise HwgenError."""
    value = model.get_initializer(tensor)
    if value is not None:
        return np.asarray(value)
    node = producer(model, tensor)
    if node is not None and node.op_type == "Constant":
        return onnx.numpy_helper.to_array(attr(node, "value"))
    raise HwgenError(f"{where}: tensor {tensor!r} must be a constant")


def scalar_scale_exp(model, tensor: str, where: str) -> int:
    """Return the exponent of a per-tensor power-of-two scale held in a constant tensor."""
    scale = constant(model, tensor, where)
    if scale.size != 1:
        raise HwgenError(f"{where}: scale {tensor!r} has shape {list(scale.shape)}; only per-tensor "
                         "scales are supported")
    return exact_log2(float(scale.reshape(())), f"{where}: scale {tensor!r}")


def _per_channel_type(model, scale: str, bits: int, signed: bool, narrow: bool,
                      where: str) -> IntType:
    """Return the type that holds per-channel power-of-two codes all expressed at the finest scale.

    A channel quantized at 2^e holds codes q; at the finest exponent e_min they are q << (e - e_min),
    so the storage grows by e_max - e_min bits and every product stays exact.
    """
    values = constant(model, scale, where).reshape(-1)
    exps = [exact_log2(float(v), f"{where}: scale {scale!r}") for v in values]
    if max(exps) == min(exps):
        return quant_type(bits, signed, narrow, exps[0])
    return IntType(bits + max(exps) - min(exps), signed, min(exps))


def quantizer_type(model, scale: str, zero_point: str, bit_width: str, signed, narrow,
                   where: str, per_channel: bool = False) -> IntType:
    """Return the IntType of a quantizer given by its scale, zero-point and bit-width tensors.

    per_channel accepts a scale per output channel (weights and biases only, see quantized_constant).
    """
    zp = constant(model, zero_point, where)
    if np.any(zp != 0):
        raise HwgenError(f"{where}: zero point {zero_point!r} is not 0; only symmetric fixed-point "
                         "quantizers are supported")
    bits = float(constant(model, bit_width, where).reshape(-1)[0])
    if bits != int(bits) or not 1 <= bits <= 32:
        raise HwgenError(f"{where}: bit width {bits} in {bit_width!r} is not an integer in 1..32")
    if per_channel and constant(model, scale, where).size > 1:
        return _per_channel_type(model, scale, int(bits), bool(signed), bool(narrow), where)
    exp = scalar_scale_exp(model, scale, where)
    return quant_type(int(bits), bool(signed), bool(narrow), exp)


def quant_info(model, tensor: str, per_channel: bool = False) -> Optional[QuantInfo]:
    """Return the QuantInfo of the Quant node that writes tensor, or None if no Quant node does.

    per_channel accepts per-channel power-of-two scales (for constants: weights and biases).
    """
    node = producer(model, tensor)
    while node is not None and node.op_type in ("Identity",):
        node = producer(model, node.input[0])
    if node is None or node.op_type != "Quant":
        return None
    where = f"node {node.name!r}"
    t = quantizer_type(model, node.input[1], node.input[2], node.input[3], attr(node, "signed", 1),
                       attr(node, "narrow", 0), where, per_channel)
    rounding = Rounding.parse(attr(node, "rounding_mode", "ROUND"), where)
    return QuantInfo(t, rounding, node.input[0], node.name)


def codes_of(values: np.ndarray, t: IntType, where: str) -> np.ndarray:
    """Return the integer codes of dequantized values at type t; raise HwgenError if off the grid."""
    scaled = np.asarray(values, dtype=np.float64) * (2.0 ** -t.exp)
    if not np.all(np.isfinite(scaled)):
        raise HwgenError(f"{where}: holds NaN or infinity")
    codes = np.rint(scaled)
    if np.any(codes != scaled):
        raise HwgenError(f"{where}: values are not multiples of the scale 2^{t.exp}")
    codes = codes.astype(np.int64)
    if not t.contains(codes):
        raise HwgenError(f"{where}: codes outside {t.describe()}")
    return codes


def quantized_constant(model, tensor: str, where: str, values: Callable = None):
    """Return (codes, type) of a tensor written by a Quant node on a constant (weights, bias)."""
    info = quant_info(model, tensor, per_channel=True)
    if info is None:
        raise HwgenError(f"{where}: tensor {tensor!r} is not written by a Quant node")
    if values is not None and values(tensor) is not None:
        dequant = values(tensor)
    else:
        from qonnx.custom_op.general.quant import quant

        node = producer(model, tensor)
        raw = constant(model, info.source, where)
        args = [constant(model, node.input[i], where) for i in (1, 2, 3)]
        # the node's own flags: a per-channel type is a wider container and is never narrow
        dequant = quant(raw, *args, int(attr(node, "signed", 1)), int(attr(node, "narrow", 0)),
                        info.rounding.value)
    return codes_of(dequant, info.type, f"{where}: tensor {tensor!r}"), info.type


SHAPE_ONLY_DOMAIN = "hwgen.shape_only"
ORT_IR_VERSION = 10


def set_unknown_shapes(model) -> None:
    """Give the outputs of every QuantLSTMCell node their shapes (Brevitas exports none)."""
    # ONNX shape inference skips the stand-in nodes of this domain but wants it declared.
    if all(o.domain != SHAPE_ONLY_DOMAIN for o in model.model.opset_import):
        model.model.opset_import.append(onnx.helper.make_opsetid(SHAPE_ONLY_DOMAIN, 1))
    for node in model.graph.node:
        if node.op_type not in RECURRENT_OPS:
            continue
        layout = CELL_LAYOUTS[node.op_type]
        x_shape = model.get_tensor_shape(node.input[layout.x])
        # the hidden-to-hidden weight [H, H]
        hidden = model.get_tensor_shape(node.input[layout.wh(layout.gates[0])])
        if x_shape is None or hidden is None:
            continue
        batch = x_shape[0] if attr(node, "batch_first", 0) else x_shape[1]
        model.set_tensor_shape(node.output[0], list(x_shape[:2]) + [hidden[0]])
        for out in node.output[1:]:
            model.set_tensor_shape(out, [batch, hidden[0]])


def infer_shapes(model):
    """Return the model with every tensor's shape inferred, through chains of recurrent nodes.

    ONNX inference stops at each recurrent node and set_unknown_shapes stops at each tensor ONNX has
    not reached yet (a Concat of two directions), so they alternate once per recurrent node.
    """
    from qonnx.transformation.infer_shapes import InferShapes

    recurrent = sum(1 for n in model.graph.node if n.op_type in RECURRENT_OPS)
    for _ in range(recurrent + 1):
        set_unknown_shapes(model)
        model = model.transform(InferShapes())
    return model


def tidy(model):
    """Return the model with shapes inferred, constants folded (Quant nodes kept) and names tidied."""
    from qonnx.util.cleanup import cleanup_model

    # onnxruntime, which qonnx uses for standard ops, reads IR versions up to 10 reliably.
    model.model.ir_version = min(model.model.ir_version, ORT_IR_VERSION)
    names = [i.name for i in model.graph.input if model.get_initializer(i.name) is None]
    tidied = cleanup_model(infer_shapes(model))
    # cleanup renames every tensor; keep the inputs' names (x, hx, cx) that callers feed by name
    inputs = [i.name for i in tidied.graph.input if tidied.get_initializer(i.name) is None]
    for old, new in zip(inputs, names):
        if old != new:
            tidied.rename_tensor(old, new)
    return tidied
