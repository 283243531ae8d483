"""HLS C++ backend with initial states given as graph inputs (Brevitas's hx, cx): seeded exports
whose directions start each sequence from its own state packet, C-simulated over sequences of
different lengths and compared with == against the IR executor per sequence and the QONNX
reference per batch; designs refuse runs without their states, or with states they do not read.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hwgen.backends import run_backend_hls
from hwgen.codegen.hls import emit_hls
from hwgen.ir.graph import execute, initial_state_codes
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.sim.design import backend_output, load_design, quantize_inputs, state_codes
from hwgen.sim.hls_run import run_hls
from hwgen.types import HwgenError
from rtl_tests.state_designs import (BATCH, HIDDEN, INPUTS, LENGTHS, MAX_STEPS,
                                     StateCase, Stateful, data, state_cases)


CASES = state_cases(7000)
SLOW = {"cifg_bidir_2layer_head"}  # `make test-slow`, as in rtl_tests/test_e2e_states.py


def _model(case: StateCase) -> torch.nn.Module:
    """Return the case's model in eval mode after a few Adam steps on noise (scales move)."""
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
    return model.eval()


def _export(name: str, tmp_path, with_states: bool = True):
    """Return (graph, model, IR, hls folder) of a case exported with (or without) state inputs."""
    case = CASES[name]
    model = _model(case)
    x, states = data(case, MAX_STEPS)
    path = tmp_path / "m.onnx"
    if with_states:
        export_model(model, (x, *states.values()), path, case.names)
    else:
        export_model(model, x, path)
    graph = load_model(path)
    ir = fold(lower(graph), max_steps=MAX_STEPS)
    return graph, model, ir, emit_hls(ir, tmp_path / "out", name)


def _packets(ir, codes: dict) -> list:
    """Return each batch element's state codes: model.states' slices concatenated in order."""
    return list(np.concatenate([codes[(s.layer, s.part)] for s in ir.states], axis=1))


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [])
                                  for n in sorted(CASES)])
def test_states_csim_equals_ir_and_reference(name, tmp_path):
    case = CASES[name]
    graph, model, ir, hls = _export(name, tmp_path)
    assert [(s.layer, s.part) for s in ir.states] == [(d.name, p) for d in ir.layers
                                                      for p in case.parts]
    per_layer = 2 if case.rows > 1 else 1
    assert [s.row for s in ir.states if s.part == "h"] == [per_layer * d.index + d.reverse
                                                           for d in ir.layers]
    assert (ir.head is not None) == case.head
    assert ir.max_steps == (MAX_STEPS if case.net.bidirectional else 0)  # both tops
    design = load_design(hls)
    assert json.loads((hls / "design.json").read_text())["state"]["codes"] == len(
        ir.states) * HIDDEN
    assert "#define HWGEN_STATE_INPUT 1" in (hls / "hwgen_top.h").read_text()
    if not case.c0:
        assert "hwgen::state_slice<0>, hwgen::zero_init>" in (hls / "hwgen_config.h").read_text()
    torch.manual_seed(case.seed + 1)
    batches = [data(case, n) for n in LENGTHS]
    batches = [(x.numpy(), {k: v.numpy() for k, v in s.items()}) for x, s in batches]
    seqs, packets, codes = [], [], []
    for x, states in batches:
        codes.append(initial_state_codes(ir, states))
        seqs += list(quantize_inputs(x, design))
        packets += _packets(ir, codes[-1])
        assert np.array_equal(np.stack(state_codes(design, states, BATCH)),
                              np.stack(_packets(ir, codes[-1])))
    result = run_hls(hls, seqs, tmp_path / "build", states=packets)
    zero = run_hls(hls, seqs, tmp_path / "build", states=[p * 0 for p in packets])
    assert any(not np.array_equal(a, b) for a, b in zip(result.outputs, zero.outputs)), \
        f"{name}: the initial states change no output"
    for k, seq in enumerate(seqs):
        b, i = divmod(k, BATCH)
        init = {key: value[i:i + 1] for key, value in codes[b].items()}
        ref = execute(ir, seq[:, None, :], init)
        where = f"{name} seed={case.seed} sequence {k}"
        if ir.head is None:
            assert np.array_equal(result.outputs[k], ref["outputs"][:, 0, :]), where
        else:
            assert np.array_equal(result.outputs[k], ref["scores"][0]), where
            assert result.classes[k] == int(ref["class"][0]), where
    for b, (x, states) in enumerate(batches):
        want = run_reference(graph, x, states)
        got = backend_output(design, result.outputs[b * BATCH:(b + 1) * BATCH])
        assert np.array_equal(got, want), f"{name} batch {b}"
    x, states = batches[2]
    got = run_backend_hls(graph, x, hls, tmp_path / "build", states=states)
    assert np.array_equal(got, run_reference(graph, x, states))
    with torch.no_grad():
        assert np.array_equal(got, model(torch.from_numpy(x), *map(torch.from_numpy,
                                                                   states.values())).numpy())


def test_design_with_states_refuses_to_run_without_them(tmp_path):
    _, _, ir, hls = _export("rnn_bidir_2layer", tmp_path)
    seqs = [np.zeros((2, INPUTS), dtype=np.int64)]
    with pytest.raises(HwgenError, match=r"^the design reads initial states \(l0\.h, l0r\.h, "
                                         r"l1\.h, l1r\.h\): give states, one code vector per "
                                         r"sequence$"):
        run_hls(hls, seqs, tmp_path / "build")
    with pytest.raises(HwgenError, match=r"^state 0: int64 shape \[15\], want 16 integer codes"):
        run_hls(hls, seqs, tmp_path / "build", states=[np.zeros(15, dtype=np.int64)])
    with pytest.raises(HwgenError, match=r"^graph input 'h0' \(an initial state\) needs a value$"):
        run_backend_hls(tmp_path / "m.onnx", np.zeros((1, 2, INPUTS), np.float32), hls)
    assert len(ir.states) == 4


def test_design_without_states_refuses_them(tmp_path):
    _, _, ir, hls = _export("lstm_1layer", tmp_path, with_states=False)
    assert ir.states == ()
    assert "state" not in json.loads((hls / "design.json").read_text())
    assert "HWGEN_STATE_INPUT" not in (hls / "hwgen_top.h").read_text()
    seqs = [np.zeros((2, INPUTS), dtype=np.int64)]
    with pytest.raises(HwgenError, match="^states given, but the design has no initial-state "
                                         "input$"):
        run_hls(hls, seqs, tmp_path / "build", states=[np.zeros(8, dtype=np.int64)])
    with pytest.raises(HwgenError, match="^states given, but the design has no initial-state "
                                         "input$"):
        run_backend_hls(tmp_path / "m.onnx", np.zeros((1, 2, INPUTS), np.float32), hls,
                        states={"h0": np.zeros((1, 1, HIDDEN), np.float32)})
