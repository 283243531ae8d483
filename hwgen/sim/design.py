"""What both simulators share about a generated design: its description and its data.

A generated rtl or hls folder holds design.json (stream widths, types, output kind, cycle model,
initial-state slices); load_design reads it into a Design. Both runners take input sequences and
state vectors as integer codes, checked here, and give outputs as codes that backend_output turns
into the graph's float layout.

A design with initial-state inputs (design.json "state": the slices of its state word, as
hwgen.codegen.design.state_description writes it) takes one state code vector per sequence, the slices'
codes concatenated in order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import numpy as np

from hwgen.reference.luts import quantize_input
from hwgen.types import HwgenError, IntType, Rounding

KINDS = ("scores", "hidden", "step_scores")  # step_scores: scores and a class every step
MAX_CODE_WIDTH = 64  # outputs come back as int64 codes


@dataclass(frozen=True)
class Design:
    """What design.json says about a generated top: stream types, output kind, cycle model."""

    top: str
    x_type: IntType
    x_count: int
    rounding: Rounding
    kind: str
    y_type: IntType
    y_count: int
    class_width: int
    batch_first: bool
    per_step: int
    head: int
    max_steps: int  # longest sequence the design buffers; 0: it buffers none, any length runs
    raw: dict = field(repr=False, compare=False)


def _get(d: dict, key: str, where: str, kind=None):
    """Return d[key], or raise HwgenError naming where the key is missing or has the wrong type."""
    if not isinstance(d, dict) or key not in d:
        raise HwgenError(f"{where}: missing key {key!r}")
    value = d[key]
    if kind is not None and (not isinstance(value, kind) or
                             (isinstance(value, bool) and kind is not bool)):
        raise HwgenError(f"{where}: {key!r} is {value!r}, not {kind.__name__}")
    return value


def load_design(design_dir) -> Design:
    """Return the Design in design_dir/design.json, or raise HwgenError saying what is wrong."""
    path = Path(design_dir) / "design.json"
    if not path.is_file():
        raise HwgenError(f"{path}: no such file (not a generated rtl folder?)")
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HwgenError(f"{path}: not valid JSON ({exc})") from None
    x, y, cycles = (_get(raw, key, str(path), dict) for key in ("input", "output", "cycles"))
    where, out = f"{path}: input", f"{path}: output"
    kind = _get(y, "kind", out, str)
    if kind not in KINDS:
        raise HwgenError(f"{out}: kind {kind!r} is not one of {', '.join(KINDS)}")
    y_type = IntType(_get(y, "width", out, int), _get(y, "signed", out, bool),
                     _get(y, "exp", out, int))
    if y_type.width > MAX_CODE_WIDTH:
        raise HwgenError(f"{out}: width {y_type.width} exceeds {MAX_CODE_WIDTH} bits")
    return Design(
        top=_get(raw, "top", str(path), str),
        x_type=IntType(_get(x, "width", where, int), _get(x, "signed", where, bool),
                       _get(x, "exp", where, int), _get(x, "narrow", where, bool)),
        x_count=_get(x, "count", where, int),
        rounding=Rounding.parse(_get(x, "rounding", where, str), where),
        kind=kind, y_type=y_type, y_count=_get(y, "count", out, int),
        class_width=_get(raw, "class_width", str(path), int),
        batch_first=_get(raw, "batch_first", str(path), bool),
        per_step=_get(cycles, "per_step", f"{path}: cycles", int),
        head=_get(cycles, "head", f"{path}: cycles", int),
        max_steps=_get(raw, "max_steps", str(path), int) if "max_steps" in raw else 0,
        raw=raw)


def quantize_inputs(x_float, design: Design) -> np.ndarray:
    """Return the int64 input codes the design's input quantizer gives float32 x_float."""
    return quantize_input(x_float, design.x_type, design.rounding, "input")


def preprocess_of(design: Design, where: str = "design.json"):
    """Return the design's Preprocess (how raw features become its input), or raise HwgenError
    when design.json does not record one."""
    from hwgen.ir.graph import Preprocess

    pre = design.raw.get("preprocess")
    if pre is None:
        raise HwgenError(f"{where}: records no preprocessing (a design built from a QONNX file "
                         f"alone takes standardized inputs: quantize them with the input type)")
    return Preprocess(_get(pre, "mean", f"{where}: preprocess", list),
                      _get(pre, "std", f"{where}: preprocess", list))


def quantize_raw(raw, design: Design, where: str = "design.json") -> np.ndarray:
    """Return the input codes of raw features [..., C]: standardized as design.json's
    preprocess says, then quantized by the design's input quantizer (what the flow feeds it)."""
    raw = np.asarray(raw)
    if raw.dtype.kind not in "fiu" or raw.ndim < 1 or raw.shape[-1] != design.x_count:
        raise HwgenError(f"raw input: {raw.dtype} {list(raw.shape)}, want numbers [..., "
                         f"{design.x_count}]")
    return quantize_inputs(preprocess_of(design, where).apply(raw), design)


def check_sequences(sequences, design: Design) -> list[np.ndarray]:
    """Return sequences as int64 [T_i, I] arrays, or raise HwgenError naming the first bad one."""
    if len(sequences) == 0:
        raise HwgenError("no sequences to simulate")
    checked = []
    for k, seq in enumerate(sequences):
        arr = np.asarray(seq)
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != design.x_count:
            raise HwgenError(f"sequence {k}: shape {list(arr.shape)}, want [T >= 1, "
                             f"{design.x_count}]")
        if arr.dtype.kind not in "iu" or not design.x_type.contains(arr):
            raise HwgenError(f"sequence {k}: not integer codes of {design.x_type.describe()}")
        if design.max_steps and arr.shape[0] > design.max_steps:
            raise HwgenError(f"sequence {k}: {arr.shape[0]} steps, longer than the "
                             f"{design.max_steps} the design buffers (max_steps)")
        checked.append(arr.astype(np.int64))
    return checked


@dataclass(frozen=True)
class StateSlice:
    """One slice of a design's state word, from design.json: count codes of type, from a graph
    input's row, quantized with rounding."""

    tensor: str
    row: int
    target: str  # "direction.part", for messages
    type: IntType
    rounding: Rounding
    count: int


def state_slices(design: Design) -> list:
    """Return the StateSlices of design.json's "state" entry, in order; empty without one."""
    raw = design.raw.get("state")
    if raw is None:
        return []
    where = "design.json: state"
    out = []
    for k, s in enumerate(_get(raw, "slices", where, list)):
        at = f"{where} slice {k}"
        t = IntType(_get(s, "width", at, int), _get(s, "signed", at, bool), _get(s, "exp", at, int),
                    _get(s, "narrow", at, bool))
        out.append(StateSlice(_get(s, "tensor", at, str), _get(s, "row", at, int),
                              f"{_get(s, 'layer', at, str)}.{_get(s, 'part', at, str)}", t,
                              Rounding.parse(_get(s, "rounding", at, str), at),
                              _get(s, "count", at, int)))
    return out


def check_states(states, slices: list, sequences: int) -> list:
    """Return one int64 state code vector per sequence, or raise HwgenError naming what is wrong."""
    if not slices:
        if states is not None:
            raise HwgenError("states given, but the design has no initial-state input")
        return [np.zeros(0, dtype=np.int64)] * sequences
    if states is None:
        raise HwgenError(f"the design reads initial states ({', '.join(s.target for s in slices)})"
                         ": give states, one code vector per sequence")
    if len(states) != sequences:
        raise HwgenError(f"{len(states)} state vectors for {sequences} sequences")
    want = sum(s.count for s in slices)
    checked = []
    for k, vec in enumerate(states):
        arr = np.asarray(vec)
        if arr.shape != (want,) or arr.dtype.kind not in "iu":
            raise HwgenError(f"state {k}: {arr.dtype} shape {list(arr.shape)}, want {want} integer "
                             f"codes ({', '.join(s.target for s in slices)})")
        start = 0
        for s in slices:
            if not s.type.contains(arr[start:start + s.count]):
                raise HwgenError(f"state {k}: {s.target} codes are not {s.type.describe()}")
            start += s.count
        checked.append(arr.astype(np.int64))
    return checked


def state_codes(design: Design, states: dict, batch: int) -> list:
    """Return one state code vector per batch element (None without states) from float states.

    states maps each state tensor to its float values [rows, batch, hidden] (Brevitas's hx, cx);
    each slice quantizes its row as design.json says.
    """
    slices = state_slices(design)
    if not slices:
        if states:
            raise HwgenError("states given, but the design has no initial-state input")
        return None
    unknown = sorted(set(states or {}) - {s.tensor for s in slices})
    if unknown:
        raise HwgenError(f"state {unknown[0]!r}: the design has no such state input (its state "
                         f"inputs: {', '.join(dict.fromkeys(s.tensor for s in slices))})")
    per_slice = []
    for s in slices:
        if s.tensor not in (states or {}):
            raise HwgenError(f"graph input {s.tensor!r} (an initial state) needs a value")
        value = np.asarray(states[s.tensor], dtype=np.float32)
        if value.ndim != 3 or value.shape[0] <= s.row or value.shape[1:] != (batch, s.count):
            raise HwgenError(f"state {s.tensor!r}: shape {list(value.shape)}, want [rows > "
                             f"{s.row}, {batch}, {s.count}]")
        per_slice.append(quantize_input(value[s.row], s.type, s.rounding, f"state {s.tensor!r}"))
    return list(np.concatenate(per_slice, axis=1))


def backend_output(design: Design, outputs: list) -> np.ndarray:
    """Return per-sequence output codes as run_reference lays them out: float32, graph layout."""
    values = np.stack(outputs).astype(np.float32) * np.float32(design.y_type.scale)
    if design.kind == "scores" or design.batch_first:
        return values
    return np.ascontiguousarray(np.swapaxes(values, 0, 1))  # [B, T, N] -> [T, B, N]


def interleave_order(lengths: list, n: int) -> list[int]:
    """Return a stream order that runs every sequence in a group of n of equal length: indices
    into lengths, every one at least once. The sequences are sorted by length (stably: equal
    lengths keep their order) and cut into groups of n; a length's last group, short of n, is
    filled with repeats of its own sequences, its first one first. n = 1: every index once, in
    order (no grouping)."""
    if n < 1:
        raise HwgenError(f"interleave {n}: groups need at least one sequence")
    if n == 1:
        return list(range(len(lengths)))
    order = []
    length = [int(v) for v in lengths].__getitem__
    for _, same in groupby(sorted(range(len(lengths)), key=length), key=length):
        same = list(same)
        for g in range(0, len(same), n):
            group = same[g:g + n]
            order += group + [group[k % len(group)] for k in range(n - len(group))]
    return order


def stream_positions(order: list, count: int) -> list[list[int]]:
    """Return, for each of count sequences, its positions in a stream order (interleave_order),
    first run first; raise HwgenError when one of them is missing from the order."""
    positions = [[] for _ in range(count)]
    for p, i in enumerate(order):
        positions[i].append(p)
    missing = [i for i, ps in enumerate(positions) if not ps]
    if missing:
        raise HwgenError(f"sequence {missing[0]} is not in the stream order")
    return positions


def interleave_chunks(sequences: list, n: int) -> list:
    """Return the interleaved input stream of sequences taken as groups of n consecutive ones
    (step t of each in turn, then step t + 1), cut into chunks so that a runner's last flag, set
    on each chunk's last element, falls on each sequence's last step (the last n elements of a
    group): one chunk up to the group's first last step, then one chunk per element."""
    if len(sequences) % n:
        raise HwgenError(f"{len(sequences)} sequences do not make groups of {n}")
    chunks = []
    for g in range(0, len(sequences), n):
        group = sequences[g:g + n]
        if len({len(s) for s in group}) != 1:
            raise HwgenError(f"sequences {g} .. {g + n - 1}: an interleaved group needs equal "
                             "lengths")
        steps = len(group[0])
        stream = np.stack(group, axis=1).reshape(steps * n, -1)  # [T, n, I] step-major
        cut = steps * n - n + 1
        chunks += [stream[:cut]] + [stream[k:k + 1] for k in range(cut, steps * n)]
    return chunks


def ilv_transfer_indices(n: int, steps: list, head: bool) -> tuple:
    """Return, for every sequence of an interleaved stream (steps: each one's steps, groups of n
    consecutive ones of equal length), the indices of its input transfers in the stream and the
    index of its last output transfer (one output per sequence with a head, else one per input)."""
    inputs, last, start = [], [], 0
    for p, length in enumerate(steps):
        if p and p % n == 0:
            start += n * steps[p - 1]
        inputs.append([start + t * n + p % n for t in range(length)])
        last.append(p if head else inputs[-1][-1])
    return inputs, last


def interleaved_outputs(rows: list, classes: list, kind: str, n: int, lengths: list) -> tuple:
    """Return (outputs, classes) per sequence from an interleaved run's output rows in stream
    order (scores: one per sequence, in order; hidden: one per input element) and its classes
    (scores designs); lengths: every sequence's steps."""
    outputs, per_seq, at = [], [], 0
    for g in range(0, len(lengths), n):
        if kind == "scores":
            outputs += [np.asarray(r) for r in rows[at:at + n]]
            per_seq += [int(c) for c in classes[at:at + n]]
            at += n
        else:
            steps = lengths[g]
            block = np.asarray(rows[at:at + steps * n]).reshape(steps, n, -1)
            outputs += [block[:, k] for k in range(n)]
            at += steps * n
    if at != len(rows):
        raise HwgenError(f"{len(rows)} output transfers recorded, want {at}")
    return outputs, per_seq
