"""Stateful designs in RTL and HLS: one long token stream fed as chunks (each ending with tlast)
to a design built with fold(stateful=True), under random idle cycles on the input and
backpressure on the output. Every chunk's outputs == the IR's execute_chunks == the PyTorch model
run on the whole stream in one go; isolated latencies == the cycle model (stateful changes no
timing); the engines lint clean with KEEP.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from hwgen.codegen.hls import emit_hls
from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute, execute_chunks
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import sequence_cycles
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.sim.hls_run import run_hls
from hwgen.sim.rtl_run import run_rtl
from hwgen.sim.tools import verilator_lint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from embed_cases import TokenClassifier, random_embed_case, trained  # noqa: E402

BOUNDS = (0, 6, 7, 12, 20)  # chunks of 6, 1, 5 and 8 steps of one 20-token stream
CASES = {  # per_step: a head on every step (the language model) or on each chunk's last step
    "lstm_two_layers_step_head": dict(seed=9201, over=dict(cell="lstm", layers=2, vocab=11,
                                                           dim=4, hidden=3), per_step=True,
                                      pe=0, simd=0),
    "gru_last_step_head_folded": dict(seed=9202, over=dict(cell="gru", layers=1, vocab=7, dim=3,
                                                           hidden=4), per_step=False, pe=4,
                                      simd=1),
}


def _model(c: dict):
    case = replace(random_embed_case(c["seed"]), **c["over"])
    torch.manual_seed(c["seed"])
    model = TokenClassifier(case, 5)
    model.body.per_step = c["per_step"]
    return case, trained(model, case)


def _golden(model, stream: torch.Tensor, per_step: bool) -> list:
    """Return the PyTorch model's scores for each chunk, computed on the whole stream: every
    step's (per_step) or the chunk's last step's (the model run on the stream up to there)."""
    with torch.no_grad():
        if per_step:
            whole = model(stream[None, :])[0].numpy()
            return [whole[a:b] for a, b in zip(BOUNDS, BOUNDS[1:])]
        return [model(stream[None, :b])[0].numpy() for b in BOUNDS[1:]]


@pytest.mark.parametrize("name", CASES)
def test_stateful_chunks_equal_the_whole_stream(name, tmp_path):
    c = CASES[name]
    case, model = _model(c)
    stream = torch.randint(0, case.vocab, (BOUNDS[-1],),
                           generator=torch.Generator().manual_seed(c["seed"]))
    export_model(model, stream[None, :5], tmp_path / "m.onnx")
    ir = fold(lower(load_model(tmp_path / "m.onnx")), c["pe"], c["simd"], stateful=True)
    rtl = emit_rtl(ir, tmp_path / "out", name)
    assert ".KEEP(1'b1)" in (rtl / "hwgen_top.sv").read_text()
    files = (rtl / "files.f").read_text().split()
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings
    hls = emit_hls(ir, tmp_path / "out", name)
    tokens = stream.numpy().astype(np.int64)
    chunks = [tokens[a:b, None] for a, b in zip(BOUNDS, BOUNDS[1:])]  # [T_k, 1]
    want = [r["scores"][:, 0] if c["per_step"] else r["scores"][0]
            for r in execute_chunks(ir, [ch[:, None, :] for ch in chunks])]
    stressed = run_rtl(rtl, chunks, tmp_path / "sim", stress_seed=c["seed"], compile_opt="-O0")
    isolated = run_rtl(rtl, chunks, tmp_path / "sim", compile_opt="-O0", isolate=True)
    csim = run_hls(hls, chunks, tmp_path / "hls_build")
    scale = np.float32(ir.out_type.scale)
    golden = _golden(model, stream, c["per_step"])
    for k in range(len(chunks)):
        assert np.array_equal(want[k].astype(np.float32) * scale, golden[k]), f"chunk {k}"
        for run in (stressed, isolated, csim):
            assert np.array_equal(np.asarray(run.outputs[k]).reshape(want[k].shape), want[k]), \
                f"{name}: chunk {k}"
    # without the carried state the chunks after the first would differ: the test can fail
    alone = [execute(ir, ch[:, None, :])["scores"] for ch in chunks[1:]]
    assert any(not np.array_equal(a[:, 0] if c["per_step"] else a[0], w)
               for a, w in zip(alone, want[1:]))
    assert isolated.latencies == [sequence_cycles(ir, len(ch)) for ch in chunks]


@pytest.mark.parametrize("engine", ["hwgen_lstm_engine", "hwgen_rnn_engine",
                                    "hwgen_gru_engine"])
def test_engines_lint_clean_with_keep(engine):
    from hwgen.codegen.rtl import CORES
    from hwgen.sim.tools import RTL_LIB

    status, warnings = verilator_lint([RTL_LIB / c for c in CORES if c != "hwgen_axis.sv"],
                                      engine, {"KEEP": "1'b1"})
    assert status == 0 and "%Warning" not in warnings, warnings
