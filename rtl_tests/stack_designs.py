"""Stacked designs for the RTL end-to-end tests: curated Brevitas stacks with seeded widths and
weights, exported, lowered, emitted, and checked through Verilator against the IR executor, the
QONNX reference graph and the cycle model.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from hwgen.codegen.rtl import STREAM_CORES, emit_rtl
from hwgen.ir.graph import execute
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import sequence_cycles, transfer_times
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.qat.model import LSTMWidths, Net, QuantClassifier, quant_recurrent
from hwgen.sim.design import backend_output, load_design, quantize_inputs
from hwgen.sim.rtl_run import run_rtl
from hwgen.sim.tools import verilator_lint

FAST_BUILD = "-O0"  # a few thousand cycles per run: compile time dominates
MAX_STEPS = 6
BATCH = 2  # Brevitas exports the initial states as constants of the example's batch size
LENGTHS = (MAX_STEPS, 1, 4, 2)  # a batch of each: the export's example, the shortest, others
CLASSES = 3


@dataclass(frozen=True)
class StackCase:
    """One curated network structure and folding; its widths and weights come from the seed."""

    seed: int
    net: Net
    head: bool = False
    pe: int = 0
    simd: int = 0
    lanes: int = 0  # folding.lanes (0: auto)

    def widths(self) -> LSTMWidths:
        """Return widths drawn from the seed: each in 3..8."""
        rng = np.random.default_rng(self.seed)
        return LSTMWidths(**{k: int(rng.integers(3, 9)) for k in asdict(LSTMWidths())})

    def describe(self) -> str:
        """Return a one-line description for failure messages."""
        return (f"seed={self.seed} head={self.head} pe={self.pe} simd={self.simd} "
                f"lanes={self.lanes} "
                f"widths={asdict(self.widths())} {self.net}")


def net(inputs: int, hidden: int, **options) -> Net:
    """Return a Net of the given sizes (CLASSES classes) and options."""
    return Net(input_size=inputs, hidden_size=hidden, classes=CLASSES, **options)


class Bare(torch.nn.Module):
    """A bare recurrent stack whose one output is every step's output of the last layer."""

    def __init__(self, case: StackCase):
        super().__init__()
        self.rnn = quant_recurrent(case.net.input_size, case.widths(), case.net)

    def forward(self, x):
        return self.rnn(x)[0]


def _floats(case: StackCase, steps: int) -> torch.Tensor:
    return torch.randn(BATCH, steps, case.net.input_size) * 1.5


def _model(case: StackCase) -> torch.nn.Module:
    """Return the case's model in eval mode after a few Adam steps on noise (scales move)."""
    torch.manual_seed(case.seed)
    n = case.net
    model = (QuantClassifier(n.input_size, n.hidden_size, CLASSES, case.widths(), 5, n)
             if case.head else Bare(case))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        out = model(_floats(case, 5))
        loss = (out - torch.randn(out.shape)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def build(case: StackCase, name: str, tmp_path: Path):
    """Return (graph, [input batch per length], IR, rtl folder) of a case's export."""
    model = _model(case)
    batches = [_floats(case, n).numpy() for n in LENGTHS]
    export_model(model, torch.from_numpy(batches[0]), tmp_path / "m.onnx")
    graph = load_model(tmp_path / "m.onnx")
    ir = fold(lower(graph), case.pe, case.simd, MAX_STEPS, lanes=case.lanes)
    return graph, batches, ir, emit_rtl(ir, tmp_path / "out", name)


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_structure(case: StackCase, name: str, ir, rtl: Path) -> None:
    """Assert the IR has the case's layers and the top one engine core per direction, lint clean.

    Emitting the same IR again gives byte-identical files.
    """
    again = emit_rtl(ir, rtl.parent.parent / "again", name)
    assert _tree(again) == _tree(rtl)
    n = case.net
    directions = 2 if n.bidirectional else 1
    assert [layer.kind for layer in ir.layers] == [n.cell] * (n.num_layers * directions)
    assert ir.max_steps == (MAX_STEPS if n.bidirectional else 0)
    files = (rtl / "files.f").read_text().split()
    assert [f for f in files if not f.startswith("cores/")] == ["hwgen_top.sv", "hwgen_axis_top.sv"]
    top = (rtl / "hwgen_top.sv").read_text()
    engines = re.findall(r"^    (hwgen_\w+_engine) #\($.*?^    \) u_(\w+) \($", top, re.M | re.S)
    assert engines == [(f"hwgen_{layer.kind}_engine", layer.name) for layer in ir.layers]
    assert any(f"cores/{c}" in files for c in STREAM_CORES) == n.bidirectional
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings


def check_design(case: StackCase, name: str, tmp_path: Path) -> None:
    """Build a case's design; assert its runs == the IR and the reference, cycles == the model.

    The sequences run twice: back to back under stress (random idle input cycles and output
    backpressure), and isolated without stress (each entering an idle design), whose latencies
    and input intervals the cycle model gives exactly.
    """
    where = f"{name}: {case.describe()}"
    graph, batches, ir, rtl = build(case, name, tmp_path)
    check_structure(case, name, ir, rtl)
    design = load_design(rtl)
    assert design.max_steps == ir.max_steps
    seqs = [seq for x in batches for seq in quantize_inputs(x, design)]
    stressed = run_rtl(rtl, seqs, tmp_path / "sim", stress_seed=case.seed,
                       compile_opt=FAST_BUILD)
    isolated = run_rtl(rtl, seqs, tmp_path / "sim", compile_opt=FAST_BUILD, isolate=True)
    for k, seq in enumerate(seqs):
        ref = execute(ir, seq[:, None, :])
        want = ref["outputs"][:, 0, :] if ir.head is None else ref["scores"][0]
        for run in (stressed, isolated):
            assert np.array_equal(run.outputs[k], want), f"sequence {k} (T={len(seq)}) {where}"
        if ir.head is not None:
            assert stressed.classes[k] == isolated.classes[k] == int(ref["class"][0]), where
    for b, x in enumerate(batches):
        got = backend_output(design, stressed.outputs[b * BATCH:(b + 1) * BATCH])
        assert np.array_equal(got, run_reference(graph, x)), f"batch T={x.shape[1]} {where}"
    assert isolated.latencies == [sequence_cycles(ir, len(s)) for s in seqs], where
    steps = [int(d) for s in seqs for d in np.diff(transfer_times(ir, len(s))[0])]
    assert isolated.step_cycles == steps, where
