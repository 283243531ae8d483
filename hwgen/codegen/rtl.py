"""Verilog generation: bind a LoweredModel's parameters and data to the cores in templates/rtl/lib.

Writes DIR/rtl/: hwgen_top.sv (generated), cores/*.sv (copied from templates/rtl/lib), files.f and design.json.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

from hwgen.codegen.env import TEMPLATES, render
from hwgen.gates import GATES, Gate
from hwgen.ir.graph import LoweredModel
from hwgen.passes.cycles import head_cycles, lstm_step_cycles
from hwgen.types import IntType, Rounding

ROUNDING_CODE = {Rounding.ROUND: 0, Rounding.FLOOR: 1, Rounding.CEIL: 2, Rounding.ROUND_TO_ZERO: 3}
CORES = ("hwgen_requant.sv", "hwgen_lut.sv", "hwgen_lut_vec.sv", "hwgen_mvu.sv", "hwgen_gate.sv",
         "hwgen_cell.sv", "hwgen_hidden.sv", "hwgen_head.sv", "hwgen_lstm_ctrl.sv")


def pack(values, width: int) -> str:
    """Return a SystemVerilog literal packing values (element k at [k*width +: width], 2's compl.)."""
    flat = [int(v) for v in np.asarray(values, dtype=np.int64).reshape(-1)]
    mask = (1 << width) - 1
    word = 0
    for k, v in enumerate(flat):
        word |= (v & mask) << (k * width)
    total = max(1, len(flat) * width)
    return f"{total}'h{word:x}"


def _bit(flag: bool) -> int:
    return 1 if flag else 0


def _mv(name: str, mv) -> dict:
    return {"name": name, "rows": mv.rows, "cols": mv.cols, "pe": mv.pe, "simd": mv.simd,
            "weight_width": mv.weight_type.width, "in_width": mv.in_type.width,
            "in_signed": _bit(mv.in_type.signed), "acc_width": mv.acc_type.width,
            "weights": pack(mv.weights, mv.weight_type.width)}


def _gate(layer, gate: Gate, block: int) -> dict:
    s, lut = layer.sums[gate], layer.luts[gate]
    bias = s.bias if s.bias is not None else np.zeros(layer.hidden_size, dtype=np.int64)
    acc = s.out.type
    return {"name": gate.short, "block": block, "x_shift": s.x_shift, "h_shift": s.h_shift,
            "sum_width": s.sum_type.width, "bias": pack(bias, s.sum_type.width),
            "acc_shift": acc.exp - s.sum_type.exp, "rounding": ROUNDING_CODE[s.out.rounding],
            "acc_width": acc.width, "acc_signed": _bit(acc.signed), "acc_min": acc.min,
            "acc_max": acc.max, "act_width": lut.out_type.width,
            "table": pack(lut.table, lut.out_type.width)}


def _port(t: IntType, count: int, **extra) -> dict:
    return {"count": count, "width": t.width, "signed": _bit(t.signed), "min": t.min, "max": t.max,
            "type": t.describe(), **extra}


def context(model: LoweredModel, source: str) -> dict:
    """Return the template context of a lowered single-layer model."""
    layer = model.layers[0]
    cu, hid = layer.cell, layer.hidden
    c = cu.cell.type
    gates = [_gate(layer, g, b) for b, g in enumerate(layer.x_mv.gates)]
    ctx = {
        "source": source, "hidden": layer.hidden_size,
        "x": _port(model.input.type, layer.input_size), "h": _port(hid.out.type, layer.hidden_size),
        "x_mv": _mv("mx", layer.x_mv), "h_mv": _mv("mh", layer.h_mv), "gates": gates,
        "cell": {"f_width": cu.f_type.width, "f_signed": _bit(cu.f_type.signed),
                 "i_width": cu.i_type.width, "i_signed": _bit(cu.i_type.signed),
                 "g_width": cu.g_type.width, "g_signed": _bit(cu.g_type.signed),
                 "c_width": c.width, "c_signed": _bit(c.signed), "c_min": c.min, "c_max": c.max,
                 "fc_shift": c.exp - (cu.f_type.exp + c.exp),
                 "ig_shift": c.exp - (cu.i_type.exp + cu.g_type.exp),
                 "rounding": ROUNDING_CODE[cu.cell.rounding], "cifg": _bit(cu.cifg),
                 "one": cu.one_code, "f_source": "act_i" if cu.cifg else "act_f"},
        "tanh": {"depth": len(layer.cell_tanh.table), "out_width": layer.cell_tanh.out_type.width,
                 "table": pack(layer.cell_tanh.table, layer.cell_tanh.out_type.width)},
        "hid": {"o_width": hid.o_type.width, "o_signed": _bit(hid.o_type.signed),
                "t_signed": _bit(hid.tanh_type.signed),
                "shift": hid.out.type.exp - (hid.o_type.exp + hid.tanh_type.exp),
                "rounding": ROUNDING_CODE[hid.out.rounding]},
        "head": None,
    }
    if model.head is not None:
        hd = model.head
        bias = hd.bias if hd.bias is not None else np.zeros(hd.matvec.rows, dtype=np.int64)
        ctx["head"] = {"classes": hd.matvec.rows, "weight_width": hd.matvec.weight_type.width,
                       "weights": pack(hd.matvec.weights, hd.matvec.weight_type.width),
                       "acc_width": hd.matvec.acc_type.width, "mv_shift": hd.mv_shift,
                       "score_width": hd.score_type.width,
                       "bias": pack(bias, hd.score_type.width)}
        ctx["out"] = _port(hd.score_type, hd.matvec.rows, kind="scores")
        ctx["class_width"] = max(1, math.ceil(math.log2(hd.matvec.rows)))
    else:
        ctx["out"] = _port(hid.out.type, layer.hidden_size, kind="hidden")
        ctx["class_width"] = 1
    return ctx


def design_description(model: LoweredModel, ctx: dict, batch_first: bool) -> dict:
    """Return design.json: the stream formats and the cycle model of the generated top."""
    layer = model.layers[0]
    out_type = model.head.score_type if model.head is not None else layer.hidden.out.type
    return {
        "top": "hwgen_top",
        "input": {**model.input.type.to_dict(), "count": layer.input_size,
                  "rounding": model.input.rounding.value},
        "output": {**out_type.to_dict(), "count": ctx["out"]["count"],
                   "kind": ctx["out"]["kind"]},
        "class_width": ctx["class_width"],
        "batch_first": batch_first,
        "cycles": {"per_step": lstm_step_cycles(layer, emit=model.head is None),
                   "head": head_cycles() if model.head is not None else 0},
    }


def emit_rtl(model: LoweredModel, out_dir, source: str, batch_first: bool) -> Path:
    """Write the RTL of a lowered model into out_dir/rtl; return that folder."""
    rtl = Path(out_dir) / "rtl"
    tmp = Path(str(rtl) + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "cores").mkdir(parents=True)
    for core in CORES:
        shutil.copyfile(TEMPLATES / "rtl" / "lib" / core, tmp / "cores" / core)
    ctx = context(model, source)
    (tmp / "hwgen_top.sv").write_text(render("rtl/hwgen_top.sv.j2", ctx))
    (tmp / "files.f").write_text("".join(f"cores/{c}\n" for c in CORES) + "hwgen_top.sv\n")
    desc = design_description(model, ctx, batch_first)
    (tmp / "design.json").write_text(json.dumps(desc, indent=2, sort_keys=True) + "\n")
    (tmp / "ir.txt").write_text(model.dump())
    if rtl.exists():
        shutil.rmtree(rtl)
    os.replace(tmp, rtl)  # the folder appears whole or not at all
    return rtl


__all__ = ["emit_rtl", "context", "pack", "GATES"]
