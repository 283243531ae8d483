"""Run a QONNX graph on the integer reference through qonnx's execute_onnx."""
from __future__ import annotations

import copy

import numpy as np

from hwgen.types import HwgenError


def input_info(model):
    """Return (name, shape) of the graph's single input."""
    inputs = [i for i in model.graph.input if model.get_initializer(i.name) is None]
    if len(inputs) != 1:
        raise HwgenError(f"the graph has {len(inputs)} inputs; hwgen runs graphs with exactly one")
    return inputs[0].name, model.get_tensor_shape(inputs[0].name)


def check_input(model, x: np.ndarray, name: str = "input") -> np.ndarray:
    """Return x as float32 after checking its rank and feature size against the graph input."""
    tensor, shape = input_info(model)
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise HwgenError(f"{name}: dtype {x.dtype} is not numeric")
    x = x.astype(np.float32)
    if shape is not None and (x.ndim != len(shape) or x.shape[-1] != shape[-1]):
        raise HwgenError(f"{name}: shape {list(x.shape)} does not fit graph input {tensor!r} of "
                         f"shape {list(shape)} (batch and sequence length may differ)")
    if x.size == 0:  # an empty sequence has no last step; onnxruntime would fail and log
        raise HwgenError(f"{name}: shape {list(x.shape)} is empty")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0].tolist()
        raise HwgenError(f"{name}: NaN or infinity at index {bad}")
    return x


def _reshaped(model, x_shape):
    """Return a copy of model whose input has x_shape, with downstream shapes re-inferred."""
    from qonnx.core.modelwrapper import ModelWrapper

    from hwgen.onnx.graph import infer_shapes

    tensor, shape = input_info(model)
    if shape is not None and list(shape) == list(x_shape):
        return model
    clone = ModelWrapper(copy.deepcopy(model.model))
    del clone.graph.value_info[:]
    for out in clone.graph.output:  # sizes follow the input; keep only the rank
        for k, dim in enumerate(out.type.tensor_type.shape.dim):
            dim.ClearField("dim_value")
            dim.dim_param = f"{out.name}_{k}"
    clone.set_tensor_shape(tensor, list(x_shape))
    return infer_shapes(clone)


def run_reference_all(model, x: np.ndarray) -> list:
    """Return every graph output (float32) for input x, with the LSTM layers run in int64."""
    import onnxruntime
    from qonnx.core.onnx_exec import execute_onnx

    import hwgen.onnx.lstm_cell  # noqa: F401  registers QuantLSTMCell
    import hwgen.onnx.rnn_cell  # noqa: F401  registers QuantRNNCell

    onnxruntime.set_default_logger_severity(4)  # failures reach the user as one hwgen error line

    x = check_input(model, x)
    runnable = _reshaped(model, x.shape)
    tensor, _ = input_info(runnable)
    out = execute_onnx(runnable, {tensor: x})
    return [np.asarray(out[o.name], dtype=np.float32) for o in runnable.graph.output]


def run_reference(model, x: np.ndarray) -> np.ndarray:
    """Return the graph's first output (float32) for input x (Brevitas's outputs[0])."""
    return run_reference_all(model, x)[0]
