"""The Xilinx parts hwgen knows: capacities for the report's utilisation, names for the Tcl scripts.

A user names a part (`hwgen hw --part`, Makefile PART=) by its device (xc7z020) or by a full part
name (xc7z020clg400-1, xczu9eg-ffvb1156-2-e). parse_part accepts only names made of letters,
digits and dashes that start with a device of the table, so the name is inert when it is written
into build.tcl and package_ip.tcl; a bare device becomes its default full part (a common board's).

Capacities, from the product tables of the families' data sheets: Zynq-7000 SoC overview (DS190),
Artix-7 in the 7 Series FPGAs overview (DS180), Zynq UltraScale+ MPSoC overview (DS891),
Kintex UltraScale and Virtex UltraScale+ in the UltraScale architecture overview (DS890). LUT:
CLB LUTs; FF: CLB flip-flops; DSP: DSP slices; BRAM: 36 Kb block RAM tiles (UltraRAM not counted).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hwgen.types import HwgenError


@dataclass(frozen=True)
class Device:
    name: str
    family: str  # and the data sheet its capacities come from
    default_part: str  # a full part name (device, package, speed grade)
    LUT: int
    FF: int
    DSP: int
    BRAM: int


DEVICES = {d.name: d for d in (
    Device("xc7a35t", "Artix-7 (DS180)", "xc7a35ticsg324-1L", 20_800, 41_600, 90, 50),
    Device("xc7a100t", "Artix-7 (DS180)", "xc7a100tcsg324-1", 63_400, 126_800, 240, 135),
    Device("xc7z020", "Zynq-7000 (DS190)", "xc7z020clg400-1", 53_200, 106_400, 220, 140),
    Device("xc7z045", "Zynq-7000 (DS190)", "xc7z045ffg900-2", 218_600, 437_200, 900, 545),
    Device("xczu3eg", "Zynq UltraScale+ (DS891)", "xczu3eg-sbva484-1-i", 70_560, 141_120, 360,
           216),
    Device("xczu7ev", "Zynq UltraScale+ (DS891)", "xczu7ev-ffvc1156-2-e", 230_400, 460_800,
           1_728, 312),
    Device("xczu9eg", "Zynq UltraScale+ (DS891)", "xczu9eg-ffvb1156-2-e", 274_080, 548_160,
           2_520, 912),
    Device("xcku040", "Kintex UltraScale (DS890)", "xcku040-ffva1156-2-e", 242_400, 484_800,
           1_920, 600),
    Device("xcvu9p", "Virtex UltraScale+ (DS890)", "xcvu9p-flga2104-2L-e", 1_182_240, 2_364_480,
           6_840, 2_160),
)}
DEFAULT_PART = "xc7z020"
DEFAULT_CLOCK_NS = 10.0  # build.tcl's clock period unless the user gives one
CLOCK_NS_RANGE = (1.0, 1000.0)
RESOURCES = ("LUT", "FF", "DSP", "BRAM")
PART_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*", re.IGNORECASE)
PART_MAX = 40


@dataclass(frozen=True)
class Part:
    """A chosen part: its full name (for the Tcl scripts) and its device (for capacities)."""

    name: str
    device: Device


def parse_part(text: str) -> Part:
    """Return the Part a user named, or raise HwgenError in one line naming the known devices."""
    text = str(text)
    known = ", ".join(DEVICES)
    if len(text) > PART_MAX or not PART_NAME.fullmatch(text):
        raise HwgenError(f"part {text[:PART_MAX]!r}: not a part name (letters, digits and dashes; "
                         f"devices: {known})")
    low = text.lower()
    for name in sorted(DEVICES, key=len, reverse=True):
        rest = low[len(name):]
        if low.startswith(name) and not rest[:1].isdigit():
            return Part(DEVICES[name].default_part if not rest else text, DEVICES[name])
    raise HwgenError(f"part {text!r}: unknown device (devices: {known})")


def parse_clock_ns(text) -> float:
    """Return a clock period in ns (a number in CLOCK_NS_RANGE), or raise HwgenError."""
    lo, hi = CLOCK_NS_RANGE
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not lo <= value <= hi:
        raise HwgenError(f"clock period {str(text)[:PART_MAX]!r}: not a number of ns in "
                         f"{lo:g}..{hi:g}")
    return value


def clock_text(ns: float) -> str:
    """Return a clock period as the Tcl scripts write it: up to 3 decimals, no trailing zeros."""
    return f"{ns:.3f}".rstrip("0").rstrip(".")


def utilisation(part: Part, resources: dict) -> dict:
    """Return {resource: {"used", "available", "share"}} of counts against the part's device,
    and whether every one fits."""
    rows = {k: {"used": resources[k], "available": getattr(part.device, k),
                "share": resources[k] / getattr(part.device, k)} for k in RESOURCES}
    return {"part": part.name, "device": part.device.name, "family": part.device.family,
            "resources": rows, "fits": all(r["used"] <= r["available"] for r in rows.values())}


__all__ = ["DEVICES", "DEFAULT_PART", "DEFAULT_CLOCK_NS", "Part", "parse_part", "parse_clock_ns",
           "clock_text", "utilisation"]
