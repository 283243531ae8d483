"""Saved lowered models for tests: three small curated Brevitas models, lowered and saved.

tests/fixtures/ir/NAME/{ir.json, ir.npz} is the saved IR (fully parallel, max_steps 0),
tests/fixtures/onnx/NAME.onnx the QONNX export it was lowered from and tests/golden/NAME.ir.txt
its dump. tests/make_ir_fixtures.py regenerates all three from CASES. (Training is not
bit-reproducible across CPUs, so tests lower the saved export rather than train again.)
Codegen and simulation tests can start from load_fixture(NAME) without training or exporting.
"""
from __future__ import annotations

from pathlib import Path

from hwgen.qat.model import LSTMWidths
from hwgen.spec import Net
from stack_cases import StackCase

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "ir"
EXPORTS = HERE / "fixtures" / "onnx"
GOLDEN = HERE / "golden"

W = LSTMWidths(weight=4, io=6, input_acc=7, cell_acc=5, sigmoid=5, cell_state=7)
CASES = {
    # one LSTM layer and a head: input 12, hidden 8, 9 classes, 4-bit weights
    "lstm_head": StackCase(21, Net(12, 8, 1, 9), W, True, (5,)),
    # two bidirectional LSTM layers, no head
    "bilstm_2x": StackCase(22, Net(4, 5, 2, 3, bidirectional=True), W, False, (4,)),
    # one QuantRNN layer (tanh) and a head
    "rnn_head": StackCase(23, Net(5, 6, 1, 4, cell="rnn"), W, True, (5,)),
}


def fixture_dir(name: str) -> Path:
    """Return the folder of a fixture's saved IR."""
    return FIXTURES / name


def golden_text(name: str) -> str:
    """Return the golden dump of a fixture."""
    return (GOLDEN / f"{name}.ir.txt").read_text()


def load_fixture(name: str):
    """Return the LoweredModel of a fixture (fully parallel, max_steps 0; fold it as needed)."""
    from hwgen.ir.store import load_ir

    return load_ir(fixture_dir(name))


def export_path(name: str) -> Path:
    """Return the saved QONNX export a fixture was lowered from."""
    return EXPORTS / f"{name}.onnx"


def lower_export(name: str):
    """Return the LoweredModel of a fixture's saved QONNX export, lowered afresh."""
    from hwgen.onnx.graph import load_model
    from hwgen.passes.lower import lower

    return lower(load_model(export_path(name)))


def lower_case(name: str, folder: Path):
    """Return the LoweredModel of a fixture's case built afresh: trained with its seed, exported
    to folder/NAME.onnx and lowered."""
    from hwgen.onnx.graph import load_model
    from hwgen.passes.lower import lower
    from hwgen.qat.export import export_model
    from stack_cases import trained_stack

    model, inputs = trained_stack(CASES[name])
    path = Path(folder) / f"{name}.onnx"
    export_model(model, inputs[0][0], path)
    return lower(load_model(path))
