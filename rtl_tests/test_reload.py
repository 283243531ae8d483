"""`hwgen reload`: a design's data files replaced by another model's of the same shapes and widths
give that model's outputs from the unchanged RTL (Verilator, under random idle cycles and
backpressure, == the IR executor); a model of other widths or shapes is refused with one line,
exit status 2, and nothing written.

Model B is model A "retrained": in every gate (and the head) its units (classes) are permuted with
their rows and biases, and every row's columns reversed. That changes the function but keeps
every row's range, so every type the lowering derives (accumulators, sums, scores) is the same and
B generates A's RTL. The activation tables follow from the types alone, so B cannot differ there.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hwgen.reload import ReloadRefused, reload
from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute
from hwgen.ir.store import save_ir
from hwgen.passes.fold import fold
from hwgen.sim.rtl_run import run_rtl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hwgen_cli import run_hwgen  # noqa: E402
from ir_fixtures import load_fixture  # noqa: E402

FAST_BUILD = "-O0"
# fixture, pe, simd: the LSTM with a head fully parallel and folded, the RNN with a head folded,
# two bidirectional LSTM layers (stream cores between the engines, hidden outputs) folded
CASES = {"lstm_head_parallel": ("lstm_head", 0, 0), "lstm_head_folded": ("lstm_head", 8, 4),
         "rnn_head_folded": ("rnn_head", 2, 1), "bilstm_2x_folded": ("bilstm_2x", 4, 1)}
MAX_STEPS = 5  # the longest input sequence
REPO = Path(__file__).resolve().parent.parent


def _shuffled(mv, perms: list, hidden: int):
    """Return matrix unit mv with block b's rows in order perms[b] and every row reversed."""
    w = np.asarray(mv.weights, dtype=np.int64)
    rows = np.concatenate([b * hidden + p for b, p in enumerate(perms)])
    return replace(mv, weights=np.ascontiguousarray(w[rows][:, ::-1]))


def _bias(bias, perm):
    return None if bias is None else np.asarray(bias, dtype=np.int64)[perm]


def _layer(layer, rng):
    """Return layer with each gate's units permuted (rows, biases) and its rows reversed."""
    h = layer.hidden_size
    if layer.kind == "rnn":
        perm = rng.permutation(h)
        return replace(layer, x_mv=_shuffled(layer.x_mv, [perm], h),
                       h_mv=_shuffled(layer.h_mv, [perm], h),
                       sum=replace(layer.sum, bias=_bias(layer.sum.bias, perm)))
    perms = [rng.permutation(h) for _ in layer.x_mv.gates]
    sums = dict(layer.sums)
    for gate, perm in zip(layer.x_mv.gates, perms):
        sums[gate] = replace(sums[gate], bias=_bias(sums[gate].bias, perm))
    return replace(layer, x_mv=_shuffled(layer.x_mv, perms, h),
                   h_mv=_shuffled(layer.h_mv, perms, h), sums=sums)


def retrained(model, seed: int):
    """Return model B: model's units and classes permuted, rows reversed (see the module doc)."""
    rng = np.random.default_rng(seed)
    layers = tuple(_layer(layer, rng) for layer in model.layers)
    head = model.head
    if head is not None:
        perm = rng.permutation(head.matvec.rows)
        head = replace(head, matvec=_shuffled(head.matvec, [perm], head.matvec.rows),
                       bias=_bias(head.bias, perm))
    return replace(model, layers=layers, head=head)


def _snapshot(rtl: Path) -> dict:
    """Return every file under rtl (relative name -> bytes)."""
    return {str(p.relative_to(rtl)): p.read_bytes() for p in sorted(rtl.rglob("*")) if p.is_file()}


def _inputs(model, seed: int) -> list:
    t = model.input.type
    rng = np.random.default_rng(seed)
    return [rng.integers(t.min, t.max + 1, size=(n, model.layers[0].input_size))
            for n in (MAX_STEPS, 1, 3)]


def _reference(model, seqs) -> list:
    """Return the IR executor's outputs: the scores, or without a head every step's outputs."""
    runs = [execute(model, s[:, None, :]) for s in seqs]
    return [r["scores"][0] if model.head else r["outputs"][:, 0, :] for r in runs]


@pytest.mark.parametrize("name", sorted(CASES))
def test_reloaded_data_give_the_new_models_outputs(name, tmp_path):
    fixture, pe, simd = CASES[name]
    a = fold(load_fixture(fixture), pe, simd, max_steps=MAX_STEPS)
    b = retrained(a, 7)
    rtl = emit_rtl(a, tmp_path / "a", name)
    seqs = _inputs(a, 11)
    want_a, want_b = _reference(a, seqs), _reference(b, seqs)
    assert any(not np.array_equal(x, y) for x, y in zip(want_a, want_b)), "B computes A"
    run_a = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=1, compile_opt=FAST_BUILD)
    assert all(np.array_equal(g, w) for g, w in zip(run_a.outputs, want_a))

    before = _snapshot(rtl)
    names = reload(rtl, b)
    after = _snapshot(rtl)
    sources = [n for n in before if n.endswith((".sv", ".f", ".tcl", ".md"))]
    assert sources and all(before[n] == after[n] for n in sources)
    assert set(before) == set(after)
    assert any(before[n] != after[n] for n in names)
    # determinism: B's own generated files hold the same bytes
    fresh = emit_rtl(b, tmp_path / "b", name)
    assert all((fresh / n).read_bytes() == after[n] for n in names)

    run_b = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=2, compile_opt=FAST_BUILD)
    assert run_b.build_seconds == 0.0  # the same simulator binary: only the data files changed
    for k, (got, want) in enumerate(zip(run_b.outputs, want_b)):
        assert np.array_equal(got, want), f"{name} sequence {k}"
        if b.head:
            assert run_b.classes[k] == int(np.argmax(want))


def _width_change(model):
    """Return model with one more bit in the first gate's sum (an RTL parameter)."""
    layer = model.layers[0]
    gate = layer.x_mv.gates[0]
    s = layer.sums[gate]
    wider = replace(s.sum_type, width=s.sum_type.width + 1)
    layer = replace(layer, sums={**layer.sums, gate: replace(s, sum_type=wider)})
    return replace(model, layers=(layer,) + model.layers[1:])


def test_reload_cli_rewrites_data_and_refuses_other_rtl(tmp_path):
    a = fold(load_fixture("lstm_head"), 8, 4)
    emit_rtl(a, tmp_path / "design", "lstm_head")
    rtl = tmp_path / "design" / "rtl"
    cases = {"ok": retrained(a, 3), "width": _width_change(a), "folding": fold(a, 4, 4),
             "shape": fold(load_fixture("rnn_head"), 2, 1)}
    for case, model in cases.items():
        save_ir(model, tmp_path / case)
    before = _snapshot(rtl)
    for case, line in (("width", "mem/l0_gate_i_bias.hex, element, width: 13 in the design, "
                                 "14 in the new IR"),
                       ("folding", "mem/l0_mx.hex, words: 12 in the design, 24 in the new IR"),
                       ("shape", "mem/l0_mx.hex, words: 12 in the design, 15 in the new IR")):
        done = run_hwgen("reload", str(tmp_path / "design"), "--ir", str(tmp_path / case),
                         cwd=REPO)
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert line in done.stderr, done.stderr
        assert _snapshot(rtl) == before, case
    done = run_hwgen("reload", str(rtl), "--ir", str(tmp_path / "ok"), cwd=REPO)
    assert done.returncode == 0, done.stderr
    after = _snapshot(rtl)
    assert after != before and all(after[n] == before[n] for n in before if n.endswith(".sv"))
    with pytest.raises(ReloadRefused, match="hwgen_top.sv is not the file the manifest records"):
        (rtl / "hwgen_top.sv").write_text((rtl / "hwgen_top.sv").read_text() + "\n")
        reload(rtl, a)
