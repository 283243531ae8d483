"""Run a QONNX graph on the integer reference through qonnx's execute_onnx."""
from __future__ import annotations

import copy

import numpy as np

from hwgen.types import HwgenError


def graph_inputs(model) -> list:
    """Return [(name, shape)] of the graph's inputs that are not initializers, in order.

    The first is the sequence input x; any others are initial states (Brevitas's hx / cx).
    """
    inputs = [i for i in model.graph.input if model.get_initializer(i.name) is None]
    if not inputs:
        raise HwgenError("the graph has no input")
    return [(i.name, model.get_tensor_shape(i.name)) for i in inputs]


def input_info(model):
    """Return (name, shape) of the graph's sequence input (its first input)."""
    return graph_inputs(model)[0]


def check_states(model, states: dict, batch: int) -> dict:
    """Return the initial-state arrays (float32) for the graph's extra inputs, checked by name."""
    states = dict(states or {})
    wanted = {name: shape for name, shape in graph_inputs(model)[1:]}
    for name in states:
        if name not in wanted:
            raise HwgenError(f"state {name!r}: the graph has no such input (its state inputs: "
                             f"{', '.join(wanted) or 'none'})")
    out = {}
    for name, shape in wanted.items():
        if name not in states:
            raise HwgenError(f"graph input {name!r} (an initial state) needs a value")
        value = np.asarray(states[name], dtype=np.float32)
        if shape is not None and (value.ndim != len(shape) or value.shape[0] != shape[0]
                                  or value.shape[-1] != shape[-1] or value.shape[1] != batch):
            raise HwgenError(f"state {name!r}: shape {list(value.shape)} does not fit graph input "
                             f"of shape {list(shape)} with batch {batch}")
        if not np.all(np.isfinite(value)):
            raise HwgenError(f"state {name!r}: holds NaN or infinity")
        out[name] = value
    return out


def check_input(model, x: np.ndarray, name: str = "input") -> np.ndarray:
    """Return x as float32 after checking its rank and feature size against the graph input."""
    tensor, shape = input_info(model)
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise HwgenError(f"{name}: dtype {x.dtype} is not numeric")
    from hwgen.onnx.embed import token_input

    if token_input(model):
        from hwgen.onnx.embed import token_vocab

        return check_tokens(x, shape, tensor, name, token_vocab(model))
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


def check_tokens(x: np.ndarray, shape, tensor: str, name: str, vocab=None) -> np.ndarray:
    """Return token ids x as int64 after checking they are integers of the graph input's rank
    in 0..vocab-1 (ONNX's Gather would read a negative id from the table's end)."""
    if x.dtype.kind == "f" and not np.all(np.isfinite(x) & (x == np.rint(x))):
        raise HwgenError(f"{name}: token ids must be integers")
    if shape is not None and x.ndim != len(shape):
        raise HwgenError(f"{name}: shape {list(x.shape)} does not fit graph input {tensor!r} of "
                         f"shape {list(shape)} (token ids: batch and sequence length may differ)")
    if x.size == 0:
        raise HwgenError(f"{name}: shape {list(x.shape)} is empty")
    x = x.astype(np.int64)
    bad = np.argwhere((x < 0) | (x >= (vocab if vocab is not None else np.iinfo(np.int64).max)))
    if len(bad):
        raise HwgenError(f"{name}: token id {int(x[tuple(bad[0])])} at {bad[0].tolist()} is "
                         f"outside 0..{vocab - 1}")
    return x


def _reshaped(model, shapes: dict):
    """Return a copy of model whose inputs have these shapes, with downstream shapes re-inferred."""
    from qonnx.core.modelwrapper import ModelWrapper

    from hwgen.onnx.graph import infer_shapes

    if all(model.get_tensor_shape(t) is not None and list(model.get_tensor_shape(t)) == list(v)
           for t, v in shapes.items()):
        return model
    clone = ModelWrapper(copy.deepcopy(model.model))
    del clone.graph.value_info[:]
    for out in clone.graph.output:  # sizes follow the input; keep only the rank
        for k, dim in enumerate(out.type.tensor_type.shape.dim):
            dim.ClearField("dim_value")
            dim.dim_param = f"{out.name}_{k}"
    for tensor, shape in shapes.items():
        clone.set_tensor_shape(tensor, list(shape))
    return infer_shapes(clone)


def batch_size(model, x: np.ndarray) -> int:
    """Return the batch size of input x in the layout of the graph's recurrent nodes."""
    from hwgen.onnx.graph import RECURRENT_OPS, attr

    node = next((n for n in model.graph.node if n.op_type in RECURRENT_OPS), None)
    batch_first = node is not None and attr(node, "batch_first", 0)
    return int(x.shape[0] if batch_first else x.shape[1])


def run_reference_all(model, x: np.ndarray, states: dict = None) -> list:
    """Return every graph output (float32) for input x, with the recurrent layers run in int64.

    states gives the graph's initial-state inputs by name ([layers * directions, batch, hidden],
    as Brevitas's hx and cx), when it has any.
    """
    import onnxruntime
    from qonnx.core.onnx_exec import execute_onnx

    import hwgen.onnx.lstm_cell  # noqa: F401  registers QuantLSTMCell
    import hwgen.onnx.rnn_cell  # noqa: F401  registers QuantRNNCell
    import hwgen.onnx.gru_cell  # noqa: F401  registers QuantGRUCell

    onnxruntime.set_default_logger_severity(4)  # failures reach the user as one hwgen error line

    x = check_input(model, x)
    feed = {input_info(model)[0]: x, **check_states(model, states, batch_size(model, x))}
    runnable = _reshaped(model, {k: v.shape for k, v in feed.items()})
    out = execute_onnx(runnable, feed)
    return [np.asarray(out[o.name], dtype=np.float32) for o in runnable.graph.output]


def run_reference(model, x: np.ndarray, states: dict = None) -> np.ndarray:
    """Return the graph's first output (float32) for input x (Brevitas's outputs[0])."""
    return run_reference_all(model, x, states)[0]
