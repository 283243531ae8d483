"""Save a LoweredModel to a folder and load it back: FOLDER/ir.json and FOLDER/ir.npz.

ir.json holds the structure: names, types, quantizers, scalars and, for every array, its key in
ir.npz and its shape (sorted keys, one-space indent, newline at the end). ir.npz holds the arrays
(weights, biases, tables) as int64 .npy members of a zip with fixed dates, so saving one IR
always gives the same bytes. Loading rebuilds the records, which check their invariants.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from hwgen.gates import Gate
from hwgen.ir.graph import GRULayerIR, LayerIR, LoweredModel, Preprocess, RNNLayerIR, StateInput
from hwgen.ir.stages import (ActLUT, Blend, CellUpdate, Embedding, GateSum, Head, HiddenNew,
                             HiddenOut, MatVec, NewSum, StateReg)
from hwgen.reference.gru import GRUGate
from hwgen.locks import write_atomic
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType, Rounding

FORMAT = "hwgen-ir"
VERSION = 1
JSON_NAME, NPZ_NAME = "ir.json", "ir.npz"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --- saving -------------------------------------------------------------------------------------
def _type(t):
    return None if t is None else {"width": t.width, "signed": t.signed, "exp": t.exp,
                                   "narrow": t.narrow}


def _quant(q: Quantizer) -> dict:
    return {"type": _type(q.type), "rounding": q.rounding.value}


class _Writer:
    """Collects the arrays while the structure is written."""

    def __init__(self):
        self.arrays = {}

    def array(self, key: str, values):
        if values is None:
            return None
        arr = np.ascontiguousarray(np.asarray(values, dtype=np.int64))
        self.arrays[key] = arr
        return {"array": key, "shape": list(arr.shape)}

    def matvec(self, mv: MatVec) -> dict:
        return {"name": mv.name, "gates": [g.value for g in mv.gates],
                "weights": self.array(f"{mv.name}.weights", mv.weights),
                "weight_types": [_type(t) for t in mv.weight_types], "in_type": _type(mv.in_type),
                "acc_type": _type(mv.acc_type), "pe": mv.pe, "simd": mv.simd}

    def gate_sum(self, s: GateSum) -> dict:
        return {"name": s.name, "gate": s.gate.value, "x_shift": s.x_shift, "h_shift": s.h_shift,
                "bias": self.array(f"{s.name}.bias", s.bias), "sum_type": _type(s.sum_type),
                "out": _quant(s.out)}

    def lut(self, a: ActLUT) -> dict:
        return {"name": a.name, "function": a.function,
                "table": self.array(f"{a.name}.table", a.table), "in_type": _type(a.in_type),
                "out_type": _type(a.out_type)}

    def layer(self, layer) -> dict:
        out = {"kind": layer.kind, "name": layer.name, "index": layer.index,
               "input_size": layer.input_size, "hidden_size": layer.hidden_size,
               "reverse": layer.reverse, "x_mv": self.matvec(layer.x_mv),
               "h_mv": self.matvec(layer.h_mv),
               "state": {"name": layer.state.name, "h_type": _type(layer.state.h_type),
                         "c_type": _type(layer.state.c_type)}}
        if layer.units_per_cycle < layer.hidden_size:  # absent: all units (before the key)
            out["lanes"] = layer.lanes
        if layer.kind == "rnn":
            out.update(sum=self.gate_sum(layer.sum), act=self.lut(layer.act))
            return out
        if layer.kind == "gru":
            return {**out, **self.gru(layer)}
        cu, hid = layer.cell, layer.hidden
        out.update(
            sums={g.value: self.gate_sum(s) for g, s in layer.sums.items()},
            luts={g.value: self.lut(a) for g, a in layer.luts.items()},
            cell={"name": cu.name, "f_type": _type(cu.f_type), "i_type": _type(cu.i_type),
                  "g_type": _type(cu.g_type), "cell": _quant(cu.cell), "cifg": cu.cifg,
                  "one_code": cu.one_code},
            cell_tanh=self.lut(layer.cell_tanh),
            hidden={"name": hid.name, "o_type": _type(hid.o_type),
                    "tanh_type": _type(hid.tanh_type), "out": _quant(hid.out)})
        return out

    def gru(self, layer) -> dict:
        """Return a GRU layer's own stages (its gate sums, tables, hidden_new, new_sum, blend)."""
        hn, ns, b = layer.hidden_new, layer.new_sum, layer.blend
        return {"sums": {g.value: self.gate_sum(s) for g, s in layer.sums.items()},
                "luts": {g.value: self.lut(a) for g, a in layer.luts.items()},
                "hidden_new": {"name": hn.name, "h_shift": hn.h_shift,
                               "bias": self.array(f"{hn.name}.bias", hn.bias),
                               "sum_type": _type(hn.sum_type), "out": _quant(hn.out)},
                "new_sum": {"name": ns.name, "r_type": _type(ns.r_type),
                            "hn_type": _type(ns.hn_type), "x_shift": ns.x_shift,
                            "rh_shift": ns.rh_shift, "bias": self.array(f"{ns.name}.bias", ns.bias),
                            "sum_type": _type(ns.sum_type), "out": _quant(ns.out)},
                "blend": {"name": b.name, "z_type": _type(b.z_type), "n_type": _type(b.n_type),
                          "one_code": b.one_code, "z_shift": b.z_shift, "nz_shift": b.nz_shift,
                          "zh_shift": b.zh_shift, "sum_type": _type(b.sum_type),
                          "out": _quant(b.out)}}

    def model(self, model: LoweredModel) -> dict:
        head = model.head
        pre = model.preprocess
        extra = {} if pre is None else {"preprocess": {"mean": list(pre.mean),
                                                       "std": list(pre.std)}}
        if pre is not None and pre.target_mean:  # absent: a classifier's (or an older IR)
            extra["preprocess"].update(target_mean=list(pre.target_mean),
                                       target_std=list(pre.target_std))
        if model.multipliers != "auto":  # absent: auto (ir.json written before the key)
            extra["multipliers"] = model.multipliers
        if model.interleave != 1:  # absent: 1
            extra["interleave"] = model.interleave
        if model.stateful:  # absent: the state returns to zero after every sequence
            extra["stateful"] = True
        if model.embed is not None:  # absent: the model reads feature vectors
            e = model.embed
            extra["embed"] = {"name": e.name, "table": self.array(f"{e.name}.table", e.table),
                              "table_type": _type(e.table_type), "out": _quant(e.out)}
        return {**extra,
            "format": FORMAT, "version": VERSION, "input": _quant(model.input),
            "max_steps": model.max_steps, "batch_first": model.batch_first,
            "states": [{"tensor": s.tensor, "row": s.row, "layer": s.layer, "part": s.part,
                        "quant": _quant(s.quant), "count": s.count} for s in model.states],
            "layers": [self.layer(layer) for layer in model.layers],
            "head": None if head is None else {
                "name": head.name, "matvec": self.matvec(head.matvec),
                "bias": self.array(f"{head.name}.bias", head.bias), "mv_shift": head.mv_shift,
                "score_type": _type(head.score_type),
                **({"per_step": True} if head.per_step else {})},  # absent: the last step
        }


def _write_npz(path: Path, arrays: dict) -> None:
    """Write arrays to an npz whose bytes depend on the arrays only (sorted, fixed dates)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            data = io.BytesIO()
            np.lib.format.write_array(data, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.getvalue())


def save_ir(model: LoweredModel, folder) -> Path:
    """Write model to folder/ir.json and folder/ir.npz (each atomically); return the folder."""
    folder = Path(folder)
    writer = _Writer()
    text = json.dumps(writer.model(model), sort_keys=True, indent=1) + "\n"
    write_atomic(folder / NPZ_NAME, lambda tmp: _write_npz(tmp, writer.arrays))
    write_atomic(folder / JSON_NAME, lambda tmp: tmp.write_text(text))
    return folder


def ir_digest(folder) -> str:
    """Return 16 hex digits of the sha256 of a saved IR's two files (for step caching)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for name in (JSON_NAME, NPZ_NAME):
        path = folder / name
        if not path.is_file():
            raise HwgenError(f"{path}: missing (no saved IR in {folder})")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --- loading ------------------------------------------------------------------------------------
class _LoadError(HwgenError):
    """A load error that already names its file and key."""


class _Reader:
    """Reads the structure back; every error names the file and the key."""

    def __init__(self, json_path: Path, npz_path: Path, arrays):
        self.json_path, self.npz_path, self.arrays = json_path, npz_path, arrays

    def fail(self, where: str, message: str):
        raise _LoadError(f"{self.json_path}: key {where or '(top)'}: {message}")

    def get(self, d, key: str, where: str, kind=None):
        """Return d[key], checking it is there (and of kind when given)."""
        path = f"{where}.{key}" if where else key
        if not isinstance(d, dict) or key not in d:
            self.fail(path, "missing")
        value = d[key]
        if kind is not None and not (isinstance(value, kind) and not (
                kind is int and isinstance(value, bool))):
            self.fail(path, f"{value!r} is not {kind.__name__}")
        return value

    def type(self, d, key, where, optional=False):
        t = self.get(d, key, where)
        if t is None and optional:
            return None
        return self.type_at(t, f"{where}.{key}")

    def type_at(self, t, path: str) -> IntType:
        return self.build(path, IntType, self.get(t, "width", path, int),
                          self.get(t, "signed", path, bool), self.get(t, "exp", path, int),
                          self.get(t, "narrow", path, bool))

    def quant(self, d, key, where) -> Quantizer:
        q, path = self.get(d, key, where, dict), f"{where}.{key}"
        rounding = self.get(q, "rounding", path, str)
        if rounding not in {m.value for m in Rounding}:
            self.fail(f"{path}.rounding", f"unknown rounding {rounding!r}")
        return Quantizer(self.type(q, "type", path), Rounding(rounding))

    def gate(self, value, where):
        """Return the LSTM Gate or the GRUGate named value (their names differ)."""
        if value in {g.value for g in GRUGate}:
            return GRUGate(value)
        if value not in {g.value for g in Gate}:
            self.fail(where, f"unknown gate {value!r}")
        return Gate(value)

    def gru(self, d, p, common: dict) -> GRULayerIR:
        """Return a GRU layer from its entry (common: the fields every layer kind has)."""
        sums, luts = self.get(d, "sums", p, dict), self.get(d, "luts", p, dict)
        sums = {self.gate(g, f"{p}.sums"): self.gate_sum(s, f"{p}.sums.{g}")
                for g, s in sums.items()}
        luts = {self.gate(g, f"{p}.luts"): self.lut(a, f"{p}.luts.{g}") for g, a in luts.items()}
        hn, hp = self.get(d, "hidden_new", p, dict), f"{p}.hidden_new"
        ns, np_ = self.get(d, "new_sum", p, dict), f"{p}.new_sum"
        b, bp = self.get(d, "blend", p, dict), f"{p}.blend"
        hidden_new = self.build(hp, HiddenNew, self.get(hn, "name", hp, str),
                                self.get(hn, "h_shift", hp, int),
                                self.array(hn, "bias", hp, optional=True),
                                self.type(hn, "sum_type", hp), self.quant(hn, "out", hp))
        new_sum = self.build(np_, NewSum, self.get(ns, "name", np_, str),
                             self.type(ns, "r_type", np_), self.type(ns, "hn_type", np_),
                             self.get(ns, "x_shift", np_, int), self.get(ns, "rh_shift", np_, int),
                             self.array(ns, "bias", np_, optional=True),
                             self.type(ns, "sum_type", np_), self.quant(ns, "out", np_))
        blend = self.build(bp, Blend, self.get(b, "name", bp, str), self.type(b, "z_type", bp),
                           self.type(b, "n_type", bp), self.get(b, "one_code", bp, int),
                           *(self.get(b, k, bp, int) for k in ("z_shift", "nz_shift", "zh_shift")),
                           self.type(b, "sum_type", bp), self.quant(b, "out", bp))
        order = list(GRUGate)  # gate order, whatever order the file lists them in
        return self.build(p, GRULayerIR, sums={g: sums[g] for g in order if g in sums},
                          luts={g: luts[g] for g in order if g in luts}, hidden_new=hidden_new,
                          new_sum=new_sum, blend=blend, **common)

    def array(self, d, key, where, optional=False):
        ref = self.get(d, key, where)
        if ref is None and optional:
            return None
        path = f"{where}.{key}"
        name, shape = self.get(ref, "array", path, str), self.get(ref, "shape", path, list)
        if name not in self.arrays.files:
            raise _LoadError(f"{self.npz_path}: key {name}: missing")
        try:
            arr = self.arrays[name]
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise _LoadError(f"{self.npz_path}: key {name}: unreadable "
                             f"({str(e).splitlines()[0]})") from None
        if list(arr.shape) != shape:
            raise _LoadError(f"{self.npz_path}: key {name}: shape {list(arr.shape)}, expected "
                             f"{shape}")
        if arr.dtype != np.int64:
            raise _LoadError(f"{self.npz_path}: key {name}: {arr.dtype} values, expected int64")
        return arr

    def build(self, where, cls, *args, **kwargs):
        """Return cls(*args, **kwargs); its invariant errors name the key."""
        try:
            return cls(*args, **kwargs)
        except _LoadError:
            raise
        except HwgenError as e:
            self.fail(where, str(e))

    def matvec(self, d, key, where) -> MatVec:
        m, p = self.get(d, key, where, dict), f"{where}.{key}"
        types = self.get(m, "weight_types", p, list)
        return self.build(p, MatVec, self.get(m, "name", p, str),
                          tuple(self.gate(g, f"{p}.gates") for g in self.get(m, "gates", p, list)),
                          self.array(m, "weights", p),
                          tuple(self.type_at(t, f"{p}.weight_types.{k}")
                                for k, t in enumerate(types)),
                          self.type(m, "in_type", p), self.type(m, "acc_type", p),
                          self.get(m, "pe", p, int), self.get(m, "simd", p, int))

    def gate_sum(self, s, p) -> GateSum:
        return self.build(p, GateSum, self.get(s, "name", p, str),
                          self.gate(self.get(s, "gate", p, str), f"{p}.gate"),
                          self.get(s, "x_shift", p, int), self.get(s, "h_shift", p, int),
                          self.array(s, "bias", p, optional=True), self.type(s, "sum_type", p),
                          self.quant(s, "out", p))

    def lut(self, a, p) -> ActLUT:
        return self.build(p, ActLUT, self.get(a, "name", p, str), self.get(a, "function", p, str),
                          self.array(a, "table", p), self.type(a, "in_type", p),
                          self.type(a, "out_type", p))

    def layer(self, d, p):
        kind = self.get(d, "kind", p, str)
        st, sp = self.get(d, "state", p, dict), f"{p}.state"
        common = dict(name=self.get(d, "name", p, str),
                      input_size=self.get(d, "input_size", p, int),
                      hidden_size=self.get(d, "hidden_size", p, int),
                      reverse=self.get(d, "reverse", p, bool),
                      x_mv=self.matvec(d, "x_mv", p), h_mv=self.matvec(d, "h_mv", p),
                      state=self.build(sp, StateReg, self.get(st, "name", sp, str),
                                       self.type(st, "h_type", sp),
                                       self.type(st, "c_type", sp, optional=True)),
                      index=self.get(d, "index", p, int),
                      lanes=self.get(d, "lanes", p, int) if "lanes" in d else 0)
        if kind == "rnn":
            return self.build(p, RNNLayerIR,
                              sum=self.gate_sum(self.get(d, "sum", p, dict), f"{p}.sum"),
                              act=self.lut(self.get(d, "act", p, dict), f"{p}.act"), **common)
        if kind == "gru":
            return self.gru(d, p, common)
        if kind != "lstm":
            self.fail(f"{p}.kind", f"unknown layer kind {kind!r}")
        sums, luts = self.get(d, "sums", p, dict), self.get(d, "luts", p, dict)
        sums = {self.gate(g, f"{p}.sums"): self.gate_sum(s, f"{p}.sums.{g}")
                for g, s in sums.items()}
        luts = {self.gate(g, f"{p}.luts"): self.lut(a, f"{p}.luts.{g}") for g, a in luts.items()}
        order = list(Gate)  # gate order, whatever order the file lists them in
        c, cp = self.get(d, "cell", p, dict), f"{p}.cell"
        h, hp = self.get(d, "hidden", p, dict), f"{p}.hidden"
        cell = self.build(cp, CellUpdate, self.get(c, "name", cp, str), self.type(c, "f_type", cp),
                          self.type(c, "i_type", cp), self.type(c, "g_type", cp),
                          self.quant(c, "cell", cp), self.get(c, "cifg", cp, bool),
                          self.get(c, "one_code", cp, int))
        hidden = self.build(hp, HiddenOut, self.get(h, "name", hp, str),
                            self.type(h, "o_type", hp), self.type(h, "tanh_type", hp),
                            self.quant(h, "out", hp))
        return self.build(p, LayerIR, sums={g: sums[g] for g in order if g in sums},
                          luts={g: luts[g] for g in order if g in luts}, cell=cell,
                          cell_tanh=self.lut(self.get(d, "cell_tanh", p, dict), f"{p}.cell_tanh"),
                          hidden=hidden, **common)

    def model(self, d) -> LoweredModel:
        fmt = d.get("format") if isinstance(d, dict) else None
        version = self.get(d, "version", "")
        if fmt != FORMAT or version != VERSION:
            raise HwgenError(f"{self.json_path}: format {fmt!r} version {version!r}, expected "
                             f"{FORMAT!r} version {VERSION} (save the IR again)")
        states = []
        for k, s in enumerate(self.get(d, "states", "", list)):
            p = f"states.{k}"
            states.append(self.build(p, StateInput, self.get(s, "tensor", p, str),
                                     self.get(s, "row", p, int), self.get(s, "layer", p, str),
                                     self.get(s, "part", p, str), self.quant(s, "quant", p),
                                     self.get(s, "count", p, int)))
        layers = tuple(self.layer(layer, f"layers.{k}")
                       for k, layer in enumerate(self.get(d, "layers", "", list)))
        head = self.get(d, "head", "")
        if head is not None:
            head = self.build("head", Head, self.get(head, "name", "head", str),
                              self.matvec(head, "matvec", "head"),
                              self.array(head, "bias", "head", optional=True),
                              self.get(head, "mv_shift", "head", int),
                              self.type(head, "score_type", "head"),
                              bool(self.get(head, "per_step", "head", bool))
                              if "per_step" in head else False)
        pre = d.get("preprocess")
        if pre is not None:
            targets = [self.get(pre, k, "preprocess", list) if k in pre else []
                       for k in ("target_mean", "target_std")]
            pre = self.build("preprocess", Preprocess, self.get(pre, "mean", "preprocess", list),
                             self.get(pre, "std", "preprocess", list), *targets)
        return self.build("", LoweredModel, self.quant(d, "input", ""), layers, head,
                          self.get(d, "max_steps", "", int), tuple(states),
                          self.get(d, "batch_first", "", bool), pre,
                          self.get(d, "multipliers", "", str) if "multipliers" in d else "auto",
                          self.get(d, "interleave", "", int) if "interleave" in d else 1,
                          self.embed(d["embed"]) if "embed" in d else None,
                          self.get(d, "stateful", "", bool) if "stateful" in d else False)

    def embed(self, e) -> Embedding:
        return self.build("embed", Embedding, self.get(e, "name", "embed", str),
                          self.array(e, "table", "embed"), self.type(e, "table_type", "embed"),
                          self.quant(e, "out", "embed"))


def load_ir(folder) -> LoweredModel:
    """Return the LoweredModel saved in folder, or raise a one-line HwgenError naming the file
    and the key at fault."""
    folder = Path(folder)
    json_path, npz_path = folder / JSON_NAME, folder / NPZ_NAME
    for path in (json_path, npz_path):
        if not path.is_file():
            raise HwgenError(f"{path}: missing (no saved IR in {folder})")
    try:
        data = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise HwgenError(f"{json_path}: not JSON ({str(e).splitlines()[0]})") from None
    try:
        arrays = np.load(npz_path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise HwgenError(f"{npz_path}: not an npz file ({str(e).splitlines()[0]})") from None
    with arrays:
        return _Reader(json_path, npz_path, arrays).model(data)
