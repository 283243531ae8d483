"""The exported QONNX graph, run on the integer reference, equals Brevitas's eval forward exactly.

200 random configurations (every quantizer 2..8 bits, sizes 1..48, 1..32 steps, batch 1..4, both
layouts, CIFG on and off), each briefly trained so its scales move, exported, then compared with ==
at every timestep and on the final hidden and cell states.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from brevitas_cases import export_case, float32_risks, random_case, trained_model
from hwgen.onnx.execute import run_reference_all
from hwgen.onnx.graph import load_model, quant_info
from hwgen.onnx.lstm_cell import lstm_params
from hwgen.reference.luts import quantize_input

CASES = 200
SEEDS = list(range(1000, 1000 + CASES))


def _compare(case, tmp_path):
    """Return a list of mismatch descriptions (empty when exact) and the float32 risks."""
    model, x = trained_model(case)
    with torch.no_grad():
        out, (h, c) = model(x)
    path = export_case(model, x, tmp_path / f"case{case.seed}.onnx")
    graph = load_model(path)
    got = run_reference_all(graph, x.numpy())
    node = next(n for n in graph.graph.node if n.op_type == "QuantLSTMCell")
    params = lstm_params(graph, node)
    x_info = quant_info(graph, node.input[0])
    risks = float32_risks(params, quantize_input(x.numpy(), x_info.type, x_info.rounding, "x"))
    expected = {"outputs": out.numpy(), "h": h.numpy(), "c": c.numpy()}
    mismatches = []
    for name, value in zip(("outputs", "h", "c"), got):
        want = expected[name].reshape(value.shape)
        if not np.array_equal(value, want):
            where = np.argwhere(value != want)[0].tolist()
            mismatches.append(f"{name} differs first at {where}: {value[tuple(where)]} vs "
                              f"{want[tuple(where)]}")
    return mismatches, risks


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_reference_equals_brevitas(seed, tmp_path):
    case = random_case(seed)
    mismatches, risks = _compare(case, tmp_path)
    if mismatches and risks:
        # Brevitas's float32 sum itself may be inexact here; the integer result is the truth.
        pytest.fail(f"float32-inexact case {case.describe()}: {risks}; {mismatches}")
    assert not mismatches, f"{case.describe()}: {mismatches}"


def test_cases_cover_the_option_space():
    cases = [random_case(s) for s in SEEDS]
    assert len(cases) >= 200
    assert {c.cifg for c in cases} == {True, False}
    assert {c.batch_first for c in cases} == {True, False}
    assert {c.batch for c in cases} == {1, 2, 3, 4}
    assert min(c.hidden_size for c in cases) <= 3 and max(c.hidden_size for c in cases) >= 45
    assert min(c.steps for c in cases) == 1 and max(c.steps for c in cases) == 32
    for field in ("weight", "io", "input_acc", "forget_acc", "cell_acc", "output_acc", "sigmoid",
                  "tanh", "cell_state", "bias"):
        assert {getattr(c.widths, field) for c in cases} == set(range(2, 9)), field
