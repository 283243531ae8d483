"""HLS C++ generation: bind a LoweredModel to the header-only cores in templates/hls/lib.

Writes DIR/hls/: hwgen_config.h (config structs + data), hwgen_top.h / hwgen_top.cpp (stream
formats and the top function), the copied library headers, tb.cpp (the C-simulation testbench),
build.tcl (Vitis HLS synthesis and export), design.json (as for the RTL) and ir.txt. Every
direction of every stack layer gets its own config structs; hwgen_stack.h holds the stack, the
sequence buffer of bidirectional designs and the top. A model with initial-state inputs
(model.states) gets a state packet type (hwgen_state.h) and a second input stream, and its
directions are bound to their slices of that packet.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from hwgen.codegen.design import (GateRows, design_description, gate_rows, ports,
                                  state_description)
from hwgen.codegen.env import TEMPLATES, render, safe_text
from hwgen.parts import DEFAULT_CLOCK_NS, DEFAULT_PART, clock_text, parse_clock_ns, parse_part
from hwgen.codegen.folder import publish
from hwgen.ir.graph import LoweredModel
from hwgen.reference.gru import GRUGate
from hwgen.types import HwgenError, IntType, type_for_range

LIB = ("hls_stream_sim.h", "hwgen_kernels.h", "hwgen_state.h", "hwgen_lstm.h",
       "hwgen_rnn.h", "hwgen_gru.h", "hwgen_stack.h", "hwgen_embed.h")
GENERATED = {"hwgen_config.h": "hls/hwgen_config.h.j2", "hwgen_top.h": "hls/hwgen_top.h.j2",
             "hwgen_top.cpp": "hls/hwgen_top.cpp.j2", "build.tcl": "hls/build.tcl.j2"}
TOP = "hwgen_top"
MAX_DATA_WIDTH = 64  # data arrays are written as C++ integer literals
PER_LINE = 16


def _literal(value: int) -> str:
    value = int(value)
    return str(value) if -(1 << 31) < value < (1 << 31) else f"{value}LL"


def _array(values, t: IntType, where: str) -> str:
    """Return a C++ brace initialiser of integer codes of type t (nested for a 2-D array)."""
    arr = np.asarray(values, dtype=np.int64)
    if t.width > MAX_DATA_WIDTH:
        raise HwgenError(f"{where}: {t.describe()} data is wider than {MAX_DATA_WIDTH} bits")
    if arr.ndim == 2:
        rows = ",\n    ".join(_array(row, t, where) for row in arr)
        return "{\n    " + rows + "}"
    flat = [_literal(v) for v in arr.reshape(-1)]
    lines = [", ".join(flat[k:k + PER_LINE]) for k in range(0, len(flat), PER_LINE)]
    return "{" + ",\n    ".join(lines) + "}"


def _mv(name: str, mv) -> dict:
    return {"name": name, "comment": mv.dump(), "rows": mv.rows, "cols": mv.cols, "pe": mv.pe,
            "simd": mv.simd, "in_t": mv.in_type.hls(), "w_t": mv.weight_type.hls(),
            "acc_t": mv.acc_type.hls(), "weights": _array(mv.weights, mv.weight_type, mv.name)}


def _gate(name: str, rows, hidden: int) -> dict:
    """Return a gate config: its sum, quantizer and table, on rows first_row + j (rows: the
    gate's GateRows)."""
    s, lut = rows.sum, rows.lut
    acc = s.out.type
    bias = s.bias if s.bias is not None else np.zeros(hidden, dtype=np.int64)
    return {"name": name, "comment": s.dump(), "first_row": rows.first, "hidden": hidden,
            "x_shift": s.x_shift, "h_shift": s.h_shift, "sum_t": s.sum_type.hls(),
            "bias": _array(bias, s.sum_type, s.name), "acc_t": acc.hls(),
            "acc_shift": acc.exp - s.sum_type.exp, "rounding": s.out.rounding.code,
            "acc_min": acc.min, "acc_max": acc.max, "act_t": lut.out_type.hls(),
            "depth": len(lut.table), "table": _array(lut.table, lut.out_type, lut.name)}


def _forget_type(cu) -> IntType:
    """Return the type of the forget activation: its gate's, or under CIFG that of ONE - i."""
    if not cu.cifg:
        return cu.f_type
    return type_for_range(cu.one_code - cu.i_type.max, cu.one_code - cu.i_type.min)


def _direction(layer) -> dict:
    """Return what every direction config holds: sizes, types and its two matrix units."""
    name = layer.name
    return {"kind": layer.kind, "name": f"{name}_config", "n_in": layer.input_size,
            "hidden": layer.hidden_size, "reverse": "true" if layer.reverse else "false",
            "comment": f"layer {name}: {layer.kind} stack={layer.index} I={layer.input_size} "
                       f"H={layer.hidden_size} reverse={int(layer.reverse)}",
            "x_t": layer.x_mv.in_type.hls(), "h_t": layer.state.h_type.hls(),
            "matvecs": [_mv(f"{name}_x_mv", layer.x_mv), _mv(f"{name}_h_mv", layer.h_mv)]}


def _lstm(layer) -> dict:
    """Return the config context of one LSTM direction."""
    name, hidden = layer.name, layer.hidden_size
    cu, hid, tanh = layer.cell, layer.hidden, layer.cell_tanh
    c = cu.cell.type
    bank = gate_rows(layer)
    gates = [_gate(f"{name}_gate_{rows.sum.gate.short}", rows, hidden) for rows in bank]
    roles = [(f"gate_{rows.sum.gate.short}", gate["name"]) for rows, gate in zip(bank, gates)]
    return {**_direction(layer), "gates": gates, "roles": roles,
            "cifg": "true" if cu.cifg else "false", "c_t": c.hls(),
            "cell_update": {"name": f"{name}_cell", "comment": cu.dump(),
                     "f_t": _forget_type(cu).hls(), "i_t": cu.i_type.hls(),
                     "g_t": cu.g_type.hls(), "c_t": c.hls(),
                     "fc_shift": c.exp - (cu.f_type.exp + c.exp),
                     "ig_shift": c.exp - (cu.i_type.exp + cu.g_type.exp),
                     "rounding": cu.cell.rounding.code, "c_min": c.min,
                     "c_max": c.max, "one": cu.one_code},
            "tanh": {"name": f"{name}_tanh_c", "comment": tanh.dump(),
                     "in_t": tanh.in_type.hls(), "out_t": tanh.out_type.hls(),
                     "in_min": tanh.in_type.min, "depth": len(tanh.table),
                     "table": _array(tanh.table, tanh.out_type, tanh.name)},
            "hid": {"name": f"{name}_hidden", "comment": hid.dump(), "o_t": hid.o_type.hls(),
                    "t_t": hid.tanh_type.hls(), "h_t": hid.out.type.hls(),
                    "shift": hid.out.type.exp - (hid.o_type.exp + hid.tanh_type.exp),
                    "rounding": hid.out.rounding.code, "h_min": hid.out.type.min,
                    "h_max": hid.out.type.max}}


def _rnn(layer) -> dict:
    """Return the config context of one plain RNN direction."""
    gate = _gate(f"{layer.name}_sum", gate_rows(layer)[0], layer.hidden_size)
    return {**_direction(layer), "gates": [gate], "sum": gate["name"]}


def _gru_new(layer) -> dict:
    """Return a GRU direction's hn, new-gate and blend config (hwgen_gru.h's GRU config N)."""
    hn, ns, b, lut = layer.hidden_new, layer.new_sum, layer.blend, layer.luts[GRUGate.NEW]
    hidden, hn_t, n_acc, h = layer.hidden_size, hn.out.type, ns.out.type, b.out.type
    zeros = np.zeros(hidden, dtype=np.int64)
    return {"name": f"{layer.name}_gru", "comments": [hn.dump(), ns.dump(), lut.dump(), b.dump()],
            "hidden": hidden, "hn_shift": hn.h_shift, "hn_sum_t": hn.sum_type.hls(),
            "hn_bias": _array(hn.bias if hn.bias is not None else zeros, hn.sum_type, hn.name),
            "hn_t": hn_t.hls(), "hn_acc_shift": hn_t.exp - hn.sum_type.exp,
            "hn_rounding": hn.out.rounding.code, "hn_min": hn_t.min, "hn_max": hn_t.max,
            "x_shift": ns.x_shift, "rh_shift": ns.rh_shift, "n_sum_t": ns.sum_type.hls(),
            "n_bias": _array(ns.bias if ns.bias is not None else zeros, ns.sum_type, ns.name),
            "n_acc_t": n_acc.hls(), "n_acc_shift": n_acc.exp - ns.sum_type.exp,
            "n_rounding": ns.out.rounding.code, "n_acc_min": n_acc.min, "n_acc_max": n_acc.max,
            "n_t": lut.out_type.hls(), "depth": len(lut.table),
            "n_table": _array(lut.table, lut.out_type, lut.name), "one": b.one_code,
            "omz_t": b.one_minus_z_type.hls(), "z_shift": b.z_shift, "nz_shift": b.nz_shift,
            "zh_shift": b.zh_shift, "b_sum_t": b.sum_type.hls(), "b_shift": h.exp - b.sum_type.exp,
            "b_rounding": b.out.rounding.code, "h_min": h.min, "h_max": h.max}


def _gru(layer) -> dict:
    """Return the config context of one GRU direction: the reset and update gates, the rest."""
    name, hidden = layer.name, layer.hidden_size
    gates = [_gate(f"{name}_gate_{g.short}", GateRows(layer.sums[g], layer.luts[g],
                                                      layer.rows(g).start, layer.rows(g).stop),
                   hidden) for g in (GRUGate.RESET, GRUGate.UPDATE)]
    return {**_direction(layer), "gates": gates, "gru": _gru_new(layer)}


DIRECTIONS = {"lstm": _lstm, "rnn": _rnn, "gru": _gru}


def _ports(model: LoweredModel) -> dict:
    """Return the input and output stream formats (with their C++ types) and the class width."""
    desc = ports(model)
    desc["x"]["ctype"] = model.input.type.hls()
    desc["out"]["ctype"] = model.out_type.hls()
    return desc


def _head(hd) -> dict:
    bias = hd.bias if hd.bias is not None else np.zeros(hd.matvec.rows, dtype=np.int64)
    return {"name": "head_config", "comment": hd.dump(), "mv": _mv("head_mv", hd.matvec),
            "per_step": hd.per_step,
            "type": "hwgen::per_step<head_config>" if hd.per_step else "head_config",
            "mv_shift": hd.mv_shift, "score_t": hd.score_type.hls(),
            "classes": hd.matvec.rows, "bias": _array(bias, hd.score_type, hd.name)}


def _embed(model: LoweredModel):
    """Return the embedding config's context (hwgen_embed.h), or None without one."""
    e = model.embed
    if e is None:
        return None
    return {"name": "embed_config", "comment": e.dump(), "token_t": e.token_type.hls(),
            "y_t": e.out.type.hls(), "vocab": e.vocab, "dim": e.dim,
            "table": _array(e.table_io, e.out.type, e.name)}


def _state(model: LoweredModel):
    """Return the state packet's context (its slices and C++ types), or None without states."""
    if not model.states:
        return None
    desc = state_description(model)
    for s, d in zip(model.states, desc["slices"]):
        d["ctype"], d["type"] = s.quant.type.hls(), s.quant.type.describe()
        d["tensor"] = safe_text(d["tensor"])  # a graph input's name, shown in a comment
        d["last_bit"] = d["offset"] + d["count"] * d["width"] - 1
    return desc


def _binding(model: LoweredModel, layer) -> str:
    """Return a direction's template instance: its config, then (with states) its h/c sources."""
    args = [f"{layer.name}_config"]
    if model.states:
        parts = ("h", "c") if layer.kind == "lstm" else ("h",)
        for part in parts:
            s = model.state_of(layer.name, part)
            args.append("hwgen::zero_init" if s is None
                        else f"hwgen::state_slice<{model.states.index(s)}>")
    return f"{layer.kind}_dir<{', '.join(args)}>"


def context(model: LoweredModel, source: str, part: str = DEFAULT_PART,
            clock_ns: float = DEFAULT_CLOCK_NS) -> dict:
    """Return the template context of a lowered model: its directions, stack, head and ports;
    part (validated by hwgen.parts) and clock_ns go into build.tcl."""
    for layer in model.layers:
        if layer.kind not in DIRECTIONS:
            raise HwgenError(f"layer {layer.name}: the HLS backend has no {layer.kind!r} layers")
    buffering = (f"buffers up to {model.max_steps} steps per sequence" if model.max_steps
                 else "streams one timestep per call")
    ctx = {"source": safe_text(source), "top": TOP, "max_steps": model.max_steps,
           "buffering": buffering,
           "directions": [{**DIRECTIONS[layer.kind](layer), "slots": model.interleave}
                          for layer in model.layers],
           "stack": [[_binding(model, d) for d in group] for group in model.stack()],
           "state": _state(model), "embed": _embed(model),
           "stateful": "true" if model.stateful else "false",
           "head": _head(model.head) if model.head is not None else None,
           "part": parse_part(part).name,
           "clock_ns": clock_text(parse_clock_ns(clock_ns)), "project": "hwgen_prj", "tcl_name": "build.tcl",
           **_ports(model)}
    if ctx["head"] is not None:
        ctx["head"]["class_t"] = model.class_type.hls()
    return ctx


def _write_hls(tmp: Path, model: LoweredModel, ctx: dict) -> None:
    """Write the HLS files of a design context into the empty folder tmp."""
    for header in LIB:
        shutil.copyfile(TEMPLATES / "hls" / "lib" / header, tmp / header)
    shutil.copyfile(TEMPLATES / "hls" / "tb.cpp", tmp / "tb.cpp")
    for target, template in GENERATED.items():
        (tmp / target).write_text(render(template, ctx))
    desc = design_description(model)
    (tmp / "design.json").write_text(json.dumps(desc, indent=2, sort_keys=True) + "\n")
    (tmp / "ir.txt").write_text(model.dump())


def emit_hls(model: LoweredModel, out_dir, source: str, part: str = DEFAULT_PART,
             clock_ns: float = DEFAULT_CLOCK_NS) -> Path:
    """Write the HLS C++ of a lowered model into out_dir/hls; return that folder.

    The folder appears whole or not at all; source (the input's name) is kept as safe_text.
    """
    ctx = context(model, source, part, clock_ns)
    return publish(Path(out_dir) / "hls", lambda tmp: _write_hls(tmp, model, ctx))


__all__ = ["emit_hls", "context"]
