"""RTL and HLS end to end for token-input models: quant_embedding -> LSTM, GRU or RNN stack (-> a
per-step head), exported, lowered, generated and simulated on Verilator through cocotb with
random idle cycles on the token stream and backpressure on the output, and as HLS C++ through
g++ C simulation. Every output == the IR
executor's codes and == the PyTorch model's float32 outputs; isolated latencies and input
intervals == the cycle model; the sources lint clean and Yosys reads them.
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
from hwgen.ir.graph import execute
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import per_step_cycles, sequence_cycles, transfer_times
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.sim.design import load_design
from hwgen.sim.hls_run import run_hls
from hwgen.sim.rtl_run import run_rtl
from hwgen.sim.tools import verilator_lint, yosys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from embed_cases import (TokenClassifier, TokenModel, random_embed_case,  # noqa: E402
                         tokens_of, trained)

LENGTHS = (5, 1, 4)  # the export's example first
MAX_STEPS = 8
CASES = {  # seed, overrides, classes of a per-step head (0: none), bidirectional, pe, simd
    "lstm_step_head": dict(seed=9101, over=dict(cell="lstm", layers=1, vocab=13, dim=3,
                                                hidden=4), classes=5, bidir=False, pe=0, simd=0),
    "gru_two_layers_folded": dict(seed=9102, over=dict(cell="gru", layers=2, vocab=16, dim=4,
                                                       hidden=3), classes=0, bidir=False, pe=3,
                                  simd=1),
    "rnn_bidirectional": dict(seed=9103, over=dict(cell="rnn", layers=1, vocab=2, dim=5,
                                                   hidden=2), classes=0, bidir=True, pe=0,
                              simd=0),
}


def _model(c: dict):
    case = replace(random_embed_case(c["seed"]), **c["over"])
    torch.manual_seed(c["seed"])
    body = (TokenClassifier(case, c["classes"]) if c["classes"]
            else TokenModel(case, bidirectional=c["bidir"]))
    return case, trained(body, case)


def _design(name: str, tmp_path):
    c = CASES[name]
    case, model = _model(c)
    gen = torch.Generator().manual_seed(c["seed"])
    batches = [torch.randint(0, case.vocab, (2, n), generator=gen) for n in LENGTHS]
    export_model(model, batches[0], tmp_path / "m.onnx")
    ir = fold(lower(load_model(tmp_path / "m.onnx")), c["pe"], c["simd"],
              MAX_STEPS if c["bidir"] else 0)
    return model, batches, ir, emit_rtl(ir, tmp_path / "out", name)


@pytest.mark.parametrize("name", CASES)
def test_embed_rtl_equals_reference_and_cycle_model(name, tmp_path):
    model, batches, ir, rtl = _design(name, tmp_path)
    design = load_design(rtl)
    assert design.x_count == 1 and design.x_type == ir.embed.token_type
    seqs = [seq[:, None].astype(np.int64) for x in batches for seq in x.numpy()]
    stressed = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=CASES[name]["seed"],
                       compile_opt="-O0")
    isolated = run_rtl(rtl, seqs, tmp_path / "sim", compile_opt="-O0", isolate=True)
    csim = run_hls(emit_hls(ir, tmp_path / "out", name), seqs, tmp_path / "hls_build")
    key = "scores" if ir.head is not None else "outputs"
    for k, seq in enumerate(seqs):
        want = execute(ir, seq[:, None, :])[key][:, 0, :]
        for run in (stressed, isolated, csim):
            assert np.array_equal(run.outputs[k], want), f"{name}: sequence {k}"
    scale = np.float32(design.y_type.scale)
    with torch.no_grad():  # the PyTorch model, float32, with ==
        for b, x in enumerate(batches):
            got = np.stack(stressed.outputs[2 * b:2 * b + 2]).astype(np.float32) * scale
            assert np.array_equal(got, model(x).numpy()), f"{name}: batch T={x.shape[1]}"
    assert isolated.latencies == [sequence_cycles(ir, len(s)) for s in seqs]
    steps = [int(d) for s in seqs for d in np.diff(transfer_times(ir, len(s))[0])]
    assert isolated.step_cycles == steps
    if not ir.bidirectional:
        assert max(steps) == per_step_cycles(ir)


def test_embed_sources_lint_clean_and_yosys_reads_them(tmp_path):
    _, _, _, rtl = _design("lstm_step_head", tmp_path)
    files = (rtl / "files.f").read_text().split()
    assert "cores/hwgen_embed.sv" in files
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings
    proc = yosys(f"read_verilog -sv {' '.join(files)}; hierarchy -check -top hwgen_top; proc",
                 rtl)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]


CORE_LINT = {"defaults": {}, "vocab13_file": dict(VOCAB=13, T_W=4, D=3, E_W=7,
                                                  TABLE_FILE='"mem/t.hex"'),
             "vocab1": dict(VOCAB=1, T_W=1, D=1, E_W=1), "vocab16": dict(VOCAB=16, T_W=4, D=32)}


@pytest.mark.parametrize("name", CORE_LINT)
def test_embed_core_lints_clean(name):
    from hwgen.sim.tools import RTL_LIB

    status, warnings = verilator_lint([RTL_LIB / "hwgen_embed.sv"], "hwgen_embed",
                                      CORE_LINT[name])
    assert status == 0 and "%Warning" not in warnings, warnings


def test_reload_rewrites_the_embedding_table(tmp_path):
    """A model whose table rows are permuted (same shapes and types) reloads into the generated
    design (mem/embed_table.hex is in the manifest) and the unchanged RTL gives its outputs."""
    from hwgen.reload import reload

    _, batches, ir, rtl = _design("lstm_step_head", tmp_path)
    e = ir.embed
    perm = np.roll(np.arange(e.vocab), 1)
    other = replace(ir, embed=replace(e, table=e.table[perm]))
    files = {m["file"] for m in __import__("json").loads((rtl / "mem/manifest.json")
                                                         .read_text())["files"]}
    assert "mem/embed_table.hex" in files
    reload(rtl, other)
    seqs = [seq[:, None].astype(np.int64) for seq in batches[0].numpy()]
    result = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=5, compile_opt="-O0")
    for k, seq in enumerate(seqs):
        want = execute(other, seq[:, None, :])["scores"][:, 0, :]
        assert np.array_equal(result.outputs[k], want)
        assert not np.array_equal(want, execute(ir, seq[:, None, :])["scores"][:, 0, :])


def test_cli_run_takes_token_ids_on_every_backend(tmp_path):
    """`hwgen run` with an int64 token array [batch, steps]: reference, RTL and HLS == PyTorch."""
    import subprocess

    c = dict(CASES["lstm_step_head"], seed=9104)
    _, model = _model(c)
    x = torch.randint(0, c["over"]["vocab"], (2, 6), generator=torch.Generator().manual_seed(4))
    export_model(model, x, tmp_path / "t.onnx")
    np.save(tmp_path / "x.npy", x.numpy())
    with torch.no_grad():
        want = model(x).numpy()
    for backend in ("reference", "rtl", "hls"):
        proc = subprocess.run(
            [sys.executable, "-m", "hwgen.cli", "run", str(tmp_path / "t.onnx"), "--input",
             str(tmp_path / "x.npy"), "--output", str(tmp_path / f"{backend}.npy"), "--backend",
             backend], capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert np.array_equal(np.load(tmp_path / f"{backend}.npy"), want), backend
