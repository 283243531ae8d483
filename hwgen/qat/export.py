"""Export a Brevitas model to QONNX, check the graph really holds the LSTM, and tidy it."""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import onnx
import torch

from hwgen.types import HwgenError

INPUT_NAME = "x"


def _driven_by_input(proto: onnx.ModelProto, input_name: str) -> bool:
    """Return True when some QuantLSTMCell node depends on the graph input."""
    reached = {input_name}
    for node in proto.graph.node:  # ONNX graphs are topologically sorted
        if reached.intersection(node.input):
            if node.op_type == "QuantLSTMCell":
                return True
            reached.update(node.output)
    return False


def check_export(proto: onnx.ModelProto, where: str) -> None:
    """Raise HwgenError unless the graph holds QuantLSTMCell nodes driven by its input."""
    cells = [n for n in proto.graph.node if n.op_type == "QuantLSTMCell"]
    if not cells:
        raise HwgenError(f"{where}: export wrote no QuantLSTMCell node ({len(proto.graph.node)} "
                         "nodes); was the dynamo exporter used?")
    inputs = [i.name for i in proto.graph.input]
    if not inputs or not _driven_by_input(proto, inputs[0]):
        raise HwgenError(f"{where}: the QuantLSTMCell node is not driven by the graph input")


def export_model(model: torch.nn.Module, example: torch.Tensor, path) -> onnx.ModelProto:
    """Export model (eval mode) to QONNX at path with TorchScript, check and tidy it; return it."""
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper

    from hwgen.onnx.graph import tidy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export_qonnx(model, args=example, export_path=str(raw), dynamo=False,
                         input_names=[INPUT_NAME])
        proto = onnx.load(str(raw))
    check_export(proto, str(path))
    import hwgen.onnx.lstm_cell  # noqa: F401  registers the op used by shape inference

    tidied = tidy(ModelWrapper(proto))
    tmp_path = path.with_suffix(".onnx.tmp")
    tidied.save(str(tmp_path))
    os.replace(tmp_path, path)  # never leave a half-written model behind
    return tidied.model
