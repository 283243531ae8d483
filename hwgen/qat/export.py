"""Export a Brevitas model to QONNX, check the graph really holds the LSTM, and tidy it."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import onnx
import torch

from hwgen.locks import write_atomic
from hwgen.types import HwgenError

INPUT_NAME = "x"


RECURRENT_OPS = ("QuantLSTMCell", "QuantRNNCell", "QuantGRUCell")


def _driven_by_input(proto: onnx.ModelProto, input_name: str) -> bool:
    """Return True when some recurrent node depends on the graph input."""
    reached = {input_name}
    for node in proto.graph.node:  # ONNX graphs are topologically sorted
        if reached.intersection(node.input):
            if node.op_type in RECURRENT_OPS:
                return True
            reached.update(node.output)
    return False


def check_export(proto: onnx.ModelProto, where: str) -> None:
    """Raise HwgenError unless the graph holds recurrent nodes driven by its input."""
    cells = [n for n in proto.graph.node if n.op_type in RECURRENT_OPS]
    if not cells:
        raise HwgenError(f"{where}: export wrote no QuantLSTMCell or QuantRNNCell node "
                         f"({len(proto.graph.node)} nodes); was the dynamo exporter used?")
    inputs = [i.name for i in proto.graph.input]
    if not inputs or not _driven_by_input(proto, inputs[0]):
        raise HwgenError(f"{where}: no recurrent node is driven by the graph input")


def export_model(model: torch.nn.Module, example, path, input_names=None) -> onnx.ModelProto:
    """Export model (eval mode) to QONNX at path with TorchScript, check and tidy it; return it.

    Brevitas's QONNX exporter writes QuantLSTM layers; hwgen.qat.rnn_export adds QuantRNN ones.
    example is the input, or a tuple (x, hx[, cx]) with input_names naming each (default "x").
    """
    from qonnx.core.modelwrapper import ModelWrapper

    from hwgen.onnx.graph import tidy
    from hwgen.qat.rnn_export import export_qonnx_torchscript

    path = Path(path)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export_qonnx_torchscript(model, example, str(raw), input_names or [INPUT_NAME])
        proto = onnx.load(str(raw))
    check_export(proto, str(path))
    import hwgen.onnx.lstm_cell  # noqa: F401  registers the ops used by shape inference
    import hwgen.onnx.rnn_cell  # noqa: F401
    import hwgen.onnx.gru_cell  # noqa: F401

    tidied = tidy(ModelWrapper(proto))
    write_atomic(path, lambda tmp: tidied.save(str(tmp)))  # never a half-written model
    return tidied.model
