"""The generated AXI4-Stream top (hwgen_axis_top.sv around hwgen_top) on Verilator.

Three small designs: a recurrent net with a head (fully parallel; its input padded from 30 to 32
bits, the class index in its own byte), a bidirectional two-layer LSTM with hidden outputs
(folded: weights from mem/*.hex), and a one-layer LSTM with an initial-state stream. Random
sequences go through the AXI top under random idle cycles and backpressure (random bits in the
input padding), and every output word equals (==) the one packed here from the int64 reference
by the layout the README documents: scores or hidden codes from bit 0, the class index from the
first byte boundary above them, zeros elsewhere. Without stalls, the first three sequences,
each into an idle design, take exactly hwgen.passes.cycles.sequence_cycles. The tops lint clean
under -Wall, Yosys reads them, and every tdata width is a byte multiple.
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import execute
from hwgen.passes.cycles import sequence_cycles
from hwgen.passes.fold import fold
from hwgen.sim.tools import copy_memories, run_cocotb, sim_build_dir, verilator_lint, yosys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ir_fixtures import load_fixture  # noqa: E402

DESIGNS = {"rnn_head": (0, 0, 0), "bilstm_2x": (4, 1, 6)}  # PE, SIMD, max_steps of fold
TOP = "hwgen_axis_top"


def _bytes(bits: int) -> int:
    return (bits + 7) // 8 * 8


def _word(codes, width: int) -> int:
    return sum((int(v) & ((1 << width) - 1)) << (k * width) for k, v in enumerate(codes))


def _fixture(name: str, tmp_path):
    model = fold(load_fixture(name), *DESIGNS[name])
    return model, emit_rtl(model, tmp_path / name, name)


def _states_design(tmp_path):
    """Return (model, rtl, state code vectors per sequence) of a design with a state stream."""
    import torch

    from hwgen.sim.design import load_design, quantize_inputs, state_codes
    from rtl_tests.state_designs import BATCH, data
    from rtl_tests.test_e2e_states import CASES, _export

    _, model, rtl = _export("lstm_1layer", tmp_path)
    design = load_design(rtl)
    torch.manual_seed(11)
    seqs, words = [], []
    for steps in (3, 1, 4):
        x, states = data(CASES["lstm_1layer"], steps)
        seqs += list(quantize_inputs(x.numpy(), design))
        words += state_codes(design, {k: v.numpy() for k, v in states.items()}, BATCH)
    return model, rtl, seqs, words


def _sequences(model, rng, count=12):
    t = model.input.type
    return [rng.integers(t.min, t.max + 1, size=(int(rng.integers(1, 6)), model.in_count))
            for _ in range(count)]


def _state_words(model, states) -> list:
    """Pack each sequence's state codes: slices in model.states order, each from its offset."""
    words = []
    for codes in states:
        word, start, offset = 0, 0, 0
        for s in model.states:
            width = s.quant.type.width
            word |= _word(codes[start:start + s.count], width) << offset
            start, offset = start + s.count, offset + s.count * width
        words.append(word)
    return words


def _expected(model, seqs, states) -> list:
    """Return the output items (m_axis_tdata, m_axis_tlast) the reference gives."""
    y_w, out = model.out_type.width, []
    c_lsb = _bytes(model.out_count * y_w)
    for k, seq in enumerate(seqs):
        st = None
        if states is not None:
            st, start = {}, 0
            for s in model.states:
                st[(s.layer, s.part)] = np.asarray(states[k][start:start + s.count])[None, :]
                start += s.count
        res = execute(model, np.asarray(seq)[:, None, :], st)
        if model.head is not None:
            out.append((_word(res["scores"][0], y_w) | int(res["class"][0]) << c_lsb, 1))
        else:
            rows = res["outputs"][:, 0, :]
            out += [(_word(r, y_w), int(t == len(rows) - 1)) for t, r in enumerate(rows)]
    return out


def _case(model, seqs, states, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    x_w = model.in_count * model.input.type.width
    y_w = model.out_count * model.out_type.width
    pad = _bytes(x_w) - x_w
    inputs = [(_word(r, model.input.type.width) | int(rng.integers(0, 1 << pad)) << x_w
               if pad else _word(r, model.input.type.width), int(t == len(s) - 1))
              for s in seqs for t, r in enumerate(s)]
    widths = {"s_axis_tdata": _bytes(x_w),
              "m_axis_tdata": _bytes(y_w) + (_bytes(model.class_type.width) if model.head
                                             else 0)}
    words = _state_words(model, states) if states is not None else []
    if words:
        widths["s_axis_state_tdata"] = _bytes(sum(s.quant.type.width * s.count
                                                  for s in model.states))
    lengths = [len(s) for s in seqs]
    return {"seed": seed, "inputs": inputs, "expected": _expected(model, seqs, states),
            "states": words, "widths": widths, "drain": 200, "lengths": lengths,
            "outputs_per_sequence": [1 if model.head is not None else n for n in lengths],
            "latencies": [sequence_cycles(model, n) for n in lengths], "timed": 3}


def _simulate(model, rtl, seqs, states, seed, request):
    build = sim_build_dir(f"rtl_tests/{request.node.name}")
    build.mkdir(parents=True, exist_ok=True)
    copy_memories(rtl, build)
    files = [rtl / f for f in (rtl / "files.f").read_text().split()]
    run_cocotb(TOP, files, {}, "rtl_tests.cocotb_axis_top", build,
               _case(model, seqs, states, seed))


@pytest.mark.parametrize("name", DESIGNS)
def test_axis_top_equals_reference(name, tmp_path, request):
    seed = int(os.environ.get("HWGEN_SEED", 8100 + list(DESIGNS).index(name)))
    model, rtl = _fixture(name, tmp_path)
    seqs = _sequences(model, np.random.default_rng(seed))
    _simulate(model, rtl, seqs, None, seed, request)


def test_axis_top_with_state_stream(tmp_path, request):
    model, rtl, seqs, states = _states_design(tmp_path)
    assert model.states and "s_axis_state_tdata" in (rtl / f"{TOP}.sv").read_text()
    _lints_clean(rtl)
    _simulate(model, rtl, seqs, states, int(os.environ.get("HWGEN_SEED", 8110)), request)


def _lints_clean(rtl) -> list:
    """Assert hwgen_axis_top (listed last in files.f) lints clean under -Wall; return the files."""
    files = (rtl / "files.f").read_text().split()
    assert files[-2:] == ["hwgen_top.sv", f"{TOP}.sv"], files
    status, messages = verilator_lint([rtl / f for f in files], TOP, {})
    assert status == 0 and "%Warning" not in messages, messages
    return files


@pytest.mark.parametrize("name", DESIGNS)
def test_axis_top_lints_clean_and_yosys_reads_it(name, tmp_path):
    _, rtl = _fixture(name, tmp_path)
    files = _lints_clean(rtl)
    proc = yosys(f"read_verilog -sv {' '.join(files)}; hierarchy -check -top {TOP}; proc", rtl)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]


@pytest.mark.parametrize("name", DESIGNS)
def test_layout_is_documented_in_bytes(name, tmp_path):
    """design.json's "axis" and README.md give byte-multiple widths and the class position."""
    import json

    model, rtl = _fixture(name, tmp_path)
    axis = json.loads((rtl / "design.json").read_text())["axis"]
    y_w = model.out_count * model.out_type.width
    assert axis["s_axis"]["width"] % 8 == 0 and axis["m_axis"]["width"] % 8 == 0
    fields = [(f["lsb"], f["width"]) for f in axis["m_axis"]["fields"]]
    want = [(0, y_w)] + ([(_bytes(y_w), model.class_type.width)] if model.head else [])
    assert fields == want
    readme = (rtl / "README.md").read_text()
    assert f"| `m_axis_tdata` | out | {axis['m_axis']['width']} |" in readme
    if model.head:
        lsb = _bytes(y_w)
        assert f"| [{lsb + model.class_type.width - 1}:{lsb}] | class index" in readme
