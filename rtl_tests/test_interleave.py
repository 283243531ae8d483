"""Interleaved designs (folding.interleave = N): N sequences share one LSTM engine, round-robin.

Random small LSTMs (h stream) and classifiers (head) through Verilator: every sequence's outputs
== the int64 reference under random idle input cycles and output backpressure (the testbench
checks nothing is lost, duplicated or reordered, and m_tlast); without stress every transfer's
cycle == the cycle model (hwgen.passes.cycles.ilv_transfer_times). Also: such a design lints
clean and Yosys reads it; fold refuses what the controller does not cover.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute
from hwgen.onnx.graph import load_model
from hwgen.passes.cycles import (ilv_gap, ilv_period, ilv_transfer_times, lstm_step_cycles,
                                 per_step_cycles, sequence_cycles)
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.sim.design import load_design
from hwgen.sim.rtl_run import run_rtl_interleaved
from hwgen.sim.tools import verilator_lint, yosys
from hwgen.types import HwgenError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from brevitas_cases import export_case, random_case, trained_model  # noqa: E402

FAST_BUILD = "-O0"
# seed: (N, PE, SIMD, lanes; 0 = auto)
STREAM_CASES = {4000: (2, 0, 0, 0), 4001: (3, 4, 1, 1), 4002: (4, 0, 0, 2), 4003: (3, 0, 0, 1)}


def _random_groups(design, rng, n: int, lengths: list) -> list:
    """Return len(lengths) groups of n random input-code sequences, group g of lengths[g] steps."""
    x = design.x_type
    return [rng.integers(x.min, x.max + 1, size=(steps, design.x_count), dtype=np.int64)
            for steps in lengths for _ in range(n)]


@pytest.mark.parametrize("seed", sorted(STREAM_CASES))
def test_interleaved_h_stream_equals_reference(seed, tmp_path):
    n, pe, simd, lanes = STREAM_CASES[seed]
    case = dataclasses.replace(random_case(seed, max_size=8, max_steps=3), hidden_size=4)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "m.onnx"))
    ir = fold(lower(graph), pe, simd, lanes=lanes, interleave=n)
    rtl = emit_rtl(ir, tmp_path / "out", f"ilv {seed}")
    design = load_design(rtl)
    rng = np.random.default_rng(seed)
    lengths = [int(rng.integers(1, 5)), int(rng.integers(1, 5))]
    seqs = _random_groups(design, rng, n, lengths)
    for stress in (seed, None):
        res = run_rtl_interleaved(rtl, seqs, tmp_path / "sim", stress_seed=stress,
                                  compile_opt=FAST_BUILD)
        for k, seq in enumerate(seqs):
            want = execute(ir, seq[:, None, :])["outputs"][:, 0, :]
            assert np.array_equal(res.outputs[k], want), f"{case.describe()} sequence {k}"
    _check_cycles(ir, res, lengths)


def _check_cycles(ir, res, lengths: list) -> None:
    """Assert every transfer of an unstressed run happened on the model's cycle."""
    ins, outs = ilv_transfer_times(ir, lengths)
    base = res.in_cycles[0]
    assert [c - base for c in res.in_cycles] == ins, "input transfer cycles"
    assert [c - base for c in res.out_cycles] == outs, "output transfer cycles"
    n = ir.interleave
    first = n - 1 if ir.head is not None else lengths[0] * n - 1  # the first group's last
    assert outs[first] == sequence_cycles(ir, lengths[0])


def _classifier(tmp_path, pe: int, simd: int, lanes: int, n: int):
    """Return (ir, rtl folder) of a small classifier (hidden 8, head of 3 classes) folded so."""
    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier

    torch.manual_seed(9)
    m = QuantClassifier(4, 8, 3, LSTMWidths(weight=4), 4).eval()
    export_model(m, torch.randn(2, 3, 4), tmp_path / "c.onnx")
    ir = fold(lower(load_model(tmp_path / "c.onnx")), pe, simd, lanes=lanes, interleave=n)
    return ir, emit_rtl(ir, tmp_path / "out", f"classifier ilv {n}")


FOLDINGS = {"parallel": (0, 0, 0), "pe4_simd2_2lanes": (4, 2, 2)}


@pytest.mark.parametrize("n", [2, 4])
@pytest.mark.parametrize("name", sorted(FOLDINGS))
def test_interleaved_head_cycles_equal_the_model(name, n, tmp_path):
    ir, rtl = _classifier(tmp_path, *FOLDINGS[name], n)
    design = load_design(rtl)
    rng = np.random.default_rng(n)
    steps = 5
    seqs = _random_groups(design, rng, n, [steps, steps])
    for stress in (100 + n, None):  # the last run, unstressed, is timed below
        res = run_rtl_interleaved(rtl, seqs, tmp_path / "sim", stress_seed=stress,
                                  compile_opt=FAST_BUILD)
        for k, seq in enumerate(seqs):
            ref = execute(ir, seq[:, None, :])
            assert np.array_equal(res.outputs[k], ref["scores"][0]), f"sequence {k}"
            assert res.classes[k] == int(ref["class"][0]), f"sequence {k}"
    ins, outs = ilv_transfer_times(ir, steps, groups=2)
    base = res.in_cycles[0]
    assert [c - base for c in res.in_cycles] == ins
    assert [c - base for c in res.out_cycles] == outs
    assert res.out_cycles[n - 1] - base == sequence_cycles(ir, steps)
    # steady state: one slot's steps are ilv_period apart, N steps of the engine in them
    first = [res.in_cycles[t * n] for t in range(steps)]
    assert set(np.diff(first).tolist()) == {per_step_cycles(ir)} == {ilv_period(ir)}
    assert design.raw["cycles"]["interleave"] == n
    assert design.raw["cycles"]["ilv_gap"] == ilv_gap(ir, ir.layers[0])
    plain = lstm_step_cycles(ir, ir.layers[0], emit=False)
    assert ilv_period(ir) == max(n * ilv_gap(ir, ir.layers[0]), plain)


def _write(tmp_path, text: str):
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, words", [
    ("folding:\n  interleave: 0\n", "interleave"),
    ("folding:\n  interleave: two\n", "interleave"),
    ("net:\n  num_layers: 2\nfolding:\n  interleave: 2\n", "one-layer, one-direction LSTM"),
    ("net:\n  bidirectional: true\nfolding:\n  interleave: 2\n", "one-layer, one-direction LSTM"),
    ("net:\n  cell: gru\nfolding:\n  interleave: 4\n", "one-layer, one-direction LSTM"),
    ("task: per_step\nfolding:\n  interleave: 4\n", "one-layer, one-direction LSTM")])
def test_spec_refuses_bad_interleave_in_one_line(tmp_path, text, words):
    from hwgen.spec import load_spec

    with pytest.raises(HwgenError) as err:
        load_spec(_write(tmp_path, text))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_spec_reads_interleave(tmp_path):
    from hwgen.spec import load_spec

    assert load_spec(_write(tmp_path, "folding:\n  interleave: 8\n")).folding.interleave == 8
    assert load_spec(_write(tmp_path, "folding:\n  pe: 0\n")).folding.interleave == 1


def test_fold_refuses_what_the_controller_does_not_cover(tmp_path):
    from hwgen.qat.export import export_model
    from hwgen.qat.model import LSTMWidths, QuantClassifier
    from hwgen.spec import Net

    torch.manual_seed(1)
    x = torch.randn(1, 3, 4)
    two = QuantClassifier(4, 4, 2, LSTMWidths(), 4, Net(input_size=4, hidden_size=4, classes=2,
                                                        num_layers=2)).eval()
    export_model(two, x, tmp_path / "two.onnx")
    with pytest.raises(HwgenError, match="one-layer, one-direction LSTM"):
        fold(lower(load_model(tmp_path / "two.onnx")), interleave=2)
    ir, _ = _classifier(tmp_path, 0, 0, 0, 1)
    with pytest.raises(HwgenError, match="interleave=0"):
        fold(ir, interleave=0)


def test_interleave_is_saved_and_one_builds_the_plain_design(tmp_path):
    from hwgen.flow import step_build
    from hwgen.ir.store import load_ir

    ir, plain = _classifier(tmp_path, 4, 2, 2, 1)
    assert "ILV" not in (plain / "hwgen_top.sv").read_text()
    assert "interleave" not in json.loads((plain / "design.json").read_text())["cycles"]
    rtl = step_build(ir, tmp_path / "b", 4, 2, interleave=3)
    assert load_ir(tmp_path / "b" / "ir").interleave == 3
    top = (rtl / "hwgen_top.sv").read_text()
    assert ".ILV(3)" in top and f".ILV_GAP({ilv_gap(load_ir(tmp_path / 'b' / 'ir'), ir.layers[0])})" in top
    assert json.loads((rtl / "design.json").read_text())["cycles"]["interleave"] == 3
    assert "slots = 3;" in (tmp_path / "b" / "hls" / "hwgen_config.h").read_text()


@pytest.mark.parametrize("n", [2, 3])
def test_hls_c_sim_of_interleaved_designs_equals_reference(n, tmp_path):
    from hwgen.codegen.hls import emit_hls
    from hwgen.sim.hls_run import run_hls_interleaved

    case = dataclasses.replace(random_case(4100 + n, max_size=6, max_steps=3), hidden_size=5)
    model, x = trained_model(case)
    bare = fold(lower(load_model(export_case(model, x, tmp_path / "m.onnx"))), interleave=n)
    head, _ = _classifier(tmp_path, 4, 2, 2, n)
    for name, ir in (("bare", bare), ("head", head)):
        hls = emit_hls(ir, tmp_path / name, name)
        design = load_design(hls)
        rng = np.random.default_rng(n)
        seqs = _random_groups(design, rng, n, [int(rng.integers(1, 5)), int(rng.integers(1, 5))])
        res = run_hls_interleaved(hls, seqs, tmp_path / f"{name}_build")
        for k, seq in enumerate(seqs):
            ref = execute(ir, seq[:, None, :])
            if ir.head is None:
                assert np.array_equal(res.outputs[k], ref["outputs"][:, 0, :]), f"{name} {k}"
            else:
                assert np.array_equal(res.outputs[k], ref["scores"][0]), f"{name} {k}"
                assert res.classes[k] == int(ref["class"][0]), f"{name} {k}"


def test_interleaved_design_lints_clean_and_yosys_reads_it(tmp_path):
    ir, rtl = _classifier(tmp_path, 4, 2, 2, 4)
    files = (rtl / "files.f").read_text().split()
    status, warnings = verilator_lint([rtl / f for f in files], "hwgen_top", {})
    assert status == 0 and "%Warning" not in warnings, warnings
    proc = yosys(f"read_verilog -sv {' '.join(files)}; hierarchy -check -top hwgen_top; proc", rtl)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
