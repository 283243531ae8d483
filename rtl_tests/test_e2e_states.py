"""RTL end to end with initial states given as graph inputs (Brevitas's hx, cx): seeded exports
whose directions start each sequence from its own state word (s_state_*), through Verilator over
sequences of different lengths: == the IR executor per sequence and the QONNX reference per batch
under stress, latencies == sequence_cycles when isolated; designs refuse runs without their states,
or with states they do not read.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hwgen.backends import run_backend_rtl
from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute, initial_state_codes
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import sequence_cycles
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.sim.design import backend_output, load_design, quantize_inputs, state_codes
from hwgen.sim.rtl_run import run_rtl
from hwgen.sim.tools import verilator_lint
from hwgen.types import HwgenError
from rtl_tests.state_designs import (BATCH, HIDDEN, INPUTS, LENGTHS, MAX_STEPS,
                                     Stateful, data, state_cases)

FAST_BUILD = "-O0"  # short runs: compile time dominates

CASES = state_cases(8000)
# The 2-layer bidirectional CIFG case with states runs in `make test-slow`: make test covers that
# stack in rtl_tests/test_e2e_stack.py and states on three other stacks here.
SLOW = {"cifg_bidir_2layer_head"}


def _export(name: str, tmp_path, with_states: bool = True):
    """Return (graph, IR, rtl folder) of a case, briefly trained, exported with(out) states."""
    case = CASES[name]
    torch.manual_seed(case.seed)
    model = Stateful(case)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        x, states = data(case, 5)
        out = model(x, *states.values())
        loss = (out - torch.randn(out.shape)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, states = data(case, MAX_STEPS)
    path = tmp_path / "m.onnx"
    if with_states:
        export_model(model, (x, *states.values()), path, case.names)
    else:
        export_model(model, x, path)
    graph = load_model(path)
    ir = fold(lower(graph), max_steps=MAX_STEPS)
    return graph, ir, emit_rtl(ir, tmp_path / "out", name)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [])
                                  for n in sorted(CASES)])
def test_states_rtl_equals_ir_reference_and_cycle_model(name, tmp_path):
    case = CASES[name]
    graph, ir, rtl = _export(name, tmp_path)
    assert [(s.layer, s.part) for s in ir.states] == [(d.name, p) for d in ir.layers
                                                      for p in case.parts]
    assert (ir.head is not None) == case.head
    desc = json.loads((rtl / "design.json").read_text())
    assert desc["state"]["codes"] == len(ir.states) * HIDDEN
    files = (rtl / "files.f").read_text().split()
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings
    design = load_design(rtl)
    torch.manual_seed(case.seed + 1)
    batches = [data(case, n) for n in LENGTHS]
    batches = [(x.numpy(), {k: v.numpy() for k, v in s.items()}) for x, s in batches]
    seqs, words, codes = [], [], []
    for x, states in batches:
        codes.append(initial_state_codes(ir, states))
        seqs += list(quantize_inputs(x, design))
        words += state_codes(design, states, BATCH)
    stressed = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=case.seed,
                       compile_opt=FAST_BUILD, states=words)
    isolated = run_rtl(rtl, seqs, tmp_path / "sim", compile_opt=FAST_BUILD, isolate=True,
                       states=words)
    zero = run_rtl(rtl, seqs, tmp_path / "sim", compile_opt=FAST_BUILD,
                   states=[w * 0 for w in words])
    assert any(not np.array_equal(a, b) for a, b in zip(stressed.outputs, zero.outputs)), \
        f"{name}: the initial states change no output"
    for k, seq in enumerate(seqs):
        b, i = divmod(k, BATCH)
        ref = execute(ir, seq[:, None, :], {key: v[i:i + 1] for key, v in codes[b].items()})
        want = ref["outputs"][:, 0, :] if ir.head is None else ref["scores"][0]
        where = f"{name} seed={case.seed} sequence {k} (T={len(seq)})"
        for run in (stressed, isolated):
            assert np.array_equal(run.outputs[k], want), where
        if ir.head is not None:
            assert stressed.classes[k] == isolated.classes[k] == int(ref["class"][0]), where
    for b, (x, states) in enumerate(batches):
        got = backend_output(design, stressed.outputs[b * BATCH:(b + 1) * BATCH])
        assert np.array_equal(got, run_reference(graph, x, states)), f"{name} batch {b}"
    assert isolated.latencies == [sequence_cycles(ir, len(s)) for s in seqs], name
    x, states = batches[2]
    got = run_backend_rtl(graph, x, rtl, tmp_path / "sim", compile_opt=FAST_BUILD,
                          states=states)
    assert np.array_equal(got, run_reference(graph, x, states))


def test_design_with_states_refuses_to_run_without_them(tmp_path):
    _, ir, rtl = _export("rnn_bidir_2layer", tmp_path)
    seqs = [np.zeros((2, INPUTS), dtype=np.int64)]
    with pytest.raises(HwgenError, match=r"^the design reads initial states \(l0\.h, l0r\.h, "
                                         r"l1\.h, l1r\.h\): give states, one code vector per "
                                         r"sequence$"):
        run_rtl(rtl, seqs, tmp_path / "sim")
    with pytest.raises(HwgenError, match=r"^state 0: int64 shape \[15\], want 16 integer codes"):
        run_rtl(rtl, seqs, tmp_path / "sim", states=[np.zeros(15, dtype=np.int64)])
    with pytest.raises(HwgenError, match=r"^graph input 'h0' \(an initial state\) needs a value$"):
        run_backend_rtl(tmp_path / "m.onnx", np.zeros((1, 2, INPUTS), np.float32), rtl)
    assert len(ir.states) == 4


def test_design_without_states_refuses_them(tmp_path):
    _, ir, rtl = _export("lstm_1layer", tmp_path, with_states=False)
    assert ir.states == ()
    assert "state" not in json.loads((rtl / "design.json").read_text())
    assert "s_state" not in (rtl / "hwgen_top.sv").read_text()
    seqs = [np.zeros((2, INPUTS), dtype=np.int64)]
    with pytest.raises(HwgenError, match="^states given, but the design has no initial-state "
                                         "input$"):
        run_rtl(rtl, seqs, tmp_path / "sim", states=[np.zeros(8, dtype=np.int64)])
    with pytest.raises(HwgenError, match="^states given, but the design has no initial-state "
                                         "input$"):
        run_backend_rtl(tmp_path / "m.onnx", np.zeros((1, 2, INPUTS), np.float32), rtl,
                        states={"h0": np.zeros((1, 1, HIDDEN), np.float32)})
