"""`hwgen reload`: rewrite a generated design's data files for another model of the same shapes.

A design's RTL reads every weight, bias and table from DIR/rtl/mem/*.hex (hwgen.codegen.rtl), so
a model retrained at the same shapes and widths runs on the same, unchanged sources once its
data files are written in. reload(rtl_dir, model) first checks that the new model would
generate exactly the same RTL: its signature (hwgen.codegen.manifest: every instance's
parameters, the data files' names and sizes and element types with their scales, the ports,
design.json without the feature statistics, the AXI layout) equals the one the manifest
recorded, the generated tops on disk are the ones the manifest recorded, and the top the new
model renders is byte-identical to them. If anything differs it raises ReloadRefused naming the
first difference and writes nothing. Otherwise it rewrites the data files, the manifest, ir.txt
and design.json (whose input preprocessing, the training set's feature statistics, is data
too); every other file stays as it is. The same model always gives byte-identical files.

The HLS C++ (DIR/hls/) keeps its constants: regenerate it with `hwgen build`. The testbench's
expected outputs (DIR/rtl/tb/) are the old model's until `hwgen hw` writes them again.
"""
from __future__ import annotations

import json
from pathlib import Path

from hwgen.codegen.env import render
from hwgen.codegen.manifest import MANIFEST, SOURCES, digest, first_difference, manifest_text, \
    signature
from hwgen.codegen.rtl import context, design_json
from hwgen.ir.graph import LoweredModel
from hwgen.locks import write_atomic
from hwgen.types import HwgenError


class ReloadRefused(HwgenError):
    """The new model would not generate the design's RTL: its data files cannot replace them."""


def rtl_folder(path) -> Path:
    """Return the generated rtl folder at path: path itself or path/rtl (a build folder)."""
    folder = Path(path)
    for candidate in (folder, folder / "rtl"):
        if (candidate / MANIFEST).is_file():
            return candidate
    raise HwgenError(f"{path}: no {MANIFEST} here or in rtl/ (not a design with data files; "
                     "generate it again with `hwgen build`)")


def _recorded(rtl_dir: Path) -> dict:
    """Return the manifest, after checking that the generated tops are the ones it records."""
    try:
        old = json.loads((rtl_dir / MANIFEST).read_text())
        hashes, sig = old["sha256"], old["signature"]
    except (ValueError, KeyError, TypeError):
        raise HwgenError(f"{rtl_dir / MANIFEST}: not a manifest hwgen wrote") from None
    if not isinstance(sig, dict) or not isinstance(hashes, dict):
        raise HwgenError(f"{rtl_dir / MANIFEST}: not a manifest hwgen wrote")
    for name in SOURCES:
        path = rtl_dir / name
        if not path.is_file() or digest(path.read_bytes()) != hashes.get(name):
            raise ReloadRefused(f"{path} is not the file the manifest records (edited or "
                                "regenerated): generate the design again")
    return old


def check(rtl_dir: Path, model: LoweredModel) -> dict:
    """Return the new model's design context if it generates exactly the RTL in rtl_dir; raise
    ReloadRefused naming the first difference otherwise."""
    old = _recorded(rtl_dir)
    ctx = context(model, "")
    ctx["source"] = old.get("source", "")  # the top's first comment names the first model
    diff = first_difference(old["signature"], signature(model, ctx))
    if diff:
        raise ReloadRefused(f"the new IR does not fit the design's RTL: {diff}")
    top = render("rtl/hwgen_top.sv.j2", ctx)
    if digest(top.encode()) != old["sha256"][SOURCES[0]]:
        raise ReloadRefused(f"the new IR does not fit the design's RTL: {SOURCES[0]} would "
                            f"differ from line {_first_line(top, rtl_dir / SOURCES[0])}")
    return ctx


def _first_line(text: str, path: Path) -> int:
    """Return the number of the first line where text and the file at path differ."""
    new, old = text.splitlines(), path.read_text().splitlines()
    return next((k + 1 for k, (a, b) in enumerate(zip(new, old)) if a != b),
                min(len(new), len(old)) + 1)


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def reload(path, model: LoweredModel) -> list[str]:
    """Rewrite the data files of the design at path (DIR or DIR/rtl) with model's; return their
    names (relative to DIR/rtl). Raises ReloadRefused, writing nothing, if model does not fit."""
    rtl_dir = rtl_folder(path)
    ctx = check(rtl_dir, model)
    memories = ctx["top"]["memories"]
    for m in memories:
        _write_text(rtl_dir / m["name"], m["text"])
    _write_text(rtl_dir / "design.json", design_json(model))
    _write_text(rtl_dir / "ir.txt", model.dump())
    _write_text(rtl_dir / MANIFEST, manifest_text(model, ctx, rtl_dir))
    return [m["name"] for m in memories]


__all__ = ["reload", "check", "rtl_folder", "ReloadRefused"]
