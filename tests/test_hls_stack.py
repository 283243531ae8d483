"""HLS C++ backend on stacks: several layers, bidirectional layers (the buffered top), plain RNN
layers and heads, from random seeded Brevitas exports, C-simulated over sequences of different
lengths and compared with == against the IR executor and the QONNX reference, per sequence.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pytest
import torch

from hwgen.codegen.hls import emit_hls
from hwgen.ir.graph import execute
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.qat.model import LSTMWidths, Net, QuantClassifier, quant_lstm, quant_rnn
from hwgen.sim.design import backend_output, load_design, quantize_inputs
from hwgen.sim.hls_run import run_hls
from hwgen.types import HwgenError

MAX_STEPS = 6
BATCH = 2  # Brevitas exports the initial states as constants of the example's batch size
LENGTHS = (MAX_STEPS, 1, 4, 2)  # a batch of each: the export's example, the shortest, others
INPUTS, HIDDEN, CLASSES = 3, 4, 3


@dataclass(frozen=True)
class StackCase:
    """One curated network structure; its widths and weights come from the seed."""

    seed: int
    net: Net
    head: bool = False
    batch_first: bool = True
    fold: tuple = (0, 0)  # (pe, simd) of every recurrent matrix unit; 0 is fully parallel

    def widths(self) -> LSTMWidths:
        """Return widths drawn from the seed: each in 3..8."""
        rng = np.random.default_rng(self.seed)
        return LSTMWidths(**{k: int(rng.integers(3, 9)) for k in asdict(LSTMWidths())})

    def describe(self) -> str:
        """Return a one-line description for failure messages."""
        return (f"seed={self.seed} head={self.head} batch_first={self.batch_first} "
                f"fold={self.fold} {self.net}")


def _net(**options) -> Net:
    return Net(input_size=INPUTS, hidden_size=HIDDEN, classes=CLASSES, **options)


CASES = {
    "lstm_2layer": StackCase(5001, _net(num_layers=2)),
    "lstm_bidir_time_major": StackCase(5002, _net(bidirectional=True), batch_first=False),
    "cifg_bidir_2layer_head": StackCase(5003, _net(num_layers=2, bidirectional=True, cifg=True),
                                        head=True),
    "lstm_no_bias_bidir_folded": StackCase(5004, _net(bidirectional=True, bias=False),
                                           fold=(4, 1)),
    "lstm_per_channel_2layer_head": StackCase(5005, _net(num_layers=2, per_channel_weights=True),
                                              head=True),
    "rnn_tanh_2layer": StackCase(5006, _net(cell="rnn", num_layers=2)),
    "rnn_relu_bidir_folded": StackCase(5007, _net(cell="rnn", nonlinearity="relu",
                                                  bidirectional=True), fold=(2, 1)),
    "rnn_tanh_bidir_2layer_head": StackCase(5008, _net(cell="rnn", num_layers=2,
                                                       bidirectional=True), head=True),
    # Brevitas's sharing options with per-channel weight scales
    "lstm_shared_per_channel_bidir_head": StackCase(5009, _net(
        bidirectional=True, per_channel_weights=True, shared_input_hidden_weights=True,
        shared_intra_layer_weight_quant=True, shared_intra_layer_gate_acc_quant=True), head=True),
}


class Bare(torch.nn.Module):
    """A bare recurrent stack whose one output is every step's output of the last layer."""

    def __init__(self, case: StackCase):
        super().__init__()
        net = case.net
        common = dict(batch_first=case.batch_first, bias=net.bias, num_layers=net.num_layers,
                      bidirectional=net.bidirectional, per_channel=net.per_channel_weights)
        if net.cell == "rnn":
            self.rnn = quant_rnn(INPUTS, HIDDEN, case.widths(), nonlinearity=net.nonlinearity,
                                 **common)
        else:
            self.rnn = quant_lstm(INPUTS, HIDDEN, case.widths(), cifg=net.cifg, **common)

    def forward(self, x):
        return self.rnn(x)[0]


def _model(case: StackCase) -> torch.nn.Module:
    """Return the case's model in eval mode after a few Adam steps on noise (scales move)."""
    torch.manual_seed(case.seed)
    if case.head:
        model = QuantClassifier(INPUTS, HIDDEN, CLASSES, case.widths(), 4, case.net)
    else:
        model = Bare(case)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        out = model(_floats(case, 5, 2))
        loss = (out - torch.randn(out.shape)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def _floats(case: StackCase, steps: int, batch: int) -> torch.Tensor:
    shape = (batch, steps, INPUTS) if case.batch_first or case.head else (steps, batch, INPUTS)
    return torch.randn(*shape) * 1.5


def _lowered(name: str, tmp_path):
    """Return (graph, its example input, IR, hls folder) of a case's export."""
    case = CASES[name]
    model = _model(case)
    path = tmp_path / "m.onnx"
    x = _floats(case, MAX_STEPS, BATCH).numpy()
    export_model(model, torch.from_numpy(x), path)
    graph = load_model(path)
    ir = fold(lower(graph), *case.fold, max_steps=MAX_STEPS)
    assert ir.batch_first == (case.batch_first or case.head)  # design.json's layout
    return graph, x, ir, emit_hls(ir, tmp_path / "out", name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stack_csim_equals_ir_and_reference(name, tmp_path):
    case, net = CASES[name], CASES[name].net
    graph, example, ir, hls = _lowered(name, tmp_path)
    assert [layer.kind for layer in ir.layers] == [net.cell] * (
        net.num_layers * (2 if net.bidirectional else 1))
    assert (ir.head is not None) == case.head
    assert ir.max_steps == (MAX_STEPS if net.bidirectional else 0)
    config = (hls / "hwgen_config.h").read_text()
    assert f"static const unsigned max_steps = {ir.max_steps};" in config
    if case.fold != (0, 0):
        assert f"static const unsigned pe = {case.fold[0]};" in config
    design = load_design(hls)
    torch.manual_seed(case.seed + 1)
    batches = [example] + [_floats(case, n, BATCH).numpy() for n in LENGTHS[1:]]
    seqs = [seq for x in batches
            for seq in quantize_inputs(x if design.batch_first else np.swapaxes(x, 0, 1), design)]
    result = run_hls(hls, seqs, tmp_path / "build")
    where = f"{name}: {case.describe()}"
    for k, seq in enumerate(seqs):
        ref = execute(ir, seq[:, None, :])
        if ir.head is None:
            assert np.array_equal(result.outputs[k], ref["outputs"][:, 0, :]), f"{where} seq {k}"
        else:
            assert np.array_equal(result.outputs[k], ref["scores"][0]), f"{where} seq {k}"
            assert result.classes[k] == int(ref["class"][0]), f"{where} seq {k}"
    for b, x in enumerate(batches):
        got = backend_output(design, result.outputs[b * BATCH:(b + 1) * BATCH])
        assert np.array_equal(got, run_reference(graph, x)), f"{where} batch {b}"


def test_buffered_design_refuses_overlong_sequences(tmp_path):
    _, _, _, hls = _lowered("rnn_relu_bidir_folded", tmp_path)
    design = load_design(hls)
    seqs = [np.zeros((2, INPUTS), dtype=np.int64), np.zeros((MAX_STEPS + 1, INPUTS), np.int64)]
    with pytest.raises(HwgenError, match=f"^sequence 1: {MAX_STEPS + 1} steps, longer than the "
                                         f"{MAX_STEPS} .*max_steps"):
        run_hls(hls, seqs, tmp_path / "build")
    assert design.max_steps == MAX_STEPS
    assert "static const unsigned hwgen_max_steps = 6;" in (hls / "hwgen_top.h").read_text()


def test_stack_gives_byte_identical_sources(tmp_path):
    graph, _, ir, first = _lowered("rnn_tanh_bidir_2layer_head", tmp_path)
    second = emit_hls(fold(lower(graph), max_steps=MAX_STEPS), tmp_path / "again",
                      "rnn_tanh_bidir_2layer_head")
    tree = {p.name: p.read_bytes() for p in sorted(first.iterdir())}
    assert tree == {p.name: p.read_bytes() for p in sorted(second.iterdir())}
    assert {"hwgen_stack.h", "hwgen_rnn.h", "hwgen_lstm.h", "hwgen_kernels.h"} <= set(tree)
