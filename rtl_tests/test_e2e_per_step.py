"""RTL and HLS end to end with a per-step head (task per_step): the last engine emits h_t and a
hwgen_head_stream turns every step's h_t into scores and a class. Seeded Brevitas models (a few
Adam steps on noise) through export, lowering, Verilator and g++: every step's scores and class
== the IR executor's and the Brevitas model's, under stress and isolated; latencies and input
intervals == the cycle model, both where the head sets the pace (many outputs per step) and
where the engines do.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hwgen.codegen.hls import emit_hls
from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import (lstm_step_cycles, model_head_latency, per_step_cycles,
                                 sequence_cycles, transfer_times)
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.qat.model import LSTMWidths, Net, QuantClassifier
from hwgen.sim.design import load_design, quantize_inputs
from hwgen.sim.hls_run import run_hls
from hwgen.sim.rtl_run import run_rtl
from hwgen.sim.tools import verilator_lint

LENGTHS = (5, 1, 3)  # the export's example first

CASES = {  # seed, inputs, hidden, outputs per step, layers, pe, simd; which side is slower
    "head_sets_the_pace": dict(seed=8101, inputs=2, hidden=3, outputs=24, layers=1, pe=0,
                               simd=0, head_slower=True),
    "engines_set_the_pace": dict(seed=8102, inputs=3, hidden=4, outputs=2, layers=2, pe=4,
                                 simd=1, head_slower=False),
}


def _model(c: dict) -> QuantClassifier:
    """Return the case's per-step model in eval mode after a few Adam steps on noise."""
    torch.manual_seed(c["seed"])
    widths = LSTMWidths(weight=5, io=6, input_acc=6, forget_acc=6, cell_acc=6, output_acc=6,
                        sigmoid=6, tanh=6, cell_state=7, bias=12)
    net = Net(input_size=c["inputs"], hidden_size=c["hidden"], classes=c["outputs"],
              num_layers=c["layers"])
    model = QuantClassifier(c["inputs"], c["hidden"], c["outputs"], widths, 5, net,
                            per_step=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        out = model(torch.randn(4, 5, c["inputs"]))
        loss = (out - torch.randn(out.shape)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("name", CASES)
def test_per_step_rtl_and_hls_equal_reference_and_cycle_model(name, tmp_path):
    c = CASES[name]
    model = _model(c)
    batches = [torch.randn(2, n, c["inputs"]) * 1.5 for n in LENGTHS]
    export_model(model, batches[0], tmp_path / "m.onnx")
    ir = fold(lower(load_model(tmp_path / "m.onnx")), c["pe"], c["simd"], 0)
    assert ir.head.per_step and ir.out_kind == "step_scores"
    engines = max(lstm_step_cycles(ir, layer, emit=True) for layer in ir.layers)
    head = model_head_latency(ir) + 1
    assert (head > engines) == c["head_slower"], (head, engines)
    assert per_step_cycles(ir) == max(head, engines)

    rtl = emit_rtl(ir, tmp_path / "out", name)
    assert "hwgen_head_stream" in (rtl / "hwgen_top.sv").read_text()
    files = (rtl / "files.f").read_text().split()
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings
    hls = emit_hls(ir, tmp_path / "out", name)
    design = load_design(rtl)
    assert design.kind == "step_scores"
    seqs = [s for x in batches for s in quantize_inputs(x.numpy(), design)]
    stressed = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=c["seed"], compile_opt="-O0")
    isolated = run_rtl(rtl, seqs, tmp_path / "sim", compile_opt="-O0", isolate=True)
    csim = run_hls(hls, seqs, tmp_path / "hls_build")
    scale = np.float32(design.y_type.scale)
    for k, seq in enumerate(seqs):
        ref = execute(ir, seq[:, None, :])
        want, classes = ref["scores"][:, 0, :], ref["class"][:, 0]
        assert want.shape == (len(seq), c["outputs"])
        for run in (stressed, isolated, csim):
            assert np.array_equal(run.outputs[k], want), f"{name}: sequence {k}"
            assert np.array_equal(run.classes[k], classes), f"{name}: sequence {k}"
    with torch.no_grad():  # the Brevitas model on every step, float32, with ==
        for b, x in enumerate(batches):
            got = np.stack(stressed.outputs[2 * b:2 * b + 2]).astype(np.float32) * scale
            assert np.array_equal(got, model(x).numpy()), f"{name}: batch T={x.shape[1]}"
    assert isolated.latencies == [sequence_cycles(ir, len(s)) for s in seqs]
    steps = [int(d) for s in seqs for d in np.diff(transfer_times(ir, len(s))[0])]
    assert isolated.step_cycles == steps
    assert max(steps) == per_step_cycles(ir)
