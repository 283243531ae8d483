"""The AXI4-Stream top of a generated design: DIR/rtl/hwgen_axis_top.sv, README.md, package_ip.tcl.

hwgen_axis_top binds the hand-written core hwgen_axis (templates/rtl/lib/hwgen_axis.sv) to the
generated hwgen_top, which stays available as it is. Its ports: aclk, aresetn (active low,
synchronous), s_axis_* (input codes, tdata padded to a byte multiple, tlast ends a sequence),
s_axis_state_* for a design with initial states (one padded state word per sequence) and
m_axis_* (outputs, with a head the class index in its own bytes above the scores). No tkeep:
every transfer carries a whole word. layout() computes every width and bit position; the
template only binds them, and design.json records the same layout under "axis". README.md
documents the ports and layouts; package_ip.tcl packages the AXI top as a Vivado IP for the
user's part (hwgen.parts validates its name, so no user text reaches the script but as
safe_text in its first comment line).
"""
from __future__ import annotations

from hwgen.codegen.design import state_description
from hwgen.codegen.env import render, safe_text
from hwgen.ir.graph import LoweredModel
from hwgen.parts import Part
from hwgen.passes.cycles import cycle_parameters
from hwgen.types import IntType

CORE = "hwgen_axis.sv"
TOP = "hwgen_axis_top"
README = "README.md"
PACKAGE_TCL = "package_ip.tcl"  # Vivado IP packaging of the AXI top (IP-XACT component.xml)
SCALAR = "logic"


def byte_bits(bits: int) -> int:
    """Return bits rounded up to a whole number of bytes (8-bit multiples)."""
    return -(-bits // 8) * 8


def _field(lsb: int, width: int, what: str) -> dict:
    return {"lsb": lsb, "msb": lsb + width - 1, "width": width, "what": what}


def _value(t: IntType) -> str:
    """Return how a code of type t reads as a number, e.g. "int8*2^-6: value = code * 2^-6"."""
    return f"{t.describe()}: value = code * 2^{t.exp}"


def numbers(model: LoweredModel) -> dict:
    """Return the README's numbers: stream types, raw-input preprocessing, output de-scaling."""
    pre = model.preprocess
    return {"in_codes": _value(model.input.type), "input_rounding": model.input.rounding.value,
            "out_codes": _value(model.out_type), "standardized": pre is not None,
            "targets": bool(pre is not None and pre.target_mean),
            "tokens": model.embed is not None,
            "last_token": model.embed.vocab - 1 if model.embed is not None else 0,
            "stateful": model.stateful}


def layout(model: LoweredModel) -> dict:
    """Return the AXI top's stream widths and tdata fields (design.json's "axis")."""
    x_w = model.in_count * model.input.type.width
    y_w = model.out_count * model.out_type.width
    c_w = model.class_type.width
    head = model.head is not None
    c_lsb = byte_bits(y_w)
    y_bytes = c_lsb + (byte_bits(c_w) if head else 0)
    x_elem = (f"{model.in_count} input codes of {model.input.type.width} bits "
              f"({_value(model.input.type)}), element k at "
              f"[k*{model.input.type.width} +: {model.input.type.width}]")
    if model.embed is not None:
        x_elem = (f"one token id of {model.input.type.width} bits (unsigned, "
                  f"0..{model.embed.vocab - 1})")
    y_elem = (f"{model.out_count} {model.out_kind} codes of {model.out_type.width} bits "
              f"({_value(model.out_type)}), element k at "
              f"[k*{model.out_type.width} +: {model.out_type.width}]")
    out = {"top": TOP, "core": CORE.removesuffix(".sv"),
           "s_axis": {"width": byte_bits(x_w), "fields": [_field(0, x_w, x_elem)]},
           "m_axis": {"width": y_bytes, "fields": [_field(0, y_w, y_elem)]},
           "class": head, "per_step": model.per_step, "tkeep": False}
    if head:
        out["m_axis"]["fields"].append(_field(c_lsb, c_w, "class index (unsigned)"))
    if model.states:
        s_w = state_description(model)["width"]
        out["s_axis_state"] = {"width": byte_bits(s_w),
                               "fields": [_field(0, s_w, "initial-state word (see state)")]}
    return out


def _bus(width: int) -> str:
    return IntType(width, False).sv()


def _ports(lay: dict) -> list:
    """Return hwgen_axis_top's ports: (direction, type, name)."""
    ports = [("input ", SCALAR, "aclk"), ("input ", SCALAR, "aresetn"),
             ("input ", _bus(lay["s_axis"]["width"]), "s_axis_tdata"),
             ("input ", SCALAR, "s_axis_tvalid"), ("input ", SCALAR, "s_axis_tlast"),
             ("output", SCALAR, "s_axis_tready")]
    if "s_axis_state" in lay:
        ports += [("input ", _bus(lay["s_axis_state"]["width"]), "s_axis_state_tdata"),
                  ("input ", SCALAR, "s_axis_state_tvalid"),
                  ("output", SCALAR, "s_axis_state_tready")]
    return ports + [("output", _bus(lay["m_axis"]["width"]), "m_axis_tdata"),
                    ("output", SCALAR, "m_axis_tvalid"), ("output", SCALAR, "m_axis_tlast"),
                    ("input ", SCALAR, "m_axis_tready")]


MEANING = {"aclk": "clock; every transfer happens on its rising edge",
           "aresetn": "reset, active low, synchronous to aclk; while low no tvalid or tready is "
                      "driven high",
           "tdata": "the word (layout below)", "tvalid": "the sender offers the word",
           "tready": "the receiver takes it: a transfer is tvalid and tready high on an edge",
           "tlast": "this transfer ends a sequence"}


def port_rows(lay: dict) -> list:
    """Return the README's port table: (name, in/out, bits, meaning) per port."""
    rows = []
    for direction, _, name in _ports(lay):
        stream, _, signal = name.rpartition("_")
        bits = lay[stream]["width"] if signal == "tdata" else 1
        rows.append((name, "in" if direction.strip() == "input" else "out", bits,
                     MEANING.get(name) or MEANING[signal]))
    return rows


def _core_params(model: LoweredModel, lay: dict) -> list:
    x_w = lay["s_axis"]["fields"][0]["width"]
    y_w = lay["m_axis"]["fields"][0]["width"]
    state = lay.get("s_axis_state")
    s_w = state["fields"][0]["width"] if state else 1
    return [("X_W", x_w), ("XB_W", lay["s_axis"]["width"]), ("Y_W", y_w),
            ("C_W", model.class_type.width), ("CLASS", "1'b1" if lay["class"] else "1'b0"),
            ("C_LSB", byte_bits(y_w)), ("YB_W", lay["m_axis"]["width"]),
            ("STATE", "1'b1" if state else "1'b0"), ("S_W", s_w), ("SB_W", byte_bits(s_w))]


FLOWS = ("s_tdata", "s_tvalid", "s_tlast", "s_tready", "m_tdata", "m_tclass", "m_tvalid",
         "m_tlast", "m_tready")  # hwgen_top's stream ports, each on the net of its name
AXIS = ("aresetn", "s_axis_tdata", "s_axis_tvalid", "s_axis_tlast", "s_axis_tready",
        "m_axis_tdata", "m_axis_tvalid", "m_axis_tlast", "m_axis_tready")
STATE = ("s_axis_state_tdata", "s_axis_state_tvalid", "s_axis_state_tready")
STATE_FLOWS = ("s_state_tdata", "s_state_tvalid", "s_state_tready")
# without a state stream, the core's state ports: inputs tied to 0, outputs open
NO_STATE = (("s_axis_state_tdata", "'0"), ("s_axis_state_tvalid", "1'b0"),
            ("s_axis_state_tready", ""), ("s_state_tdata", ""), ("s_state_tvalid", ""),
            ("s_state_tready", "1'b0"))


def _wiring(width: dict, states: bool) -> dict:
    """Return the nets between the core and hwgen_top and both instances' port bindings."""
    nets = [(_bus(width["X_W"]), "s_tdata"), (_bus(width["Y_W"]), "m_tdata"),
            (_bus(width["C_W"]), "m_tclass")]
    nets += [(SCALAR, n) for n in ("rst", "s_tvalid", "s_tlast", "s_tready", "m_tvalid",
                                   "m_tlast", "m_tready")]
    core = [(p, p) for p in AXIS + ("rst",) + FLOWS]
    top = [("clk", "aclk"), ("rst", "rst")] + [(p, p) for p in FLOWS]
    if not states:
        return {"nets": nets, "core_ports": core + list(NO_STATE), "top_ports": top,
                "open": "no state stream: the core's state outputs stay open"}
    nets += [(_bus(width["S_W"]), "s_state_tdata"), (SCALAR, "s_state_tvalid"),
             (SCALAR, "s_state_tready")]
    return {"nets": nets, "core_ports": core + [(p, p) for p in STATE + STATE_FLOWS],
            "top_ports": top + [(p, p) for p in STATE_FLOWS], "open": ""}


def context(model: LoweredModel, source: str) -> dict:
    """Return the template context of hwgen_axis_top and of the design README."""
    lay = layout(model)
    params = _core_params(model, lay)
    return {"source": safe_text(source), "layout": lay, "ports": _ports(lay),
            "port_rows": port_rows(lay), "params": params,
            **_wiring(dict(params), bool(model.states)),
            "module": TOP, "core": lay["core"], "cycles": cycle_parameters(model),
            "numbers": numbers(model)}


def write(folder, model: LoweredModel, source: str, part: Part) -> None:
    """Write hwgen_axis_top.sv, README.md and package_ip.tcl into folder (a design's rtl folder
    being built); part: the Xilinx part package_ip.tcl names (validated by hwgen.parts)."""
    ctx = {**context(model, source), "part": part.name, "part_family": part.device.family,
           "package_tcl": PACKAGE_TCL,
           "interfaces": [s for s in ("s_axis", "s_axis_state", "m_axis") if s in layout(model)]}
    (folder / f"{TOP}.sv").write_text(render("rtl/hwgen_axis_top.sv.j2", ctx))
    (folder / README).write_text(render("rtl/README.md.j2", ctx))
    (folder / PACKAGE_TCL).write_text(render("rtl/package_ip.tcl.j2", ctx))


__all__ = ["layout", "numbers", "context", "write", "byte_bits", "CORE", "TOP"]
