"""Verilog generation: bind a LoweredModel's parameters and data to the cores in templates/rtl/lib.

Every direction of the stack becomes one generated engine module (hwgen_<layer>.sv: controller,
matrix-vector units, gates, cell; the last one may carry the head); the generated hwgen_top.sv only
wires engines and stream cores. A unidirectional layer streams into the next one; a bidirectional
layer is bcast -> [forward engine -> buffer] and [reversing buffer -> reverse engine -> reversing
buffer] -> zip (forward's h in the low bits); a head after a bidirectional layer reads the zip's
last element through pick_last.

A model with initial-state inputs (model.states) gets a second input stream, s_state_*: one
state word per sequence, its slices in model.states order (see state_description). A
hwgen_state_bcast hands the word to every direction with a slice, and each of those engines
starts its sequence from it through a hwgen_state_init core; the word transfers once all have.
Designs without states are generated exactly as before.

Writes DIR/rtl/: the generated modules, cores/*.sv (copied from templates/rtl/lib), files.f,
design.json and ir.txt.
"""
from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np

from hwgen.codegen.design import design_description, out_type, state_description
from hwgen.codegen.env import TEMPLATES, render, safe_text
from hwgen.codegen.folder import publish
from hwgen.gates import GATES
from hwgen.ir.graph import LoweredModel
from hwgen.types import HwgenError, IntType, Rounding

ROUNDING_CODE = {Rounding.ROUND: 0, Rounding.FLOOR: 1, Rounding.CEIL: 2, Rounding.ROUND_TO_ZERO: 3}
# Stream cores chain a stack's engines; a single forward layer needs none of them.
STREAM_CORES = ("hwgen_stream_bcast.sv", "hwgen_seq_buf.sv", "hwgen_stream_zip.sv",
                "hwgen_pick_last.sv", "hwgen_state_bcast.sv", "hwgen_state_init.sv")
CORES = ("hwgen_requant.sv", "hwgen_lut.sv", "hwgen_lut_vec.sv", "hwgen_mvu.sv", "hwgen_gate.sv",
         "hwgen_cell.sv", "hwgen_hidden.sv", "hwgen_head.sv", "hwgen_lstm_ctrl.sv") + STREAM_CORES
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def _gate(s, lut, block: int, hidden: int) -> dict:
    """Return the parameters of one hwgen_gate: gate sum s, then table lut."""
    bias = s.bias if s.bias is not None else np.zeros(hidden, dtype=np.int64)
    acc = s.out.type
    return {"name": s.gate.short, "block": block, "x_shift": s.x_shift, "h_shift": s.h_shift,
            "sum_width": s.sum_type.width, "bias": pack(bias, s.sum_type.width),
            "acc_shift": acc.exp - s.sum_type.exp, "rounding": ROUNDING_CODE[s.out.rounding],
            "acc_width": acc.width, "acc_signed": _bit(acc.signed), "acc_min": acc.min,
            "acc_max": acc.max, "act_width": lut.out_type.width,
            "table": pack(lut.table, lut.out_type.width)}


def _port(t: IntType, count: int, **extra) -> dict:
    return {"count": count, "width": t.width, "signed": _bit(t.signed), "min": t.min, "max": t.max,
            "type": t.describe(), **extra}


def _head(hd) -> dict:
    bias = hd.bias if hd.bias is not None else np.zeros(hd.matvec.rows, dtype=np.int64)
    return {"classes": hd.matvec.rows, "features": hd.matvec.cols,
            "in_width": hd.matvec.in_type.width, "in_signed": _bit(hd.matvec.in_type.signed),
            "weight_width": hd.matvec.weight_type.width,
            "weights": pack(hd.matvec.weights, hd.matvec.weight_type.width),
            "acc_width": hd.matvec.acc_type.width, "mv_shift": hd.mv_shift,
            "score_width": hd.score_type.width, "bias": pack(bias, hd.score_type.width)}


def _lstm_stages(layer) -> dict:
    """Return the gates, cell, tanh(c) and hidden-state parameters of an LSTM direction."""
    cu, hid = layer.cell, layer.hidden
    c = cu.cell.type
    return {
        "gates": [_gate(layer.sums[g], layer.luts[g], b, layer.hidden_size)
                  for b, g in enumerate(layer.x_mv.gates)],
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
    }


def _class_width(head) -> int:
    return max(1, math.ceil(math.log2(head.matvec.rows))) if head is not None else 1


def _init(model: LoweredModel, layer) -> dict | None:
    """Return which of a direction's parts start from the state word ({"h": bool, "c": bool}),
    or None when both start at zero."""
    parts = {p: model.state_of(layer.name, p) is not None for p in ("h", "c")}
    return parts if any(parts.values()) else None


def _engine(layer, head, init=None) -> dict:
    """Return the template context of one direction's engine (head: the Head it carries or None;
    init: what _init says)."""
    if not IDENTIFIER.fullmatch(layer.name):
        raise HwgenError(f"layer {layer.name!r}: its name is not a Verilog identifier")
    h_type = layer.state.h_type
    h = _port(h_type, layer.hidden_size, kind="hidden")
    e = {"module": f"hwgen_{layer.name}", "name": layer.name, "index": layer.index,
         "kind": layer.kind, "reverse": layer.reverse, "hidden": layer.hidden_size,
         "x": _port(layer.x_mv.in_type, layer.input_size), "h": h, "init": init,
         "x_mv": _mv("mx", layer.x_mv), "h_mv": _mv("mh", layer.h_mv),
         "head": _head(head) if head is not None else None, "class_width": _class_width(head),
         "out": _port(head.score_type, head.matvec.rows, kind="scores") if head else h}
    if layer.kind == "rnn":
        return {**e, "gates": [_gate(layer.sum, layer.act, 0, layer.hidden_size)]}
    return {**e, **_lstm_stages(layer)}


def _ports(prefix: str, stream: str) -> list:
    """Return the (port, signal) pairs binding a core's AXI-stream prefix_* to stream_*."""
    signals = ("tdata", "tvalid", "tlast", "tready")
    return [(f"{prefix}_{sig}", f"{stream}_{sig}") for sig in signals]


class _Netlist:
    """The generated top being built: streams (wire bundles), instances, assignments."""

    def __init__(self):
        self.streams, self.instances, self.assigns, self.wires = [], [], [], []
        self.state_ports = {}

    def stream(self, name: str, width: int, tlast: bool = True) -> str:
        self.streams.append({"name": name, "width": width, "tlast": tlast})
        return name

    def add(self, module: str, name: str, params: list, ports: list) -> None:
        self.instances.append({"module": module, "name": name, "params": params, "ports": ports})

    def engine(self, e: dict, src: str, dst: str) -> None:
        ports = [_ports("s", src), _ports("m", dst)]
        if e["head"]:
            ports.append([("m_tclass", "m_tclass")])
        if e["init"]:
            ports.append(self.state_ports[e["name"]])
        self.add(e["module"], e["name"], [], ports)

    def state(self, model: LoweredModel) -> None:
        """Add the state word's broadcast to every direction with a slice; keep their ports."""
        desc = state_description(model)
        takers = list(dict.fromkeys(s.layer for s in model.states))
        self.state_ports = {name: [] for name in takers}
        for s, d in zip(model.states, desc["slices"]):
            bits = f"s_state_tdata[{d['offset'] + d['count'] * d['width'] - 1}:{d['offset']}]"
            self.state_ports[s.layer].append((f"st_{s.part}", bits))
        for k, name in enumerate(takers):
            self.state_ports[name] += [("st_tvalid", f"state_tvalid[{k}]"),
                                       ("st_tready", f"state_tready[{k}]")]
        self.wires.append({"name": "state", "count": len(takers)})
        self.add("hwgen_state_bcast", "state_bcast", [("N", len(takers))], [
            [("s_tvalid", "s_state_tvalid"), ("s_tready", "s_state_tready")],
            [("m_tvalid", "state_tvalid"), ("m_tready", "state_tready")]])

    def bidirectional(self, fwd: dict, rev: dict, src: str, dst: str, depth: int) -> None:
        """Add bcast -> [fwd -> buffer], [reversing buffer -> rev -> reversing buffer] -> zip."""
        f, r = fwd["name"], rev["name"]
        x_w, h_w = fwd["x"]["count"] * fwd["x"]["width"], fwd["h"]["count"] * fwd["h"]["width"]
        fx, rx_seq, rx = (self.stream(n, x_w) for n in (f"{f}_x", f"{r}_x_seq", f"{r}_x"))
        fh, rh, fh_seq, rh_seq = (self.stream(n, h_w) for n in (f"{f}_h", f"{r}_h", f"{f}_h_seq",
                                                                f"{r}_h_seq"))
        self.add("hwgen_stream_bcast", f"{f}_bcast", [("W", x_w)],
                 [_ports("s", src), _ports("ma", fx), _ports("mb", rx_seq)])
        self.engine(fwd, fx, fh)
        self.add("hwgen_seq_buf", f"{f}_h_buf", _buffer(h_w, depth, False),
                 [_ports("s", fh), _ports("m", fh_seq)])
        self.add("hwgen_seq_buf", f"{r}_x_buf", _buffer(x_w, depth, True),
                 [_ports("s", rx_seq), _ports("m", rx)])
        self.engine(rev, rx, rh)
        self.add("hwgen_seq_buf", f"{r}_h_buf", _buffer(h_w, depth, True),
                 [_ports("s", rh), _ports("m", rh_seq)])
        self.add("hwgen_stream_zip", f"{f}_zip", [("WA", h_w), ("WB", h_w)],
                 [_ports("sa", fh_seq), _ports("sb", rh_seq), _ports("m", dst)])

    def head(self, hd: dict, class_width: int, src: str) -> None:
        """Add pick_last -> hwgen_head -> the design output (m_*, m_tclass)."""
        width = hd["features"] * hd["in_width"]
        last = self.stream("last", width, tlast=False)
        self.add("hwgen_pick_last", "pick_last", [("W", width)],
                 [_ports("s", src), [("m_tdata", "last_tdata"), ("m_tvalid", "last_tvalid"),
                                     ("m_tlast", "m_tlast"), ("m_tready", "last_tready")]])
        params = [("C", hd["classes"]), ("H", hd["features"]), ("IN_W", hd["in_width"]),
                  ("IN_SIGNED", f"1'b{hd['in_signed']}"), ("W_W", hd["weight_width"]),
                  ("WEIGHTS", hd["weights"]), ("ACC_W", hd["acc_width"]),
                  ("MV_SHIFT", hd["mv_shift"]), ("SCORE_W", hd["score_width"]),
                  ("BIAS", hd["bias"]), ("CLASS_W", class_width)]
        self.add("hwgen_head", "head", params, [
            [("in_data", "last_tdata"), ("in_valid", "last_tvalid"), ("in_ready", "last_tready")],
            [("scores", "m_tdata"), ("class_idx", "m_tclass"), ("out_valid", "m_tvalid"),
             ("out_ready", "m_tready")]])


def _buffer(width: int, depth: int, reverse: bool) -> list:
    return [("W", width), ("DEPTH", depth), ("REVERSE", f"1'b{_bit(reverse)}"), ("BANKS", 2)]


def _top(model: LoweredModel, engines: dict, class_width: int) -> dict:
    """Return the generated top's netlist: engines and stream cores chained from s_* to m_*."""
    net = _Netlist()
    if model.states:
        net.state(model)
    stack = model.stack()
    src = "s"
    for k, directions in enumerate(stack):
        fwd = engines[directions[0].name]
        if k == len(stack) - 1 and (len(directions) == 1 or model.head is None):
            dst = "m"
        else:  # both directions' h side by side, forward's in the low bits
            dst = net.stream(f"y{k}", sum(engines[d.name]["h"]["count"] * fwd["h"]["width"]
                                          for d in directions))
        if len(directions) == 1:
            net.engine(fwd, src, dst)
        else:
            net.bidirectional(fwd, engines[directions[1].name], src, dst, model.max_steps)
        src = dst
    if src != "m":  # a head after a bidirectional layer
        net.head(_head(model.head), class_width, src)
    elif model.head is None:
        net.assigns.append(("m_tclass", "'0"))
    comment = [line for line in model.dump().splitlines() if line.startswith(("layer", "max_"))]
    return {"engines": list(engines), "streams": net.streams, "instances": net.instances,
            "assigns": net.assigns, "comment": comment, "wires": net.wires}


def context(model: LoweredModel, source: str) -> dict:
    """Return the template context of a lowered model: its engines and the top's netlist.

    "x", "out" and "class_width" describe the top's ports (the HLS backend reads them too).
    """
    stack = model.stack()
    last = stack[-1]
    head_engine = model.head if len(last) == 1 else None
    engines = {layer.name: _engine(layer, head_engine if layer is last[0] else None,
                                   _init(model, layer))
               for layer in model.layers}
    class_width = _class_width(model.head)
    if model.head is not None:
        out = _port(model.head.score_type, model.head.matvec.rows, kind="scores")
    else:
        out = _port(out_type(model), sum(layer.hidden_size for layer in last), kind="hidden")
    state = state_description(model) if model.states else None
    return {"source": safe_text(source),
            "x": _port(model.input.type, model.layers[0].input_size),
            "out": out, "class_width": class_width, "engines": list(engines.values()),
            "state": state, "top": _top(model, engines, class_width)}


def cores(ctx: dict) -> tuple:
    """Return the hand-written cores (file names, in CORES order) a design context uses."""
    top = {f"{i['module']}.sv" for i in ctx["top"]["instances"]}
    if ctx["state"]:
        top.add("hwgen_state_init.sv")  # in the engines with a slice of the state word
    return tuple(c for c in CORES if c not in STREAM_CORES or c in top)


def _write_rtl(tmp: Path, model: LoweredModel, ctx: dict, batch_first: bool) -> None:
    """Write the RTL files of a design context into the empty folder tmp."""
    (tmp / "cores").mkdir()
    used = cores(ctx)
    for core in used:
        shutil.copyfile(TEMPLATES / "rtl" / "lib" / core, tmp / "cores" / core)
    generated = []
    for e in ctx["engines"]:
        generated.append(f"{e['module']}.sv")
        (tmp / generated[-1]).write_text(render("rtl/hwgen_engine.sv.j2",
                                                {"source": ctx["source"], "e": e}))
    (tmp / "hwgen_top.sv").write_text(render("rtl/hwgen_top.sv.j2", ctx))
    (tmp / "files.f").write_text("".join(f"cores/{c}\n" for c in used)
                                 + "".join(f"{g}\n" for g in generated) + "hwgen_top.sv\n")
    desc = design_description(model, ctx, batch_first)
    (tmp / "design.json").write_text(json.dumps(desc, indent=2, sort_keys=True) + "\n")
    (tmp / "ir.txt").write_text(model.dump())


def emit_rtl(model: LoweredModel, out_dir, source: str, batch_first: bool) -> Path:
    """Write the RTL of a lowered model into out_dir/rtl; return that folder.

    The folder appears whole or not at all; source (the input's name) is kept as safe_text.
    """
    ctx = context(model, source)
    return publish(Path(out_dir) / "rtl", lambda tmp: _write_rtl(tmp, model, ctx, batch_first))


__all__ = ["emit_rtl", "context", "pack", "state_description", "GATES"]
