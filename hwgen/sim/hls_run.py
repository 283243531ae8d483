"""Run a generated HLS design in C simulation: compile its testbench with g++, stream sequences in.

The design side is an hls folder (DIR/hls) holding the generated sources, tb.cpp and design.json
(the same format as the RTL's, read with hwgen.sim.design.load_design). The binary is cached in
the build folder under a hash of everything it is compiled from, so a design compiles once.

A design with initial-state inputs (design.json "state": the slices of its state word) takes one
state code vector per sequence: the slices' codes concatenated in order.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.sim.design import (Design, check_sequences, check_states, interleave_chunks,
                              interleaved_outputs, load_design, state_slices)
from hwgen.sim.tools import ap_types_dir, build_lock, require_cxx
from hwgen.types import HwgenError

CXX_FLAGS = ("-O1", "-std=c++14", "-w")  # -w: the vendor ap_types headers are not warning-clean
SOURCES = ("tb.cpp", "hwgen_top.cpp")


class HlsSimError(HwgenError):
    """The design failed to compile, or its C simulation failed; the message says which."""


@dataclass(frozen=True)
class HlsResult:
    """Every output of a run_hls C simulation, per sequence."""

    design: Design
    outputs: list  # per sequence, int64 codes: scores [N], hidden or step_scores [T_i, N]
    classes: list  # per sequence: an int (scores), int64 [T_i] (step_scores); empty for hidden
    build_seconds: float  # 0.0 when the cached binary was reused
    sim_seconds: float


def _build_key(hls_dir: Path, cxx: str, ap_types: Path) -> str:
    """Return a hash of the compiler, flags, design sources and ap_types headers."""
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True,
                             check=False).stdout
    h = hashlib.sha256()
    for part in (version, " ".join(CXX_FLAGS), str(ap_types)):
        h.update(part.encode() + b"\0")
    for src in sorted(hls_dir.glob("*.h")) + [hls_dir / s for s in SOURCES]:
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()


def build_hls(hls_dir, build_dir) -> tuple[Path, float]:
    """Return (C-simulation binary, compile seconds or 0.0 when cached) of the design in hls_dir."""
    hls_dir = Path(hls_dir).resolve()
    missing = [s for s in SOURCES if not (hls_dir / s).is_file()]
    if missing:
        raise HwgenError(f"{hls_dir}: missing {', '.join(missing)} (not a generated hls folder?)")
    cxx, ap_types = require_cxx(), ap_types_dir()
    build_dir = Path(build_dir).resolve()
    binary = build_dir / f"csim-{_build_key(hls_dir, cxx, ap_types)[:20]}"
    with build_lock(build_dir):
        if binary.is_file():
            return binary, 0.0
        partial = binary.with_name(binary.name + ".tmp")
        cmd = [cxx, *CXX_FLAGS, f"-I{hls_dir}", f"-I{ap_types}",
               *[str(hls_dir / s) for s in SOURCES], "-o", str(partial)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HlsSimError(f"g++ failed on {hls_dir}:\n{done.stderr[-4000:]}")
        os.replace(partial, binary)  # an interrupted build never looks cached
        return binary, time.perf_counter() - start


def _write_inputs(path: Path, sequences: list, states: list) -> None:
    lines = [str(len(sequences))]
    for seq, state in zip(sequences, states):
        lines.append(str(len(seq)))
        if len(state):
            lines.append(" ".join(str(int(v)) for v in state))
        lines += [" ".join(str(int(v)) for v in row) for row in seq]
    path.write_text("\n".join(lines) + "\n")


def _read_outputs(path: Path, design: Design, lengths: list) -> tuple[list, list]:
    """Return (outputs, classes) per sequence from the testbench's output lines."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    scores = design.kind in ("scores", "step_scores")  # lines: the class, then the scores
    width = design.y_count + (1 if scores else 0)
    want = len(lengths) if design.kind == "scores" else sum(lengths)
    if len(rows) != want or any(len(r) != width for r in rows):
        raise HlsSimError(f"the C simulation wrote {len(rows)} output lines, want {want} of "
                          f"{width} codes")
    codes = np.array(rows, dtype=np.int64).reshape(len(rows), width)
    if design.kind == "scores":
        return list(codes[:, 1:]), [int(c) for c in codes[:, 0]]
    ends = np.cumsum(lengths)
    if scores:  # step_scores: every step's class and scores
        return ([codes[e - n:e, 1:] for e, n in zip(ends, lengths)],
                [codes[e - n:e, 0] for e, n in zip(ends, lengths)])
    return [codes[e - n:e] for e, n in zip(ends, lengths)], []


def run_hls(hls_dir, sequences, build_dir=None, states=None) -> HlsResult:
    """Return the outputs of streaming sequences (int64 codes [T_i, I]) through the C simulation.

    A design with a sequence buffer refuses (HwgenError) a sequence longer than its max_steps.
    states: for a design with initial-state inputs (and only then), one int64 code vector per
    sequence, its state slices' codes concatenated in design.json's order.

    The binary goes to build_dir (default: hls_dir/../hls_build) and is reused while the sources
    are unchanged.
    """
    hls_dir = Path(hls_dir).resolve()
    design = load_design(hls_dir)
    sequences = check_sequences(sequences, design)
    states = check_states(states, state_slices(design), len(sequences))
    build_dir = Path(build_dir or hls_dir.parent / "hls_build").resolve()
    binary, build_seconds = build_hls(hls_dir, build_dir)
    with tempfile.TemporaryDirectory(dir=build_dir, prefix="run-") as run:
        inputs, outputs = Path(run) / "inputs.txt", Path(run) / "outputs.txt"
        _write_inputs(inputs, sequences, states)
        start = time.perf_counter()
        done = subprocess.run([str(binary), str(inputs), str(outputs)], capture_output=True,
                              text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise HlsSimError(f"C simulation of {hls_dir} failed (status {done.returncode}):\n"
                              f"{done.stderr[-2000:]}")
        outs, classes = _read_outputs(outputs, design, [len(s) for s in sequences])
    return HlsResult(design=design, outputs=outs, classes=classes, build_seconds=build_seconds,
                     sim_seconds=seconds)


def run_hls_interleaved(hls_dir, sequences, build_dir=None) -> HlsResult:
    """Return the outputs of an interleaved design's C simulation (design.json cycles.interleave
    = N) for sequences taken as groups of N consecutive ones of equal length, streamed step by
    step round-robin (as run_rtl_interleaved)."""
    hls_dir = Path(hls_dir).resolve()
    design = load_design(hls_dir)
    n = design.raw["cycles"].get("interleave", 1)
    sequences = check_sequences(sequences, design)
    res = run_hls(hls_dir, interleave_chunks(sequences, n), build_dir)
    if design.kind == "scores":
        rows, classes = res.outputs, res.classes
    else:
        rows, classes = [row for chunk in res.outputs for row in chunk], []
    outputs, classes = interleaved_outputs(rows, classes, design.kind, n,
                                           [len(s) for s in sequences])
    return HlsResult(design=design, outputs=outputs, classes=classes,
                     build_seconds=res.build_seconds, sim_seconds=res.sim_seconds)
