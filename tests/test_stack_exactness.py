"""Stacks of every option, exported by Brevitas (QuantLSTM) or hwgen (QuantRNN), are exact.

For each case: the QONNX graph on the integer reference == Brevitas's eval forward, and the lowered
IR executed stage by stage == the reference, at every step (no head) or on the scores (head), for
sequences of several lengths.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hwgen.ir.graph import execute, initial_state_codes
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.reference.luts import quantize_input
from hwgen.spec import Net
from hwgen.types import HwgenError
from stack_cases import StackCase, random_stack, state_names, trained_stack
from hwgen.qat.model import LSTMWidths

W = LSTMWidths(weight=4, io=6, input_acc=7, cell_acc=5, sigmoid=5, cell_state=7)
NAMED = {
    "lstm_2layers": StackCase(1, Net(3, 4, 2, 3), W, False, (1, 4, 7)),
    "lstm_bidirectional": StackCase(2, Net(3, 4, 1, 3, bidirectional=True), W, False, (2, 5)),
    "lstm_2x_bidir_cifg_head": StackCase(
        3, Net(3, 4, 2, 3, bidirectional=True, cifg=True), W, True, (1, 3, 8)),
    "lstm_no_bias_per_channel": StackCase(
        4, Net(3, 4, 1, 3, bias=False, per_channel_weights=True), W, True, (3, 6)),
    "lstm_shared_all": StackCase(5, Net(3, 4, 2, 3, bidirectional=True,
                                        shared_input_hidden_weights=True,
                                        shared_intra_layer_weight_quant=True,
                                        shared_intra_layer_gate_acc_quant=True), W, True, (2, 6)),
    "rnn_tanh": StackCase(6, Net(3, 5, 1, 3, cell="rnn"), W, True, (1, 5, 9)),
    "rnn_relu_2x_bidir": StackCase(7, Net(3, 5, 2, 3, cell="rnn", nonlinearity="relu",
                                          bidirectional=True), W, False, (2, 7)),
    "rnn_no_bias_per_channel": StackCase(
        8, Net(3, 5, 1, 3, cell="rnn", bias=False, per_channel_weights=True), W, False, (4,)),
    "lstm_states": StackCase(9, Net(3, 4, 1, 3), W, False, (1, 5), states=True),
    "lstm_2x_bidir_cifg_states_head": StackCase(
        10, Net(3, 4, 2, 3, bidirectional=True, cifg=True), W, True, (2, 6), states=True),
    "rnn_2x_bidir_states": StackCase(
        11, Net(3, 4, 2, 3, cell="rnn", bidirectional=True), W, False, (3,), states=True),
}
SEEDS = list(range(3100, 3116))


def check_case(case: StackCase, tmp_path) -> None:
    """Assert reference == Brevitas and IR == reference for every input batch of the case."""
    model, inputs = trained_stack(case)
    path = tmp_path / f"stack{case.seed}.onnx"
    export_model(model, inputs[0], path, input_names=["x", *state_names(case)])
    graph = load_model(path)
    ir = fold(lower(graph), max_steps=16)
    assert len(ir.states) == (len(ir.layers) * len(state_names(case)))
    for args in inputs:
        x = args[0]
        states = dict(zip(state_names(case), (a.numpy() for a in args[1:])))
        with torch.no_grad():
            want = model(*args).numpy()
        got = run_reference(graph, x.numpy(), states)
        assert np.array_equal(got, want), f"reference != Brevitas, T={x.shape[1]}: {case.describe()}"
        codes = quantize_input(x.numpy(), ir.input.type, ir.input.rounding, "x")
        result = execute(ir, np.swapaxes(codes, 0, 1), initial_state_codes(ir, states))
        if case.head:
            ir_out = result["scores"] * 2.0 ** ir.head.score_type.exp
        else:
            scale = 2.0 ** ir.layers[-1].state.h_type.exp
            ir_out = np.swapaxes(result["outputs"], 0, 1) * scale
        assert np.array_equal(ir_out.astype(np.float32), got), (
            f"IR != reference, T={x.shape[1]}: {case.describe()}")


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_stack_is_exact(name, tmp_path):
    check_case(NAMED[name], tmp_path)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_random_stack_is_exact(seed, tmp_path):
    check_case(random_stack(seed), tmp_path)


def test_random_stacks_cover_every_option():
    cases = [random_stack(s) for s in SEEDS]
    nets = [c.net for c in cases]
    for key in ("bidirectional", "cifg", "bias", "per_channel_weights",
                "shared_input_hidden_weights", "shared_intra_layer_weight_quant",
                "shared_intra_layer_gate_acc_quant"):
        assert {getattr(n, key) for n in nets} == {True, False}, key
    assert {n.cell for n in nets} == {"lstm", "rnn"}
    assert {n.num_layers for n in nets} == {1, 2}
    assert {n.nonlinearity for n in nets if n.cell == "rnn"} == {"tanh", "relu"}
    assert any(n.num_layers == 2 and n.bidirectional and n.cifg for n in nets)
    assert {c.head for c in cases} == {True, False}
    assert {c.states for c in cases} == {True, False}


def test_state_inputs_are_checked_by_name(tmp_path):
    case = NAMED["lstm_states"]
    model, inputs = trained_stack(case)
    path = tmp_path / "states.onnx"
    export_model(model, inputs[0], path, input_names=["x", "h0", "c0"])
    graph = load_model(path)
    x, h0, c0 = (a.numpy() for a in inputs[0])
    with pytest.raises(HwgenError, match="'c0'.*needs a value"):
        run_reference(graph, x, {"h0": h0})
    with pytest.raises(HwgenError, match="'hx'.*no such input"):
        run_reference(graph, x, {"h0": h0, "c0": c0, "hx": h0})
    with pytest.raises(HwgenError, match="'h0': shape"):
        run_reference(graph, x, {"h0": h0[:, :1], "c0": c0})


def _quant_graph(raw: np.ndarray, scale: np.ndarray, narrow: int):
    """Return a ModelWrapper with one 4-bit signed Quant node on the constant raw."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper

    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in
             ((raw, "w"), (scale, "s"), (np.zeros(()), "z"), (np.array(4.0), "b"))]
    node = helper.make_node("Quant", ["w", "s", "z", "b"], ["q"], name="wq",
                            domain="qonnx.custom_op.general", signed=1, narrow=narrow,
                            rounding_mode="ROUND")
    out = helper.make_tensor_value_info("q", TensorProto.FLOAT, list(raw.shape))
    graph = helper.make_graph([node], "g", [], [out], initializer=inits)
    return ModelWrapper(helper.make_model(graph))


@pytest.mark.parametrize("scale", [[[0.5], [0.5]], [[0.5], [0.125]]], ids=["equal", "spread"])
@pytest.mark.parametrize("narrow", [0, 1])
def test_per_channel_weights_clip_like_the_graph(scale, narrow):
    # Beyond the range, codes clip to -8 or, narrow, to -7: the static reading (lowering and
    # hardware) must clip exactly as qonnx's Quant does when the graph runs.
    from qonnx.core.onnx_exec import execute_onnx

    from hwgen.onnx.graph import quantized_constant

    raw = np.array([[-9.0, 3.3, 9.0], [-1.6, 0.2, 7.0]])
    model = _quant_graph(raw, np.array(scale), narrow)
    codes, t = quantized_constant(model, "q", "test")
    runtime = execute_onnx(model, {})["q"]
    assert np.array_equal(codes * 2.0 ** t.exp, runtime)
    assert codes.reshape(2, 3)[0, 0] * 2.0 ** t.exp == -(8 - narrow) * scale[0][0]




def test_cli_run_takes_initial_states(tmp_path):
    import subprocess
    import sys

    case = NAMED["lstm_states"]
    model, inputs = trained_stack(case)
    path = tmp_path / "states.onnx"
    export_model(model, inputs[0], path, input_names=["x", "h0", "c0"])
    for name, value in zip(("x", "h0", "c0"), inputs[0]):
        np.save(tmp_path / f"{name}.npy", value.numpy())
    base = [sys.executable, "-m", "hwgen.cli", "run", str(path), "--input", "x.npy",
            "--output", "y.npy"]
    ok = subprocess.run(base + ["--state", "h0=h0.npy", "--state", "c0=c0.npy"], cwd=tmp_path,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    with torch.no_grad():
        assert np.array_equal(np.load(tmp_path / "y.npy"), model(*inputs[0]).numpy())
    bad = subprocess.run(base + ["--state", "h0"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "NAME=FILE.npy" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(base + ["--state", "h0=h0.npy"], cwd=tmp_path, capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "'c0'" in missing.stderr
