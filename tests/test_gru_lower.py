"""GRU lowering: the IR's stage-by-stage step equals the int64 reference (hwgen.reference.gru) and
the graph's own reference run with ==, its sum types are exact, and its invariants catch a broken
stage."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gru_cases import export_case, random_case, trained_model
from hwgen.ir.graph import execute, execute_layer
from hwgen.onnx.execute import run_reference_all
from hwgen.onnx.graph import load_model, quant_info
from hwgen.onnx.gru_cell import gru_params
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.reference.gru import GRUGate, gru_layer
from hwgen.reference.luts import quantize_input
from hwgen.types import HwgenError

SEEDS = list(range(3100, 3112))


def _lowered(seed: int, tmp_path, **changes):
    """Return (graph, lowered model, time-major input codes, float input) of a random case."""
    case = dataclasses.replace(random_case(seed, max_size=16, max_steps=8), **changes)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / f"g{seed}.onnx"))
    node = next(n for n in graph.graph.node if n.op_type == "QuantGRUCell")
    info = quant_info(graph, node.input[0])
    codes = quantize_input(x.numpy(), info.type, info.rounding, "x")
    if case.batch_first:
        codes = np.swapaxes(codes, 0, 1)
    return case, graph, lower(graph), codes, x.numpy()


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_gru_ir_equals_the_reference(seed, tmp_path):
    case, graph, ir, codes, x = _lowered(seed, tmp_path)
    assert len(ir.layers) == case.num_layers * (2 if case.bidirectional else 1)
    assert all(layer.kind == "gru" for layer in ir.layers)
    # the first direction alone, against hwgen.reference.gru on the node's own parameters
    node = next(n for n in graph.graph.node if n.op_type == "QuantGRUCell")
    want, want_h = gru_layer(gru_params(graph, node), codes)
    got, got_h, got_c = execute_layer(ir.layers[0], codes)
    assert np.array_equal(got, want) and np.array_equal(got_h, want_h), case.describe()
    assert got_c is None
    # the whole stack, against the graph run on the reference (float32 of exact codes)
    out = run_reference_all(graph, x)[0]
    out = np.swapaxes(out, 0, 1) if case.batch_first else out
    scale = np.float32(ir.layers[-1].state.h_type.scale)
    assert np.array_equal(execute(ir, codes)["outputs"].astype(np.float32) * scale, out), \
        case.describe()


def _corners(layer, mv, gate, shift):
    """Return the per-row extremes of a gate's rows of mv, reached by an extreme input."""
    w = mv.weights[layer.rows(gate)]
    return [((w @ np.where(w[k] > 0, a, b)[:, None])[k, 0]) << shift
            for k in range(len(w)) for a, b in ((mv.in_type.max, mv.in_type.min),
                                                 (mv.in_type.min, mv.in_type.max))]


@pytest.mark.parametrize("seed", SEEDS[:4], ids=[f"seed{s}" for s in SEEDS[:4]])
def test_gru_sum_types_hold_reachable_extremes(seed, tmp_path):
    """Every GRU sum type holds the extremes its terms reach (computed here, not by hwgen)."""
    _, _, ir, _, _ = _lowered(seed, tmp_path)
    for layer in ir.layers:
        hn = layer.hidden_new
        values = np.array(_corners(layer, layer.h_mv, GRUGate.NEW, hn.h_shift))
        if hn.bias is not None:
            values = values.reshape(-1, 2) + hn.bias[:, None]
        assert hn.sum_type.contains(values)
        b = layer.blend
        one = 1 << -(b.z_type.exp - b.z_shift)
        assert b.one_code == one
        for z in (b.z_type.min, b.z_type.max):
            for n in (b.n_type.min, b.n_type.max):
                for h in (b.out.type.min, b.out.type.max):
                    total = (((one - (z << b.z_shift)) * n) << b.nz_shift) + ((z * h)
                                                                             << b.zh_shift)
                    assert b.sum_type.contains([total])


def test_gru_ir_folds_and_dumps(tmp_path):
    _, _, ir, codes, _ = _lowered(SEEDS[0], tmp_path, num_layers=1, bidirectional=False,
                                  hidden_size=4, input_size=6)
    folded = fold(ir, pe=2, simd=2, lanes=2)
    assert folded.layers[0].lanes == 2 and folded.layers[0].h_mv.pe == 2
    assert np.array_equal(execute(folded, codes)["outputs"], execute(ir, codes)["outputs"])
    text = folded.dump()
    for stage in ("l0.sum_r", "l0.sum_z", "l0.act_n", "l0.hidden_new", "l0.new_sum", "l0.blend"):
        assert f"  {stage}: " in text
    assert "layer l0: gru stack=0 I=6 H=4 reverse=0 lanes=2" in text


def test_a_changed_gru_stage_is_caught(tmp_path):
    """A wrong shift or a narrower sum is refused when the layer is built; a changed table
    changes the outputs (the test compares, so it can fail)."""
    _, _, ir, codes, _ = _lowered(SEEDS[1], tmp_path, num_layers=1, bidirectional=False)
    layer = ir.layers[0]
    b = layer.blend
    with pytest.raises(HwgenError, match="blend"):
        dataclasses.replace(layer, blend=dataclasses.replace(b, zh_shift=b.zh_shift + 1))
    ns = layer.new_sum
    narrow = dataclasses.replace(ns.sum_type, width=ns.sum_type.width - 1)
    with pytest.raises(HwgenError, match="new_sum"):
        dataclasses.replace(layer, new_sum=dataclasses.replace(ns, sum_type=narrow, bias=None))
    lut = layer.luts[GRUGate.NEW]
    changed = dataclasses.replace(lut, table=-lut.table)
    broken = dataclasses.replace(layer, luts={**layer.luts, GRUGate.NEW: changed})
    got = execute_layer(broken, codes)[0]
    assert not np.array_equal(got, execute_layer(layer, codes)[0])


def test_gru_ir_round_trips_through_the_store(tmp_path):
    """A folded bidirectional 2-layer GRU IR saved and loaded dumps and executes the same."""
    from hwgen.ir.store import load_ir, save_ir

    _, _, ir, codes, _ = _lowered(SEEDS[2], tmp_path, num_layers=2, bidirectional=True)
    folded = fold(ir, pe=1, simd=1, max_steps=len(codes))
    save_ir(folded, tmp_path / "ir")
    loaded = load_ir(tmp_path / "ir")
    assert loaded.dump() == folded.dump()
    assert np.array_equal(execute(loaded, codes)["outputs"], execute(folded, codes)["outputs"])
