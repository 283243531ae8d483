"""DIR/rtl/mem/manifest.json: what a design's data files hold and what its RTL was built from.

Every weight, bias and table of a generated design is in a data file under DIR/rtl/mem/
(hwgen.codegen.rtl). The manifest lists them (file, what it holds, words, bits per word, the
element type with its scale) and records, as "signature", everything else the RTL was generated
from: every instance's parameters (widths, shifts, folding, data file names), the top's ports,
design.json without the input preprocessing, and the AXI layout. It also records the SHA-256 of
the generated tops and of every data file. hwgen.reload compares a new IR's signature
with it before rewriting the data files.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hwgen.codegen import axis
from hwgen.codegen.design import design_description
from hwgen.ir.graph import LoweredModel

MANIFEST = "mem/manifest.json"  # relative to DIR/rtl
FORMAT = 1
SOURCES = ("hwgen_top.sv", f"{axis.TOP}.sv")  # the generated sources the signature describes
UNCHECKED = ("preprocess",)  # design.json entries that are data too (the feature statistics)


def digest(data: bytes) -> str:
    """Return the SHA-256 of data, in hex."""
    return hashlib.sha256(data).hexdigest()


def _plain(value):
    """Return value as JSON reads it back (tuples become lists)."""
    return json.loads(json.dumps(value))


def signature(model: LoweredModel, ctx: dict) -> dict:
    """Return everything a design's RTL is generated from except its data, as JSON values.

    ctx: hwgen.codegen.rtl.context(model, ...). Files and instances are keyed by name, so a
    difference names the file (layer and tensor) or the instance it is in; the files come first:
    a tensor's shape, width or scale is named there before the parameters derived from it.
    """
    instances = {f"{i['name']} ({i['module']})": {k: v for group in i["params"] for k, v in group}
                 for i in ctx["top"]["instances"]}
    files = {m["name"]: m["entry"] for m in ctx["top"]["memories"]}
    design = {k: v for k, v in design_description(model).items() if k not in UNCHECKED}
    ports = {name: f"{direction.strip()} {type_}" for direction, type_, name, _ in
             ctx["top"]["ports"]}
    return _plain({"files": files, "instances": instances, "ports": ports, "design": design,
                   "axis": axis.layout(model)})


def manifest(model: LoweredModel, ctx: dict, rtl_dir: Path) -> dict:
    """Return the manifest of the design in rtl_dir, whose sources and data files are written."""
    return {"format": FORMAT, "source": ctx["source"],
            "about": "the data files the RTL reads ($readmemh text, one word a line, two's "
                     "complement); `hwgen reload` rewrites them for a model of the same shapes "
                     "and widths",
            "files": [m["entry"] for m in ctx["top"]["memories"]],
            "sha256": {**{name: digest((rtl_dir / name).read_bytes()) for name in SOURCES},
                       **{m["name"]: digest(m["text"].encode()) for m in ctx["top"]["memories"]}},
            "signature": signature(model, ctx)}


def manifest_text(model: LoweredModel, ctx: dict, rtl_dir: Path) -> str:
    """Return manifest.json's text (deterministic: the same design gives the same bytes)."""
    return json.dumps(manifest(model, ctx, rtl_dir), indent=1) + "\n"


def first_difference(old, new, where: str = "") -> str | None:
    """Return where old and new (JSON values) first differ, as "where: old ..., new ...", or None.

    Dictionaries are walked in old's key order, then new's extra keys; lists element by element.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            at = f"{where}, {key}" if where else str(key)
            if key not in new or key not in old:
                side = "the new IR" if key not in new else "the design"
                return f"{at}: not in {side}"
            found = first_difference(old[key], new[key], at)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for k, (a, b) in enumerate(zip(old, new)):
            found = first_difference(a, b, f"{where}[{k}]")
            if found:
                return found
        return None
    if old != new:
        return f"{where}: {json.dumps(old)} in the design, {json.dumps(new)} in the new IR"
    return None


__all__ = ["MANIFEST", "SOURCES", "digest", "signature", "manifest", "manifest_text",
           "first_difference"]
