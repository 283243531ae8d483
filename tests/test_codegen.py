"""Code generation: byte-identical output for the same model, strict templates, exact packing."""
from __future__ import annotations

import re

import jinja2
import numpy as np
import pytest
import torch

from hwgen.codegen.env import render
from hwgen.codegen.rtl import context, emit_rtl
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.qat.model import LSTMWidths, QuantClassifier
from hwgen.types import HwgenError


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    torch.manual_seed(1)
    m = QuantClassifier(3, 4, 3, LSTMWidths(weight=5, sigmoid=6), 4).eval()
    path = tmp_path_factory.mktemp("cg") / "m.onnx"
    export_model(m, torch.randn(1, 5, 3), path)
    return load_model(path)


def _tree(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_model_gives_byte_identical_sources(graph, tmp_path):
    first = emit_rtl(lower(graph), tmp_path / "a", "m")
    second = emit_rtl(lower(graph), tmp_path / "b", "m")
    assert _tree(first) == _tree(second)
    assert (first / "hwgen_top.sv").read_text().count("hwgen_gate #(") == 4


def test_folded_model_gives_byte_identical_sources_and_memories(graph, tmp_path):
    first = emit_rtl(fold(lower(graph), 4, 1), tmp_path / "a", "m")
    second = emit_rtl(fold(lower(graph), 4, 1), tmp_path / "b", "m")
    assert _tree(first) == _tree(second)
    assert (first / "mem.f").read_text().startswith("mem/l0_mx.hex\nmem/l0_mh.hex\n")
    assert str(tmp_path) not in (first / "hwgen_top.sv").read_text()


def test_folding_changes_only_the_matrix_units(graph, tmp_path):
    a = (emit_rtl(lower(graph), tmp_path / "a", "m") / "hwgen_top.sv").read_text()
    folded = fold(lower(graph), 4, 1, lanes=4)  # lanes = H: the elementwise stages unchanged
    b = (emit_rtl(folded, tmp_path / "b", "m") / "hwgen_top.sv").read_text()
    diff = [(x, y) for x, y in zip(a.splitlines(), b.splitlines()) if x != y]
    # the engine core's MX_PE and MH_PE lines only: both units read their weights from the same
    # data files (a ROM folded, constants fully parallel)
    assert [x for x, _ in diff] == [x for x in a.splitlines() if "_PE(" in x] and len(diff) == 2
    assert '.MX_WEIGHTS_BITS(1), .MX_INIT_FILE("mem/l0_mx.hex")' in a
    assert len(a.splitlines()) == len(b.splitlines())


@pytest.mark.parametrize("lanes", [1, 2])
def test_lanes_change_only_the_elementwise_stages(graph, tmp_path, lanes):
    """LANES on the engine (cell, tanh(c), hidden) and on every gate, the layer line of the
    IR comment; nothing else. lanes = H (the auto choice of a fully parallel design) adds none."""
    parallel = fold(lower(graph))
    assert parallel.layers[0].units_per_cycle == 4 and parallel.layers[0].lanes == 4
    a = (emit_rtl(parallel, tmp_path / "a", "m") / "hwgen_top.sv").read_text().splitlines()
    ir = fold(lower(graph), lanes=lanes)
    b = (emit_rtl(ir, tmp_path / "b", "m") / "hwgen_top.sv").read_text().splitlines()
    assert "LANES" not in "\n".join(a)
    added = [y for y in b if y not in a]
    assert sum(f".LANES({lanes})" in y for y in added) == 5  # the engine and its four gates
    assert [y for y in added if ".LANES(" not in y] == [
        y for y in b if y.startswith("// layer l0:")]
    assert b[[k for k, y in enumerate(b) if y.startswith("// layer l0:")][0]].endswith(
        f" lanes={lanes}")


@pytest.mark.parametrize("pe, simd, lanes", [(0, 0, 4), (16, 1, 4), (8, 1, 2), (4, 1, 1),
                                             (2, 1, 1), (1, 1, 1)])
def test_auto_lanes_follow_the_h_unit(graph, pe, simd, lanes):
    """Auto: H when the h unit is fully parallel, else the largest divisor of H (4) that is at
    most max(1, PE / 4 gates)."""
    assert fold(lower(graph), pe, simd).layers[0].units_per_cycle == lanes


def test_lanes_must_divide_the_hidden_size(graph):
    with pytest.raises(HwgenError, match=r"^layer l0: folding.lanes=3 does not divide the "
                                         r"hidden size 4$"):
        fold(lower(graph), lanes=3)


def _rom_weights(text: str, rows: int, cols: int, pe: int, simd: int, width: int) -> np.ndarray:
    """Decode a ROM file by its documented layout (hwgen_mvu.sv's header) into rows x cols."""
    w = np.zeros((rows, cols), dtype=np.int64)
    lines = text.split()
    assert len(lines) == (rows // pe) * (cols // simd)
    for k, line in enumerate(lines):
        assert len(line) == -(-pe * simd * width // 4)
        word, (nf, sf) = int(line, 16), divmod(k, cols // simd)
        for p in range(pe):
            for i in range(simd):
                code = (word >> ((p * simd + i) * width)) & ((1 << width) - 1)
                w[nf * pe + p, sf * simd + i] = code - (code >> (width - 1) << width)
    return w


@pytest.mark.parametrize("pe, simd", [(4, 1), (16, 1), (1, 1), (2, 1)])
def test_rom_files_hold_the_weights_in_fold_order(graph, tmp_path, pe, simd):
    ir = fold(lower(graph), pe, simd)
    rtl = emit_rtl(ir, tmp_path / "out", "m")
    layer = ir.layers[0]
    for unit, mv in (("mx", layer.x_mv), ("mh", layer.h_mv)):
        rom = rtl / "mem" / f"l0_{unit}.hex"
        if (mv.rows // mv.pe) * (mv.cols // mv.simd) == 1:
            assert not rom.exists()
            continue
        got = _rom_weights(rom.read_text(), mv.rows, mv.cols, mv.pe, mv.simd,
                           mv.weight_type.width)
        assert np.array_equal(got, mv.weights)


def test_templates_refuse_missing_values(graph):
    ctx = context(lower(graph), "m")
    del ctx["top"]["instances"][1]["name"]  # the first gate of the engine
    with pytest.raises(jinja2.UndefinedError):
        render("rtl/hwgen_top.sv.j2", ctx)


def _bound(top: str, name: str) -> list:
    """Return the values bound to parameter name in a generated hwgen_top.sv, in order."""
    return [int(v) for v in re.findall(rf"\.{name}\((\d+)\)", top)]


def _lut_latency(a: int, b: int) -> int:
    """hwgen_mul.sv's header: the partial products' register, then one register per two adder
    levels over ceil(min(a, b) / 2) slices."""
    levels = ((min(a, b) + 1) // 2 - 1).bit_length()
    return 1 + (levels + 1) // 2


def _signed(t) -> int:
    return t.width + (not t.signed)


@pytest.mark.parametrize("weight, choice", [(5, "auto"), (4, "auto"), (5, "lut"), (4, "dsp")])
def test_multipliers_bind_each_products_style(tmp_path, weight, choice):
    """auto: logic for a product whose narrower operand (as a signed number) has at most 4 bits:
    here the matrix units' and the head's when their weights have 4 bits; the cell's and
    hidden's 7..9-bit products always (hwgen.cores.elementwise_mul_style). lut and dsp: every
    product alike."""
    torch.manual_seed(1)
    m = QuantClassifier(3, 4, 3, LSTMWidths(weight=weight, sigmoid=6), 4).eval()
    export_model(m, torch.randn(1, 5, 3), tmp_path / "m.onnx")
    ir = fold(lower(load_model(tmp_path / "m.onnx")), 4, 1, multipliers=choice)
    top = (emit_rtl(ir, tmp_path / "out", "m") / "hwgen_top.sv").read_text()
    layer = ir.layers[0]
    units = {"MX": layer.x_mv, "MH": layer.h_mv, "HD": ir.head.matvec}
    for prefix, mv in units.items():
        narrow = min(mv.weight_type.width, _signed(mv.in_type))
        want = {"lut": 1, "dsp": 0}.get(choice, int(narrow <= 4))
        assert _bound(top, f"{prefix}_MUL_STYLE") == [want], prefix
    assert [mv.weight_type.width for mv in units.values()] == [weight, weight, 4]
    elementwise = int(choice != "dsp")
    assert _bound(top, "CELL_MUL_STYLE") == _bound(top, "HID_MUL_STYLE") == [elementwise]
    o, t = layer.hidden.o_type.width + 1, layer.cell_tanh.out_type.width + 1
    assert (o, t) == (7, 9)  # uint6 sigmoid, int8 tanh: one more bit each
    assert _bound(top, "HID_MUL_LATENCY") == [_lut_latency(o, t) if elementwise else 1]
