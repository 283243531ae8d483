"""`hwgen reload` on GRU designs: a "retrained" GRU (each gate's units permuted with their rows
and biases, every row's columns reversed: the same types, so the same RTL) reloaded into a design
gives its own outputs from the unchanged sources and simulator binary (== the IR executor, under
random idle cycles and backpressure)."""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.reference.gru import GRUGate
from hwgen.reload import reload
from hwgen.sim.rtl_run import run_rtl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from gru_cases import export_case, random_case, trained_model  # noqa: E402

FAST_BUILD = "-O0"
CASES = {"parallel": (3280, 0, 0), "folded_lanes": (3281, 3, 1)}  # seed, PE, SIMD


def _shuffled(mv, perms: list, hidden: int):
    w = np.asarray(mv.weights, dtype=np.int64)
    rows = np.concatenate([b * hidden + p for b, p in enumerate(perms)])
    return replace(mv, weights=np.ascontiguousarray(w[rows][:, ::-1]))


def _bias(bias, perm):
    return None if bias is None else np.asarray(bias, dtype=np.int64)[perm]


def retrained(model, seed: int):
    """Return the GRU model with each gate's units permuted and its rows reversed."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in model.layers:
        h = layer.hidden_size
        perms = [rng.permutation(h) for _ in layer.x_mv.gates]
        sums = {g: replace(s, bias=_bias(s.bias, perms[k])) for k, (g, s) in
                enumerate(layer.sums.items())}
        new = perms[list(layer.x_mv.gates).index(GRUGate.NEW)]
        layers.append(replace(
            layer, x_mv=_shuffled(layer.x_mv, perms, h), h_mv=_shuffled(layer.h_mv, perms, h),
            sums=sums, hidden_new=replace(layer.hidden_new, bias=_bias(layer.hidden_new.bias, new)),
            new_sum=replace(layer.new_sum, bias=_bias(layer.new_sum.bias, new))))
    return replace(model, layers=tuple(layers))


@pytest.mark.parametrize("name", sorted(CASES))
def test_reloaded_gru_data_give_the_new_models_outputs(name, tmp_path):
    seed, pe, simd = CASES[name]
    case = dataclasses.replace(random_case(seed, max_size=8, max_steps=5), num_layers=1,
                               bidirectional=False, bias=True)
    model, x = trained_model(case)
    a = fold(lower(load_model(export_case(model, x, tmp_path / "g.onnx"))), pe, simd)
    b = retrained(a, 5)
    rtl = emit_rtl(a, tmp_path / "a", name)
    rng = np.random.default_rng(seed)
    t = a.input.type
    seqs = [rng.integers(t.min, t.max + 1, size=(n, a.in_count)) for n in (5, 1, 3)]
    want = {m: [execute(ir, s[:, None, :])["outputs"][:, 0] for s in seqs]
            for m, ir in (("a", a), ("b", b))}
    assert any(not np.array_equal(p, q) for p, q in zip(want["a"], want["b"])), "B computes A"
    run_a = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=1, compile_opt=FAST_BUILD)
    assert all(np.array_equal(g, w) for g, w in zip(run_a.outputs, want["a"]))
    sources = {p: p.read_bytes() for p in rtl.rglob("*.sv")}
    reload(rtl, b)
    assert all(p.read_bytes() == data for p, data in sources.items())
    run_b = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=2, compile_opt=FAST_BUILD)
    assert run_b.build_seconds == 0.0
    for k, (got, w) in enumerate(zip(run_b.outputs, want["b"])):
        assert np.array_equal(got, w), f"{name} sequence {k}"
