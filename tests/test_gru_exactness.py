"""QuantGRU: its exported QONNX graph, run on the int64 reference, equals its own eval forward.

Random configurations (every quantizer 2..8 bits, sizes 1..48, 1..32 steps, batch 1..4, both
layouts, 1-2 layers, bidirectional on and off, bias on and off), each briefly trained so its scales
move, exported, then compared with == at every timestep and on the final hidden states. FAST_CASES
run in `make test`, SLOW_CASES more in `make test-slow`.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gru_cases import export_case, float32_risks, random_case, trained_model
from hwgen.onnx.execute import run_reference_all
from hwgen.onnx.graph import load_model
from hwgen.onnx.gru_cell import gru_params
from hwgen.qat.export import export_model

FAST_CASES = 40
SLOW_CASES = 200
FAST_SEEDS = list(range(3000, 3000 + FAST_CASES))
SLOW_SEEDS = list(range(3000 + FAST_CASES, 3000 + FAST_CASES + SLOW_CASES))


def _risks(graph) -> list:
    """Return the float32 risks of every QuantGRUCell node in the graph."""
    nodes = [n for n in graph.graph.node if n.op_type == "QuantGRUCell"]
    return [f"{n.name}: {r}" for n in nodes for r in float32_risks(gru_params(graph, n))]


def _mismatches(got: list, expected: dict) -> list:
    """Return a description of each output that differs (empty when all are equal)."""
    out = []
    for name, value in zip(expected, got):
        want = expected[name].reshape(value.shape)
        if not np.array_equal(value, want):
            where = np.argwhere(value != want)[0].tolist()
            out.append(f"{name} differs first at {where}: {value[tuple(where)]} vs "
                       f"{want[tuple(where)]} ({int(np.sum(value != want))} of {value.size})")
    return out


def _check(seed: int, tmp_path) -> None:
    case = random_case(seed)
    model, x = trained_model(case)
    with torch.no_grad():
        out, h = model(x)
    graph = load_model(export_case(model, x, tmp_path / f"gru{seed}.onnx"))
    assert sum(n.op_type == "QuantGRUCell" for n in graph.graph.node) == (
        case.num_layers * (2 if case.bidirectional else 1))
    got = run_reference_all(graph, x.numpy())
    assert len(got) == 2, f"{case.describe()}: graph outputs {len(got)}"
    mismatches = _mismatches(got, {"outputs": out.numpy(), "h_n": h.numpy()})
    risks = _risks(graph)
    if mismatches and risks:
        # the float32 forward itself may be inexact here; the integer result is the truth
        pytest.fail(f"float32-inexact case {case.describe()}: {risks}; {mismatches}")
    assert not mismatches, f"{case.describe()}: {mismatches}"


@pytest.mark.parametrize("seed", FAST_SEEDS, ids=[f"seed{s}" for s in FAST_SEEDS])
def test_reference_equals_quant_gru(seed, tmp_path):
    _check(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS, ids=[f"seed{s}" for s in SLOW_SEEDS])
def test_reference_equals_quant_gru_slow(seed, tmp_path):
    _check(seed, tmp_path)


def _cover(cases, low: int, high: int) -> None:
    """Assert that cases reach every option, every width, sizes <= low and >= high."""
    assert {c.batch_first for c in cases} == {True, False}
    assert {c.bidirectional for c in cases} == {True, False}
    assert {c.num_layers for c in cases} == {1, 2}
    assert {c.bias for c in cases} == {True, False}
    assert {c.batch for c in cases} == {1, 2, 3, 4}
    assert any(c.num_layers == 2 and c.bidirectional for c in cases)
    for size in ("input_size", "hidden_size"):
        assert min(getattr(c, size) for c in cases) <= low, size
        assert max(getattr(c, size) for c in cases) >= high, size
    assert min(c.steps for c in cases) <= 2 and max(c.steps for c in cases) >= 28
    for field in ("weight", "bias", "io", "reset_acc", "update_acc", "new_acc", "hidden_acc",
                  "sigmoid", "tanh"):
        assert {getattr(c.widths, field) for c in cases} == set(range(2, 9)), field


def test_cases_cover_the_option_space():
    _cover([random_case(s) for s in FAST_SEEDS], 4, 44)
    slow = [random_case(s) for s in SLOW_SEEDS]
    assert len(slow) >= 200
    _cover(slow, 2, 47)
    assert min(c.steps for c in slow) == 1 and max(c.steps for c in slow) == 32


STATE_SEEDS = [3300, 3301, 3302, 3303]


@pytest.mark.parametrize("seed", STATE_SEEDS, ids=[f"seed{s}" for s in STATE_SEEDS])
def test_reference_equals_quant_gru_from_an_initial_state(seed, tmp_path):
    case = random_case(seed, max_size=16, max_steps=8)
    model, x = trained_model(case)
    directions = case.num_layers * (2 if case.bidirectional else 1)
    hx = torch.randn(directions, case.batch, case.hidden_size,
                     generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out, h = model(x, hx)
        zero_out, _ = model(x)
    assert not torch.equal(out, zero_out)  # the state matters to this case
    path = tmp_path / f"gru_state{seed}.onnx"
    export_model(model, (x, hx), path, input_names=["x", "hx"])
    got = run_reference_all(load_model(path), x.numpy(), states={"hx": hx.numpy()})
    mismatches = _mismatches(got, {"outputs": out.numpy(), "h_n": h.numpy()})
    assert not mismatches, f"{case.describe()}: {mismatches}"
