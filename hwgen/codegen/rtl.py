"""Verilog generation: bind a LoweredModel's parameters and data to the cores in templates/rtl/lib.

Every direction of the stack is, in the one generated module hwgen_top.sv, an instance of the
hand-written engine core of its kind (hwgen_lstm_engine or hwgen_rnn_engine: controller,
matrix-vector units, cell, optional head and initial state) and one hwgen_gate per gate on the
core's gate-bank port, joined by the direction's own wires (<layer>_x_acc, <layer>_acts, ...).
Python computes every parameter, literal, width and bus slice; the template only binds them.
hwgen_top.sv holds no logic: it wires engines, gates and stream cores. (There is no generated
module per direction: that extra level of hierarchy changes how Yosys maps the flattened design.) A
unidirectional layer streams into the next one; a bidirectional layer is bcast -> [forward engine
-> buffer] and [reversing buffer -> reverse engine -> reversing buffer] -> zip (forward's h in the
low bits); a head after a bidirectional layer reads the zip's last element through pick_last.
A per-step head (task per_step) is a hwgen_head_stream after the last engine, which emits h_t at
every step: every step's scores and class leave on m_*, m_tlast on a sequence's last step.

A token-input model (model.embed) gets a hwgen_embed between s_* and the first engine: the token
id in, its row of the first layer's input codes out (mem/embed_table.hex). A stateful model
(model.stateful) binds KEEP = 1 on every engine: h and c carry across s_tlast until rst.

A model with initial-state inputs (model.states) gets a second input stream, s_state_*: one
state word per sequence, its slices in model.states order (see state_description). A
hwgen_state_bcast hands the word to every direction with a slice, and each of those engines
starts its sequence from it through a hwgen_state_init core; the word transfers once all have.
Designs without states are generated exactly as before.

Data: every weight, bias and table is in a data file, never in a source: the matrix-vector units'
weights (<layer>_mx.hex, <layer>_mh.hex: a folded unit's ROM, a fully parallel unit's
constants), each gate's biases and activation table (<layer>_gate_<g>_bias.hex, _table.hex),
tanh(c)'s table (<layer>_tanh_c.hex) and the head's weights and biases (<layer>_head_w.hex and
_head_b.hex on an engine, head_w.hex and head_b.hex after the stack). They are $readmemh text
(rom_text) in DIR/rtl/mem/, named from validated layer names, listed in DIR/rtl/mem.f and
described in DIR/rtl/mem/manifest.json (hwgen.reload, which also rewrites them for a
model of the same shapes and widths). The sources name each file as "mem/<file>.hex", relative to
the folder a tool runs in: a tool run in DIR/rtl (e.g. `verilator -f files.f` there, or Yosys
reading the sources there) finds them as they are; one run elsewhere needs mem/ next to it,
which is what hwgen's runners do (hwgen.sim.tools.copy_memories: the Verilator simulation's run
folder, Yosys's DIR/synth/). No path outside DIR/rtl is written into a source, so a model gives
byte-identical files wherever it is built.

Writes DIR/rtl/: hwgen_top.sv, hwgen_axis_top.sv, README.md and package_ip.tcl
(hwgen.codegen.axis), cores/*.sv (copied from templates/rtl/lib), files.f, design.json, ir.txt,
mem/*.hex, mem/manifest.json and mem.f.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

from hwgen.codegen import axis
from hwgen.codegen.design import design_description, gate_rows, port, ports, state_description
from hwgen.codegen.env import TEMPLATES, render, safe_text
from hwgen.codegen.folder import publish
from hwgen.codegen.manifest import MANIFEST, manifest_text
from hwgen.cores import mvu_folds
from hwgen.passes.cycles import ilv_gap
from hwgen.passes.multipliers import (cell_multiplier_latency, cell_style, hidden_multiplier_latency,
                                      hidden_style, matvec_style)
from hwgen.gates import GATES, Gate
from hwgen.ir.graph import LoweredModel
from hwgen.reference.gru import GRUGate
from hwgen.parts import DEFAULT_PART, Part, parse_part
from hwgen.types import HwgenError, IntType

# Stream cores chain a stack's engines; a single forward layer needs none of them.
STREAM_CORES = ("hwgen_stream_bcast.sv", "hwgen_seq_buf.sv", "hwgen_stream_zip.sv",
                "hwgen_pick_last.sv", "hwgen_state_bcast.sv", "hwgen_head_stream.sv",
                "hwgen_embed.sv")
ENGINE_CORES = {"lstm": "hwgen_lstm_engine.sv", "rnn": "hwgen_rnn_engine.sv",
                "gru": "hwgen_gru_engine.sv"}
# a GRU engine's gate bank and its stages (listed when a design has one)
GRU_CORES = ("hwgen_gru_hn.sv", "hwgen_gru_prod.sv", "hwgen_gru_blend.sv", "hwgen_gru_cell.sv")
CORES = ("hwgen_const_vec.sv", "hwgen_requant.sv", "hwgen_lut.sv", "hwgen_lanes.sv",
         "hwgen_lane_sel.sv", "hwgen_lane_shift.sv", "hwgen_lut_vec.sv", "hwgen_mul_pp.sv", "hwgen_mul.sv",
         "hwgen_mvu.sv", "hwgen_gate.sv",
         "hwgen_cell.sv", "hwgen_hidden.sv", "hwgen_head.sv", "hwgen_lstm_ctrl.sv",
         "hwgen_lstm_ilv_ctrl.sv",
         "hwgen_state_init.sv") + GRU_CORES + tuple(ENGINE_CORES.values()) + STREAM_CORES + (
             axis.CORE,)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MEM_DIR = "mem"  # DIR/rtl/mem/: the data files (weights, biases, tables)
MEM_LIST = "mem.f"  # DIR/rtl/mem.f: their names relative to DIR/rtl, one a line
SCALAR = "logic"  # the SystemVerilog type of a one-bit control signal
# The LSTM engine's parameter giving the bit where a gate's activations sit on its gate bank.
LSB_PARAMETER = {Gate.INPUT: "I_LSB", Gate.FORGET: "F_LSB", Gate.CELL: "G_LSB",
                 Gate.OUTPUT: "O_LSB"}


def rom_text(weights, pe: int, simd: int, width: int) -> str:
    """Return the $readmemh text of a folded unit's weights (hwgen_mvu's ROM, see its header).

    weights is rows x cols; line k = nf*SF + sf holds the fold's PE x SIMD weights as one hex
    word, W[nf*PE + p][sf*SIMD + i] at bits [(p*SIMD + i)*width +: width], two's complement.
    """
    w = np.asarray(weights, dtype=np.int64)
    rows, cols = w.shape
    nf, sf = rows // pe, cols // simd
    folds = w.reshape(nf, pe, sf, simd).transpose(0, 2, 1, 3).reshape(nf * sf, pe * simd)
    codes = folds & np.int64((1 << width) - 1)
    bits = ((codes[..., None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8)
    packed = np.packbits(bits.reshape(nf * sf, -1), axis=1, bitorder="little")
    digits = -(-pe * simd * width // 4)
    return "".join(f"{int.from_bytes(row.tobytes(), 'little'):0{digits}x}\n" for row in packed)


def _flag(value: bool) -> str:
    return "1'b1" if value else "1'b0"


def _bus(width: int) -> str:
    """Return the SystemVerilog type of a `width`-bit bus (IntType renders it)."""
    return IntType(width, False).sv()


def _bits(lsb: int, width: int) -> str:
    """Return the part-select "[msb:lsb]" of `width` bits from bit lsb."""
    return f"[{lsb + width - 1}:{lsb}]"


def memory_file(stem: str) -> str:
    """Return the data file named stem ("<layer>_mx", ...), relative to DIR/rtl.

    Only validated identifiers make up the name (the layer names are checked by _engine).
    """
    if not IDENTIFIER.fullmatch(stem):
        raise HwgenError(f"no data file name for {stem!r}")
    return f"{MEM_DIR}/{stem}.hex"


def _data(stem: str, text: str, word_elements: int, element: IntType, holds: str) -> dict:
    """Return the data file <stem>.hex: its name, its text (words of word_elements `element`
    codes, one a line) and its manifest entry (hwgen.codegen.manifest); holds says what it is."""
    name = memory_file(stem)
    entry = {"file": name, "element": element.to_dict(), "words": text.count("\n"),
             "word_bits": word_elements * element.width, "holds": holds}
    return {"name": name, "text": text, "entry": entry}


def _rows(stem: str, values, per_line: int, element: IntType, holds: str) -> dict:
    """Return a data file of values, per_line of them a line (element i of a line at
    [i*width +: width])."""
    rows = np.asarray(values, dtype=np.int64).reshape(-1, per_line)
    return _data(stem, rom_text(rows, 1, per_line, element.width), per_line, element, holds)


def _param_file(data: dict) -> str:
    """Return a data file's name as a string parameter's value."""
    return f'"{data["name"]}"'


def _mv_data(stem: str, mv) -> dict:
    """Return a matrix-vector unit's weights file: a folded unit's ROM (one fold a line, see
    hwgen_mvu), a fully parallel unit's weights one a line (row-major)."""
    w = np.asarray(mv.weights, dtype=np.int64).reshape(mv.rows, mv.cols)
    t = mv.weight_type
    if mvu_folds(mv.rows, mv.cols, mv.pe, mv.simd) == 1:
        return _rows(stem, w, 1, t, f"{mv.name}: weights, W[r][c] on line r*COLS+c")
    return _data(stem, rom_text(w, mv.pe, mv.simd, t.width), mv.pe * mv.simd, t,
                 f"{mv.name}: weights, one PE x SIMD fold a line (see hwgen_mvu)")


def _mv(prefix: str, mv, stem: str, style: int) -> tuple:
    """Return (parameter groups, data files) of one of an engine's matrix-vector units.

    Its weights come from the data file <stem>.hex (the one returned); its unread weights
    parameter is one bit wide. style: its MUL_STYLE.
    """
    data = _mv_data(stem, mv)
    params = [[(f"{prefix}_PE", mv.pe), (f"{prefix}_SIMD", mv.simd),
               (f"{prefix}_W_W", mv.weight_type.width), (f"{prefix}_ACC_W", mv.acc_type.width),
               (f"{prefix}_MUL_STYLE", style)],
              [(f"{prefix}_WEIGHTS_BITS", 1), (f"{prefix}_INIT_FILE", _param_file(data))]]
    return params, [data]


def _lanes(layer) -> list:
    """Return the LANES parameter of a layer's elementwise stages, none when they are fully
    parallel (the cores' default LANES = H)."""
    lanes = layer.units_per_cycle
    return [("LANES", lanes)] if lanes < layer.hidden_size else []


def _gate(rows, layer, lsb: int, done: int) -> dict:
    """Return one hwgen_gate on the direction's gate bank: its parameters, then its bus slices.

    rows: the gate's GateRows; lsb: the bit of its activations on the direction's acts; done: its
    bit of gate_done.
    """
    net = f"{layer.name}_"
    name = f"{layer.name}_gate_{rows.sum.gate.short}"
    s, lut, hidden = rows.sum, rows.lut, layer.hidden_size
    bias = s.bias if s.bias is not None else np.zeros(hidden, dtype=np.int64)
    files = [_rows(f"{name}_bias", bias, 1, s.sum_type, f"{s.name}: bias, unit j on line j"),
             _rows(f"{name}_table", lut.table, 1, lut.out_type,
                   f"{lut.name}: {lut.function} table, line k for code {lut.in_type.min} + k")]
    acc, ax, ah = s.out.type, layer.x_mv.acc_type.width, layer.h_mv.acc_type.width
    act = lut.out_type.width
    params = [[("H", hidden)] + _lanes(layer) + [("AX_W", ax), ("AH_W", ah),
                                                 ("X_SHIFT", s.x_shift)],
              [("H_SHIFT", s.h_shift), ("SUM_W", s.sum_type.width),
               ("BIAS_FILE", _param_file(files[0]))],
              [("ACC_SHIFT", acc.exp - s.sum_type.exp), ("ROUNDING", s.out.rounding.code),
               ("ACC_W", acc.width)],
              [("ACC_SIGNED", _flag(acc.signed)), ("ACC_MIN", acc.min), ("ACC_MAX", acc.max)],
              [("ACT_W", act), ("TABLE_FILE", _param_file(files[1]))]]
    ports_ = [[("x_acc", net + "x_acc" + _bits(rows.first * ax, (rows.end - rows.first) * ax))],
              [("h_acc", net + "h_acc" + _bits(rows.first * ah, (rows.end - rows.first) * ah))],
              [("in_valid", net + "gate_start"), ("act", net + "acts" + _bits(lsb, hidden * act)),
               ("out_valid", net + f"gate_done[{done}]")]]
    return {"name": name, "params": params, "ports": ports_, "gate": s.gate, "lsb": lsb,
            "width": hidden * act, "memories": files, "module": "hwgen_gate"}


def _gate_bank(layer) -> list:
    """Return the hwgen_gate of every gate, their activations packed on acts in row order."""
    gates, lsb = [], 0
    for done, rows in enumerate(gate_rows(layer)):
        gates.append(_gate(rows, layer, lsb, done))
        lsb += gates[-1]["width"]
    return gates


def _tanh_data(layer) -> dict:
    """Return the data file of an LSTM direction's tanh(c) table."""
    t = layer.cell_tanh
    return _rows(f"{layer.name}_tanh_c", t.table, 1, t.out_type,
                 f"{t.name}: {t.function} table, line k for code {t.in_type.min} + k")


def _lstm_params(model: LoweredModel, layer, gates: list, tanh_file: dict) -> list:
    """Return the LSTM engine's gate-bank, cell, tanh(c) and hidden-state parameter groups."""
    cu, hid, tanh = layer.cell, layer.hidden, layer.cell_tanh
    c = cu.cell.type
    bank = _lanes(layer) + [("ACTS_W", sum(g["width"] for g in gates))]
    bank += [(LSB_PARAMETER[g["gate"]], g["lsb"]) for g in gates]
    return [bank,
            [("I_W", cu.i_type.width), ("I_SIGNED", _flag(cu.i_type.signed)),
             ("F_W", cu.f_type.width), ("F_SIGNED", _flag(cu.f_type.signed)),
             ("G_W", cu.g_type.width), ("G_SIGNED", _flag(cu.g_type.signed))],
            [("C_W", c.width), ("C_SIGNED", _flag(c.signed)), ("C_MIN", c.min), ("C_MAX", c.max),
             ("FC_SHIFT", c.exp - (cu.f_type.exp + c.exp)),
             ("IG_SHIFT", c.exp - (cu.i_type.exp + cu.g_type.exp)),
             ("CELL_ROUNDING", cu.cell.rounding.code), ("CIFG", _flag(cu.cifg)),
             ("ONE", cu.one_code)],
            [("CELL_MUL_STYLE", cell_style(model, layer)),
             ("CELL_MUL_LATENCY", cell_multiplier_latency(model, layer))],
            [("T_DEPTH", len(tanh.table)), ("T_W", tanh.out_type.width),
             ("T_SIGNED", _flag(hid.tanh_type.signed))],
            [("T_TABLE_FILE", _param_file(tanh_file))],
            [("O_W", hid.o_type.width), ("O_SIGNED", _flag(hid.o_type.signed)),
             ("HID_SHIFT", hid.out.type.exp - (hid.o_type.exp + hid.tanh_type.exp)),
             ("HID_ROUNDING", hid.out.rounding.code),
             ("HID_MUL_STYLE", hidden_style(model, layer)),
             ("HID_MUL_LATENCY", hidden_multiplier_latency(model, layer))]]


def _head_data(hd, stem: str) -> list:
    """Return the head's data files, <stem>_w.hex (one class's weights a line) and
    <stem>_b.hex (one class's bias a line)."""
    bias = hd.bias if hd.bias is not None else np.zeros(hd.matvec.rows, dtype=np.int64)
    mv = hd.matvec
    return [_rows(f"{stem}_w", mv.weights, mv.cols, mv.weight_type,
                  f"{mv.name}: weights, class k's on line k, column j at [j*W_W +: W_W]"),
            _rows(f"{stem}_b", bias, 1, hd.score_type, f"{hd.name}: bias, class k on line k")]


def _head_params(model: LoweredModel, hd, class_width: int, files: list) -> list:
    """Return an engine's head parameter groups (HEAD and the hwgen_head parameters)."""
    mv = hd.matvec
    return [[("HEAD", _flag(True)), ("CLASSES", mv.rows), ("HD_W_W", mv.weight_type.width),
             ("HD_ACC_W", mv.acc_type.width), ("HD_MV_SHIFT", hd.mv_shift),
             ("SCORE_W", hd.score_type.width), ("CLASS_W", class_width),
             ("HD_MUL_STYLE", matvec_style(model, mv))],
            [("HD_WEIGHTS_FILE", _param_file(files[0])), ("HD_BIAS_FILE", _param_file(files[1]))]]


def _head(model: LoweredModel, hd, class_width: int, files: list) -> list:
    """Return the parameters of a hwgen_head after the stack (pick_last -> head)."""
    mv = hd.matvec
    return [("C", mv.rows), ("H", mv.cols), ("IN_W", mv.in_type.width),
            ("IN_SIGNED", _flag(mv.in_type.signed)), ("W_W", mv.weight_type.width),
            ("ACC_W", mv.acc_type.width), ("MV_SHIFT", hd.mv_shift),
            ("SCORE_W", hd.score_type.width), ("CLASS_W", class_width),
            ("MUL_STYLE", matvec_style(model, mv)),
            ("WEIGHTS_FILE", _param_file(files[0])), ("BIAS_FILE", _param_file(files[1]))]


def _init(model: LoweredModel, layer) -> dict | None:
    """Return which of a direction's parts start from the state word ({"h": bool, "c": bool}),
    or None when both start at zero."""
    parts = {p: model.state_of(layer.name, p) is not None for p in ("h", "c")}
    return parts if any(parts.values()) else None


def _open(head: bool, init) -> str:
    """Return why some of an engine core's ports stay open, or ""."""
    return "; ".join(why for why, is_open in (("no head: the class stays 0", not head),
                                              ("no initial state: st_tready stays 0", not init))
                     if is_open)


def _engine(model: LoweredModel, layer, head, init=None) -> dict:
    """Return the template context of one direction's engine (head: the Head it carries or None;
    init: what _init says)."""
    if not IDENTIFIER.fullmatch(layer.name):
        raise HwgenError(f"layer {layer.name!r}: its name is not a Verilog identifier")
    h_type, x_type = layer.state.h_type, layer.x_mv.in_type
    if layer.h_mv.in_type != h_type:
        raise HwgenError(f"layer {layer.name}: the h matrix unit reads "
                         f"{layer.h_mv.in_type.describe()}, not the state's {h_type.describe()}")
    gates = [gru_cell(model, layer)] if layer.kind == "gru" else _gate_bank(layer)
    hidden = layer.hidden_size
    if not layer.x_mv.rows == layer.h_mv.rows == len(layer.x_mv.gates) * hidden:
        raise HwgenError(f"layer {layer.name}: the matrix units' rows are not its gates' rows")
    out_type, out_count = (head.score_type, head.matvec.rows) if head else (h_type, hidden)
    class_width = model.class_type.width if head else 1
    streams = [("I", layer.input_size), ("X_W", x_type.width), ("X_SIGNED", _flag(x_type.signed)),
               ("H", hidden), ("H_W", h_type.width), ("H_SIGNED", _flag(h_type.signed))]
    if layer.kind == "lstm":
        streams += [("H_MIN", h_type.min), ("H_MAX", h_type.max)]
    params = [streams, [("OUT_N", out_count), ("OUT_W", out_type.width), ("INIT", _flag(init))]
              + ([("KEEP", _flag(True))] if model.stateful else [])]
    if layer.kind == "lstm":
        params.append([("GATES", len(gates))])
    memories = []
    for prefix, mv in (("MX", layer.x_mv), ("MH", layer.h_mv)):
        groups, mems = _mv(prefix, mv, f"{layer.name}_{prefix.lower()}", matvec_style(model, mv))
        params += groups
        memories += mems
    for g in gates:
        memories += g["memories"]
    if layer.kind == "lstm":
        memories.append(_tanh_data(layer))
        params += _lstm_params(model, layer, gates, memories[-1])
    if head:
        memories += _head_data(head, f"{layer.name}_head")
        params += _head_params(model, head, class_width, memories[-2:])
    if model.interleave > 1:  # hwgen_lstm_ilv_ctrl (fold admits only such LSTM designs)
        params.append([("ILV", model.interleave), ("ILV_GAP", ilv_gap(model, layer))])
    nets = [(_bus(layer.x_mv.acc_type.width * layer.x_mv.rows), "x_acc"),
            (_bus(layer.h_mv.acc_type.width * layer.h_mv.rows), "h_acc"),
            (SCALAR, "gate_start"), (_bus(sum(g["width"] for g in gates)), "acts"),
            (_bus(len(gates)), "gate_done")]
    if layer.kind == "gru":
        nets.insert(2, (_bus(hidden * h_type.width), "h_step"))
    return {"name": layer.name, "index": layer.index, "kind": layer.kind,
            "reverse": layer.reverse, "core": ENGINE_CORES[layer.kind].removesuffix(".sv"),
            "x": port(x_type, layer.input_size),
            "out": port(out_type, out_count, "scores" if head else "hidden"),
            "h_bits": hidden * h_type.width, "h_width": h_type.width,
            "x_bits": layer.input_size * x_type.width, "lstm": layer.kind == "lstm",
            "head": head is not None, "init": init, "nets": nets, "params": params,
            "open": _open(head is not None, init), "memories": memories,
            "gates": [{k: g[k] for k in ("name", "params", "ports", "module")} for g in gates]}


def _ports(prefix: str, stream: str) -> list:
    """Return the (port, signal) pairs binding a core's AXI-stream prefix_* to stream_*."""
    signals = ("tdata", "tvalid", "tlast", "tready")
    return [(f"{prefix}_{sig}", f"{stream}_{sig}") for sig in signals]


class _Netlist:
    """The generated top being built: streams (wire bundles), instances, assignments."""

    def __init__(self):
        self.streams, self.instances, self.assigns, self.wires = [], [], [], []
        self.nets = []  # (type, name) of plain wires
        self.state_ports = {}
        self.memories = []  # the data files of the cores added outside the engines

    def stream(self, name: str, width: int, tlast: bool = True) -> str:
        self.streams.append({"name": name, "type": _bus(width), "tlast": tlast})
        return name

    def add(self, module: str, name: str, params: list, ports: list, open_: str = "") -> None:
        """Add an instance; params and ports are lists of groups (one line each) of pairs."""
        self.instances.append({"module": module, "name": name, "params": params, "ports": ports,
                               "open": open_})

    def engine(self, e: dict, src: str, dst: str) -> None:
        """Add one direction: its wires, its engine core reading src and writing dst, its gates."""
        name = e["name"]
        self.nets += [(type_, f"{name}_{net}") for type_, net in e["nets"]]
        state = dict(self.state_ports.get(name, []))
        st = [("st_h", state.get("st_h", "'0"))]
        if e["lstm"]:
            st.append(("st_c", state.get("st_c", "'0")))
        st += [("st_tvalid", state.get("st_tvalid", "1'b0")),
               ("st_tready", state.get("st_tready", ""))]
        bank = [(net, f"{name}_{net}") for _, net in e["nets"]]
        ports = [_ports("s", src), st,
                 _ports("m", dst) + [("m_tclass", "m_tclass" if e["head"] else "")], bank]
        self.add(e["core"], name, e["params"], ports, e["open"])
        for g in e["gates"]:
            self.add(g["module"], g["name"], g["params"], g["ports"])

    def state(self, model: LoweredModel) -> None:
        """Add the state word's broadcast to every direction with a slice; keep their ports."""
        desc = state_description(model)
        takers = list(dict.fromkeys(s.layer for s in model.states))
        self.state_ports = {name: [] for name in takers}
        for s, d in zip(model.states, desc["slices"]):
            bits = "s_state_tdata" + _bits(d["offset"], d["count"] * d["width"])
            self.state_ports[s.layer].append((f"st_{s.part}", bits))
        for k, name in enumerate(takers):
            self.state_ports[name] += [("st_tvalid", f"state_tvalid[{k}]"),
                                       ("st_tready", f"state_tready[{k}]")]
        self.wires.append({"name": "state", "type": _bus(len(takers))})
        self.add("hwgen_state_bcast", "state_bcast", [[("N", len(takers))]], [
            [("s_tvalid", "s_state_tvalid"), ("s_tready", "s_state_tready")],
            [("m_tvalid", "state_tvalid"), ("m_tready", "state_tready")]])

    def bidirectional(self, fwd: dict, rev: dict, src: str, dst: str, depth: int) -> None:
        """Add bcast -> [fwd -> buffer], [reversing buffer -> rev -> reversing buffer] -> zip."""
        f, r = fwd["name"], rev["name"]
        x_w, h_w = fwd["x_bits"], fwd["h_bits"]
        fx, rx_seq, rx = (self.stream(n, x_w) for n in (f"{f}_x", f"{r}_x_seq", f"{r}_x"))
        fh, rh, fh_seq, rh_seq = (self.stream(n, h_w) for n in (f"{f}_h", f"{r}_h", f"{f}_h_seq",
                                                                f"{r}_h_seq"))
        self.add("hwgen_stream_bcast", f"{f}_bcast", [[("W", x_w)]],
                 [_ports("s", src), _ports("ma", fx), _ports("mb", rx_seq)])
        self.engine(fwd, fx, fh)
        self.add("hwgen_seq_buf", f"{f}_h_buf", [_buffer(h_w, depth, False)],
                 [_ports("s", fh), _ports("m", fh_seq)])
        self.add("hwgen_seq_buf", f"{r}_x_buf", [_buffer(x_w, depth, True)],
                 [_ports("s", rx_seq), _ports("m", rx)])
        self.engine(rev, rx, rh)
        self.add("hwgen_seq_buf", f"{r}_h_buf", [_buffer(h_w, depth, True)],
                 [_ports("s", rh), _ports("m", rh_seq)])
        self.add("hwgen_stream_zip", f"{f}_zip", [[("WA", h_w), ("WB", h_w)]],
                 [_ports("sa", fh_seq), _ports("sb", rh_seq), _ports("m", dst)])

    def embed(self, model: LoweredModel, src: str) -> str:
        """Add hwgen_embed: token ids on src -> their rows of io codes on a new stream; return it."""
        e = model.embed
        width = e.out.type.width
        self.memories.append(_rows("embed_table", e.table_io, e.dim, e.out.type,
                                   f"{e.name}: token t's row on line t, code k at "
                                   f"[k*{width} +: {width}]"))
        dst = self.stream("emb", e.dim * width)
        self.add("hwgen_embed", "embed", [[("VOCAB", e.vocab), ("T_W", e.token_type.width),
                                           ("D", e.dim), ("E_W", width)],
                                          [("TABLE_FILE", _param_file(self.memories[-1]))]],
                 [_ports("s", src), _ports("m", dst)])
        return dst

    def head_stream(self, model: LoweredModel, class_width: int, src: str) -> None:
        """Add hwgen_head_stream: every element of src -> its scores and class on m_*."""
        self.memories += _head_data(model.head, "head")
        self.add("hwgen_head_stream", "head", [_head(model, model.head, class_width,
                                                     self.memories[-2:])],
                 [_ports("s", src), _ports("m", "m") + [("m_tclass", "m_tclass")]])

    def head(self, model: LoweredModel, class_width: int, src: str) -> None:
        """Add pick_last -> hwgen_head -> the design output (m_*, m_tclass)."""
        hd = model.head
        width = hd.matvec.cols * hd.matvec.in_type.width
        last = self.stream("last", width, tlast=False)
        self.add("hwgen_pick_last", "pick_last", [[("W", width)]],
                 [_ports("s", src), [("m_tdata", "last_tdata"), ("m_tvalid", "last_tvalid"),
                                     ("m_tlast", "m_tlast"), ("m_tready", "last_tready")]])
        self.memories += _head_data(hd, "head")
        self.add("hwgen_head", "head", [_head(model, hd, class_width, self.memories[-2:])], [
            [("in_data", "last_tdata"), ("in_valid", "last_tvalid"), ("in_ready", "last_tready")],
            [("scores", "m_tdata"), ("class_idx", "m_tclass"), ("out_valid", "m_tvalid"),
             ("out_ready", "m_tready")]])


def _buffer(width: int, depth: int, reverse: bool) -> list:
    return [("W", width), ("DEPTH", depth), ("REVERSE", _flag(reverse)), ("BANKS", 2)]


def _top_ports(model: LoweredModel) -> list:
    """Return the ports of hwgen_top: (direction, type, name, trailing comment)."""
    ports_ = [("input ", SCALAR, "clk", ""), ("input ", SCALAR, "rst", ""),
              ("input ", _bus(model.in_count * model.input.type.width), "s_tdata", ""),
              ("input ", SCALAR, "s_tvalid", ""), ("input ", SCALAR, "s_tlast", ""),
              ("output", SCALAR, "s_tready", "")]
    if model.states:
        ports_ += [("input ", _bus(state_description(model)["width"]), "s_state_tdata",
                    "  // one initial state word per sequence"),
                   ("input ", SCALAR, "s_state_tvalid", ""),
                   ("output", SCALAR, "s_state_tready", "")]
    return ports_ + [("output", _bus(model.out_count * model.out_type.width), "m_tdata", ""),
                     ("output", _bus(model.class_type.width), "m_tclass", ""),
                     ("output", SCALAR, "m_tvalid", ""), ("output", SCALAR, "m_tlast", ""),
                     ("input ", SCALAR, "m_tready", "")]


def _top(model: LoweredModel, engines: dict) -> dict:
    """Return the generated top's netlist: engines and stream cores chained from s_* to m_*."""
    net = _Netlist()
    if model.states:
        net.state(model)
    stack = model.stack()
    src = net.embed(model, "s") if model.embed is not None else "s"
    per_step = model.per_step
    for k, directions in enumerate(stack):
        fwd = engines[directions[0].name]
        if k == len(stack) - 1 and (len(directions) == 1 or model.head is None) and not per_step:
            dst = "m"
        else:  # both directions' h side by side, forward's in the low bits
            dst = net.stream(f"y{k}", sum(d.hidden_size * fwd["h_width"] for d in directions))
        if len(directions) == 1:
            net.engine(fwd, src, dst)
        else:
            net.bidirectional(fwd, engines[directions[1].name], src, dst, model.max_steps)
        src = dst
    if per_step:
        if model.bidirectional:
            raise HwgenError("a per-step head after a bidirectional layer is not supported")
        net.head_stream(model, model.class_type.width, src)
    elif src != "m":  # a head after a bidirectional layer
        net.head(model, model.class_type.width, src)
    elif model.head is None:
        net.assigns.append(("m_tclass", "'0"))
    comment = [line for line in model.dump().splitlines() if line.startswith(("layer", "max_"))]
    return {"engines": list(engines), "ports": _top_ports(model), "streams": net.streams,
            "instances": net.instances, "assigns": net.assigns, "comment": comment,
            "wires": net.wires, "nets": net.nets,
            "memories": [m for e in engines.values() for m in e["memories"]] + net.memories}


def context(model: LoweredModel, source: str) -> dict:
    """Return the template context of a lowered model: its engines and the top's netlist.

    "x" and "out" describe the top's streams for its comment.
    """
    stack = model.stack()
    last = stack[-1]
    # a per-step head is a stream stage of its own; a last-step one rides on a lone last engine
    per_step = model.per_step
    head_engine = model.head if len(last) == 1 and not per_step else None
    engines = {layer.name: _engine(model, layer, head_engine if layer is last[0] else None,
                                   _init(model, layer))
               for layer in model.layers}
    state = state_description(model) if model.states else None
    return {"source": safe_text(source), **ports(model), "engines": list(engines.values()),
            "state": state, "top": _top(model, engines)}


def cores(ctx: dict) -> tuple:
    """Return the hand-written cores (file names, in CORES order) a design context uses.

    Every engine core instantiates hwgen_state_init (inside a generate branch), so it is always
    listed; an engine core is listed when a direction uses it.
    """
    used = {f"{i['module']}.sv" for i in ctx["top"]["instances"]}
    if GRU_CORES[-1] in used:  # hwgen_gru_cell instantiates the other GRU cores
        used |= set(GRU_CORES)
    optional = STREAM_CORES + tuple(ENGINE_CORES.values()) + GRU_CORES
    return tuple(c for c in CORES if c not in optional or c in used)


def _write_rtl(tmp: Path, model: LoweredModel, ctx: dict, part: Part) -> None:
    """Write the RTL files of a design context into the empty folder tmp."""
    (tmp / "cores").mkdir()
    used = cores(ctx)
    for core in used:
        shutil.copyfile(TEMPLATES / "rtl" / "lib" / core, tmp / "cores" / core)
    (tmp / "hwgen_top.sv").write_text(render("rtl/hwgen_top.sv.j2", ctx))
    axis.write(tmp, model, ctx["source"], part)  # hwgen_axis_top.sv, README.md, package_ip.tcl
    (tmp / "files.f").write_text("".join(f"cores/{c}\n" for c in used) + "hwgen_top.sv\n"
                                 + f"{axis.TOP}.sv\n")
    write_memories(tmp, ctx)
    (tmp / "design.json").write_text(design_json(model))
    (tmp / "ir.txt").write_text(model.dump())
    (tmp / MANIFEST).write_text(manifest_text(model, ctx, tmp))


def design_json(model: LoweredModel) -> str:
    """Return design.json's text."""
    desc = {**design_description(model), "axis": axis.layout(model)}
    return json.dumps(desc, indent=2, sort_keys=True) + "\n"


def write_memories(rtl_dir: Path, ctx: dict) -> None:
    """Write a design context's data files, mem.f and mem/manifest.json into rtl_dir."""
    memories = ctx["top"]["memories"]
    (rtl_dir / MEM_DIR).mkdir(exist_ok=True)
    for m in memories:
        (rtl_dir / m["name"]).write_text(m["text"])
    (rtl_dir / MEM_LIST).write_text("".join(f"{m['name']}\n" for m in memories))


def emit_rtl(model: LoweredModel, out_dir, source: str, part: str = DEFAULT_PART) -> Path:
    """Write the RTL of a lowered model into out_dir/rtl; return that folder.

    The folder appears whole or not at all; source (the input's name) is kept as safe_text; part
    (a Xilinx part, hwgen.parts) goes into package_ip.tcl.
    """
    ctx, chosen = context(model, source), parse_part(part)
    return publish(Path(out_dir) / "rtl", lambda tmp: _write_rtl(tmp, model, ctx, chosen))


# GRU engines: one hwgen_gru_cell on the engine's gate bank (hwgen_gru_engine.sv).


def _zeros_if_none(bias, hidden: int):
    return bias if bias is not None else np.zeros(hidden, dtype=np.int64)


def _gru_bias(stem: str, bias, sum_type: IntType, hidden: int, what: str) -> dict:
    return _rows(stem, _zeros_if_none(bias, hidden), 1, sum_type, f"{what}: bias, unit j on line j")


def _gru_table(stem: str, lut) -> dict:
    return _rows(stem, lut.table, 1, lut.out_type,
                 f"{lut.name}: {lut.function} table, line k for code {lut.in_type.min} + k")


def _gru_acc(prefix: str, acc: IntType, sum_type: IntType, rounding) -> list:
    """Return a gate's accumulator-quantizer parameters (prefix R, Z or N)."""
    return [(f"{prefix}_ACC_SHIFT", acc.exp - sum_type.exp), (f"{prefix}_ROUNDING", rounding.code),
            (f"{prefix}_ACC_W", acc.width), (f"{prefix}_ACC_SIGNED", _flag(acc.signed)),
            (f"{prefix}_ACC_MIN", acc.min), (f"{prefix}_ACC_MAX", acc.max)]


def _gru_gate(prefix: str, s, lut, files: list) -> list:
    """Return the hwgen_gate parameters of a GRU cell's reset or update gate (prefix R or Z);
    files: its bias and table data files."""
    return [[(f"{prefix}_X_SHIFT", s.x_shift), (f"{prefix}_H_SHIFT", s.h_shift),
             (f"{prefix}_SUM_W", s.sum_type.width)],
            _gru_acc(prefix, s.out.type, s.sum_type, s.out.rounding)
            + [(f"{prefix}_W", lut.out_type.width), (f"{prefix}_SIGNED", _flag(lut.out_type.signed))],
            [(f"{prefix}_BIAS_FILE", _param_file(files[0])),
             (f"{prefix}_TABLE_FILE", _param_file(files[1]))]]


def _gru_new(model: LoweredModel, layer, files: list) -> list:
    """Return a GRU cell's hn, r * hn and new-gate parameter groups (files: hn's bias, the new
    gate's bias and table)."""
    from hwgen.passes.multipliers import gru_rh_latency, gru_rh_style

    hn, ns, lut = layer.hidden_new, layer.new_sum, layer.luts[GRUGate.NEW]
    t = hn.out.type
    return [[("HN_SHIFT", hn.h_shift), ("HN_SUM_W", hn.sum_type.width),
             ("HN_BIAS_FILE", _param_file(files[0]))],
            [("HN_ACC_SHIFT", t.exp - hn.sum_type.exp), ("HN_ROUNDING", hn.out.rounding.code),
             ("HN_W", t.width), ("HN_SIGNED", _flag(t.signed)), ("HN_MIN", t.min),
             ("HN_MAX", t.max)],
            [("RH_MUL_STYLE", gru_rh_style(model, layer)),
             ("RH_MUL_LATENCY", gru_rh_latency(model, layer))],
            [("N_X_SHIFT", ns.x_shift), ("N_RH_SHIFT", ns.rh_shift), ("N_SUM_W", ns.sum_type.width)],
            _gru_acc("N", ns.out.type, ns.sum_type, ns.out.rounding)
            + [("N_W", lut.out_type.width), ("N_SIGNED", _flag(lut.out_type.signed))],
            [("N_BIAS_FILE", _param_file(files[1])), ("N_TABLE_FILE", _param_file(files[2]))]]


def _gru_blend(model: LoweredModel, layer) -> list:
    """Return a GRU cell's blend parameter group."""
    from hwgen.passes.multipliers import gru_blend_latency, gru_blend_style

    b, t = layer.blend, layer.blend.out.type
    return [[("ONE", b.one_code), ("Z_SHIFT", b.z_shift), ("OMZ_W", b.one_minus_z_type.width),
             ("NZ_SHIFT", b.nz_shift), ("ZH_SHIFT", b.zh_shift), ("B_SUM_W", b.sum_type.width)],
            [("B_SHIFT", t.exp - b.sum_type.exp), ("B_ROUNDING", b.out.rounding.code),
             ("H_MIN", t.min), ("H_MAX", t.max), ("B_MUL_STYLE", gru_blend_style(model, layer)),
             ("B_MUL_LATENCY", gru_blend_latency(model, layer))]]


def _gru_files(layer, stem: str) -> list:
    """Return a GRU cell's data files: r's and z's bias and table, hn's bias, n's bias and
    table."""
    hidden, out = layer.hidden_size, []
    for gate in (GRUGate.RESET, GRUGate.UPDATE):
        s = layer.sums[gate]
        out += [_gru_bias(f"{stem}_{gate.short}_bias", s.bias, s.sum_type, hidden, s.name),
                _gru_table(f"{stem}_{gate.short}_table", layer.luts[gate])]
    hn, ns = layer.hidden_new, layer.new_sum
    return out + [_gru_bias(f"{stem}_hn_bias", hn.bias, hn.sum_type, hidden, hn.name),
                  _gru_bias(f"{stem}_n_bias", ns.bias, ns.sum_type, hidden, ns.name),
                  _gru_table(f"{stem}_n_table", layer.luts[GRUGate.NEW])]


def gru_cell(model: LoweredModel, layer) -> dict:
    """Return the hwgen_gru_cell on a GRU direction's gate bank: its parameters, then its nets."""
    net, h, name = f"{layer.name}_", layer.state.h_type, f"{layer.name}_cell"
    files = _gru_files(layer, name)
    params = [[("H", layer.hidden_size)] + _lanes(layer) + [("AX_W", layer.x_mv.acc_type.width),
               ("AH_W", layer.h_mv.acc_type.width), ("H_W", h.width),
               ("H_SIGNED", _flag(h.signed))]]
    for k, gate in enumerate((GRUGate.RESET, GRUGate.UPDATE)):
        params += _gru_gate(gate.short.upper(), layer.sums[gate], layer.luts[gate],
                            files[2 * k:2 * k + 2])
    params += _gru_new(model, layer, files[4:]) + _gru_blend(model, layer)
    ports_ = [[("x_acc", net + "x_acc"), ("h_acc", net + "h_acc"), ("h", net + "h_step")],
              [("in_valid", net + "gate_start"), ("h_new", net + "acts"),
               ("out_valid", net + "gate_done")]]
    return {"name": name, "params": params, "ports": ports_, "module": "hwgen_gru_cell",
            "width": layer.hidden_size * h.width, "memories": files}


__all__ = ["emit_rtl", "context", "write_memories", "design_json", "rom_text", "GATES"]
