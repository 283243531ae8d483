"""Lowering: the IR executes exactly like the reference, its types are exact, its dump is stable."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from brevitas_cases import export_case, random_case, trained_model
from hwgen.ir.graph import execute
from hwgen.onnx.graph import load_model, quant_info
from hwgen.onnx.lstm_cell import lstm_params
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.reference.kernels import matvec, matvec_range
from hwgen.reference.lstm import lstm_layer
from hwgen.reference.luts import quantize_input
from hwgen.types import HwgenError, signed_type_for_range

SEEDS = list(range(2000, 2012))


def _time_major_codes(graph, node, x):
    info = quant_info(graph, node.input[0])
    codes = quantize_input(x, info.type, info.rounding, "x")
    return np.swapaxes(codes, 0, 1) if node.attribute and _batch_first(node) else codes


def _batch_first(node):
    return any(a.name == "batch_first" and a.i == 1 for a in node.attribute)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_ir_equals_reference_and_brevitas(seed, tmp_path):
    case = random_case(seed, max_size=24, max_steps=12)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "m.onnx"))
    node = next(n for n in graph.graph.node if n.op_type == "QuantLSTMCell")
    codes = _time_major_codes(graph, node, x.numpy())
    ir = lower(graph)
    got = execute(ir, codes)
    want, h, c = lstm_layer(lstm_params(graph, node), codes)
    assert np.array_equal(got["outputs"], want) and np.array_equal(got["h"], h)
    assert np.array_equal(got["c"], c), case.describe()
    with torch.no_grad():
        out, _ = model(x)
    out = out.numpy() if not case.batch_first else np.swapaxes(out.numpy(), 0, 1)
    scale = ir.layers[0].hidden.out.type.scale
    assert np.array_equal(got["outputs"].astype(np.float32) * np.float32(scale), out)
    # every accumulator type holds the exact range and nothing wider, and is two's complement
    layer = ir.layers[0]
    assert all(s.sum_type.signed for s in layer.sums.values())
    for mv in (layer.x_mv, layer.h_mv):
        lo, hi = matvec_range(mv.weights, mv.in_type)
        assert mv.acc_type.contains([lo.min(), hi.max()])
        extreme = np.where(mv.weights > 0, mv.in_type.max, mv.in_type.min)
        assert np.array_equal(np.diag(matvec(mv.weights, extreme)), hi)  # the bound is reached
        assert mv.acc_type == signed_type_for_range(lo.min(), hi.max())  # narrowest signed
        assert mv.acc_type.signed


def test_head_scores_equal_torch(tmp_path):
    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier

    torch.manual_seed(4)
    m = QuantClassifier(6, 8, 5, LSTMWidths(weight=4, io=6, sigmoid=5), 3).eval()
    x = torch.randn(3, 9, 6)
    graph = load_model(export_model(m, x, tmp_path / "c.onnx") and tmp_path / "c.onnx")
    node = next(n for n in graph.graph.node if n.op_type == "QuantLSTMCell")
    ir = lower(graph)
    got = execute(ir, _time_major_codes(graph, node, x.numpy()))
    with torch.no_grad():
        want = m(x).numpy()
    scale = np.float32(ir.head.score_type.scale)
    assert np.array_equal(got["scores"].astype(np.float32) * scale, want)
    assert np.array_equal(got["class"], np.argmax(want, axis=-1))
    assert ir.head.score_type.contains(got["scores"])
    assert ir.head.score_type.signed and ir.head.matvec.acc_type.signed


def test_dump_is_deterministic_and_lists_every_stage(tmp_path):
    case = random_case(7, max_size=8, max_steps=4)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "m.onnx"))
    first, second = lower(graph).dump(), lower(load_model(tmp_path / "m.onnx")).dump()
    assert first == second
    kinds = [line.split(": ")[1].split()[0] for line in first.splitlines()[2:]]
    gates = 3 if case.cifg else 4
    assert kinds == ["matvec", "matvec"] + ["gate_sum"] * gates + ["lut"] * gates + [
        "cell_update", "lut", "hidden_out", "state"]


def test_folding_that_does_not_divide_is_refused(tmp_path):
    case = random_case(11, max_size=8, max_steps=3)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "m.onnx"))
    rows = lower(graph).layers[0].x_mv.rows
    with pytest.raises(HwgenError, match="PE=.* does not divide"):
        fold(lower(graph), pe=rows + 1)
    assert fold(lower(graph), pe=rows // (4 if not case.cifg else 3)).layers[0].x_mv.pe >= 1
