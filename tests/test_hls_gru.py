"""HLS C++ backend for GRU: generated sources (hwgen_gru.h) compiled with g++ (C simulation)
against the IR executor and the graph's own int64 reference run with ==, for random QuantGRU
exports: 1-2 layers, bidirectional on and off, fully parallel and folded matrix units; sizes up
to 16 with fixed foldings, and up to 48 with foldings drawn per case from the divisors of its sizes.
"""
from __future__ import annotations

import numpy as np
import pytest

from gru_cases import drawn_folding, export_case, random_case, trained_model
from hwgen.codegen.hls import emit_hls
from hwgen.ir.graph import execute
from hwgen.onnx.execute import run_reference_all
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.sim.design import load_design, quantize_inputs
from hwgen.sim.hls_run import run_hls

# seed -> (PE, SIMD); 1, 1 divides every size
FAST = {3300: (0, 0), 3301: (1, 1), 3302: (0, 0), 3303: (1, 1), 3304: (0, 0), 3305: (0, 0)}
SLOW = {s: (0, 0) if s % 2 else (1, 1) for s in range(3310, 3340)}
# sizes 1..48, taken as they come; (PE, SIMD) drawn per case (gru_cases.drawn_folding), fully
# parallel for the cases whose largest matrix has at most PARALLEL_PRODUCTS entries
PARALLEL_PRODUCTS = 432
FAST_48 = list(range(3500, 3504))
SLOW_48 = list(range(3510, 3550))


def _check(seed: int, tmp_path, pe, simd, max_size: int = 16) -> None:
    """Run a random case in C simulation, folded by pe and simd (None: drawn for the case)."""
    case = random_case(seed, max_size=max_size, max_steps=8)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "g.onnx"))
    lowered = lower(graph)
    if pe is None:
        pe, simd = drawn_folding(seed, lowered, PARALLEL_PRODUCTS)
    ir = fold(lowered, pe, simd, max_steps=case.steps)
    where = f"{case.describe()} PE={ir.layers[0].x_mv.pe} SIMD={ir.layers[0].x_mv.simd}"
    hls = emit_hls(ir, tmp_path / "out", f"gru case {seed}")
    design = load_design(hls)
    codes = quantize_inputs(x.numpy(), design)
    seqs = list(codes if case.batch_first else np.swapaxes(codes, 0, 1))
    result = run_hls(hls, seqs)
    for k, seq in enumerate(seqs):
        want = execute(ir, seq[:, None, :])["outputs"][:, 0, :]
        assert np.array_equal(result.outputs[k], want), f"{where} sequence {k}"
    got = np.stack(result.outputs).astype(np.float32) * np.float32(design.y_type.scale)
    ref = run_reference_all(graph, x.numpy())[0]
    assert np.array_equal(got, ref if case.batch_first else np.swapaxes(ref, 0, 1)), where


@pytest.mark.parametrize("seed", sorted(FAST), ids=[f"seed{s}" for s in sorted(FAST)])
def test_gru_hls_equals_reference(seed, tmp_path):
    _check(seed, tmp_path, *FAST[seed])


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(SLOW), ids=[f"seed{s}" for s in sorted(SLOW)])
def test_more_gru_hls_equals_reference(seed, tmp_path):
    _check(seed, tmp_path, *SLOW[seed])


@pytest.mark.parametrize("seed", FAST_48, ids=[f"seed{s}" for s in FAST_48])
def test_gru_up_to_48_hls_equals_reference(seed, tmp_path):
    _check(seed, tmp_path, None, None, max_size=48)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_48, ids=[f"seed{s}" for s in SLOW_48])
def test_more_gru_up_to_48_hls_equals_reference(seed, tmp_path):
    _check(seed, tmp_path, None, None, max_size=48)
