"""Run a generated design on Verilator through cocotb: stream sequences in, collect every output.

The design side of the contract is an rtl folder (DIR/rtl) holding files.f (sources relative to
the folder, top module last), design.json (stream widths, types, output kind, cycle model) and,
when it has weight ROMs, mem.f listing their files (copied next to the simulation, which loads
them when it starts: hwgen.sim.tools.copy_memories). The
simulator side is the cocotb test rtl_tests/cocotb_top.py. They exchange files in the build
folder's run/ subfolder: case.json and inputs.npy go in, results.npz comes out.

A design with initial-state inputs (design.json "state", read by hwgen.sim.design) takes one state
code vector per sequence, the slices' codes concatenated in order, on its s_state stream.

A transfer's cycle is the index of the rising clock edge it happens on, so "cycles between two
transfers" is a difference of edge indices.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from hwgen.sim.design import (Design, check_sequences, check_states, interleave_chunks,
                              interleaved_outputs, load_design, state_slices)
from hwgen.sim.tools import (VERILATOR_FLAGS, build_lock, cocotb_results, cocotb_test,
                             copy_memories, log_tail, make_safe_dir, require_cocotb, require_verilator, verilator_build,
                             verilator_env)
from hwgen.types import HwgenError

TEST_MODULE = "rtl_tests.cocotb_top"
# The C++ optimisation of the model (make's OPT_FAST; Verilator's makefile uses -Os). With
# VERILATOR_FLAGS the model is one C++ file: for the fully parallel lstm4b top, -Os compiles in
# ~5 min, -O1 in ~2 min, -O0 in ~20 s, and -O0 simulates ~15x slower than -O1 (94 against 1430
# cycles/s). The Verilator runtime keeps OPT_GLOBAL (-Os) and its objects stay cached.
COMPILE_OPTS = ("-O0", "-O1", "-O2", "-Os")


class RtlSimError(HwgenError):
    """The design failed to build, or its simulation failed a check; the message says which."""


def design_sources(rtl_dir) -> list[Path]:
    """Return the absolute paths listed in rtl_dir/files.f, top module last."""
    rtl_dir = Path(rtl_dir).resolve()
    listing = rtl_dir / "files.f"
    if not listing.is_file():
        raise HwgenError(f"{listing}: no such file (not a generated rtl folder?)")
    names = [line.strip() for line in listing.read_text().splitlines()]
    sources = [(rtl_dir / name).resolve() for name in names if name and not name.startswith("#")]
    missing = [str(s) for s in sources if not s.is_file()]
    if not sources or missing:
        raise HwgenError(f"{listing}: " + (f"missing sources {', '.join(missing)}" if missing
                                           else "lists no sources"))
    return sources


@dataclass(frozen=True)
class RtlResult:
    """Every output of a run_rtl simulation, per sequence, and the cycles measured on the way.

    step_cycles are the cycles between consecutive input transfers within a sequence; they measure
    the design's cycles per timestep only when the run had no stress (stress adds idle cycles).
    latencies are per sequence, from its first input transfer to its last output transfer; in an
    isolated run without stress they are what hwgen.passes.cycles.sequence_cycles models.
    """

    design: Design
    outputs: list[np.ndarray]  # per sequence, int64 codes: scores [N], hidden or step_scores
    # [T_i, N]
    classes: list  # per sequence: an int (scores), int64 [T_i] (step_scores); empty for hidden
    step_cycles: list[int]
    latencies: list[int]
    total_cycles: int  # first input transfer to last output transfer
    sim_cycles: int  # every simulated cycle, reset and drain included
    sim_seconds: float
    build_seconds: float  # 0.0 when the cached build was reused
    stress_seed: int | None = None

    def cycle_summary(self) -> dict:
        """Return min/max/mean of step_cycles and latencies, and the total, as a JSON-ready dict."""
        return {"per_step": cycle_stats(self.step_cycles), "latency": cycle_stats(self.latencies),
                "total": self.total_cycles, "stress_seed": self.stress_seed}


def cycle_stats(values: list) -> dict | None:
    """Return {"min", "max", "mean"} of cycle counts (JSON-ready), None when there are none."""
    if not values:
        return None
    return {"min": int(min(values)), "max": int(max(values)), "mean": float(np.mean(values))}


def _build_key(design: Design, sources: list[Path], compile_opt: str, verilator: str,
               env: dict) -> str:
    """Return a hash of everything the Verilator build depends on."""
    version = subprocess.run([verilator, "--version"], env=env, capture_output=True, text=True,
                             check=False).stdout
    h = hashlib.sha256()
    for part in (design.top, " ".join(VERILATOR_FLAGS), compile_opt, version,
                 metadata.version("cocotb")):
        h.update(part.encode() + b"\0")
    for src in sources:
        h.update(str(src).encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()


def build_rtl(rtl_dir, build_dir, compile_opt: str = "-O1") -> float:
    """Build the design in rtl_dir into build_dir unless the cached build matches; return seconds.

    The cache key is a hash of the sources listed in files.f (paths and contents), the top name,
    the Verilator flags, compile_opt, the Verilator and cocotb versions; build_dir/build.key
    holds it. Call with build_dir locked.
    """
    if compile_opt not in COMPILE_OPTS:
        raise HwgenError(f"compile_opt {compile_opt!r} is not one of {', '.join(COMPILE_OPTS)}")
    require_cocotb()
    env = verilator_env()
    verilator = require_verilator(env)
    design = load_design(rtl_dir)
    sources = design_sources(rtl_dir)
    build_dir = Path(build_dir).resolve()
    if make_safe_dir(build_dir) != build_dir:
        raise HwgenError(f"build folder {build_dir}: make cannot build in a path holding spaces "
                         "or special characters (run_rtl picks a folder it can)")
    key_file = build_dir / "build.key"
    key = _build_key(design, sources, compile_opt, verilator, env)
    if (build_dir / design.top).is_file() and key_file.is_file() and key_file.read_text() == key:
        return 0.0
    key_file.unlink(missing_ok=True)
    start = time.perf_counter()
    # make takes a variable definition in MAKEFLAGS as if it were on its command line; this
    # also drops a calling make's jobserver flags, whose file descriptors do not reach here
    failed = verilator_build(sources, design.top, build_dir, VERILATOR_FLAGS,
                             {**env, "MAKEFLAGS": f"OPT_FAST={compile_opt}"})
    if failed is not None:
        raise RtlSimError(f"Verilator build of {rtl_dir} failed\n{failed}")
    key_file.write_text(key)
    return time.perf_counter() - start


def _failure(xml_file: Path) -> str | None:
    """Return None when every cocotb test in xml_file passed, else what went wrong."""
    if not xml_file.is_file():
        return f"the simulation ended without writing {xml_file.name}"
    total, failed = cocotb_results(xml_file)
    if total == 0:
        return "no cocotb test ran"
    if failed:
        return "{}: {}".format(*failed[0])
    return None


def _simulate(design: Design, build_dir: Path, sequences, stress_seed,
              isolate: bool, states: list, rtl_dir: Path) -> tuple[dict, float]:
    """Run the cocotb test on the built design; return (results.npz contents, seconds).

    The simulation runs in build_dir/run, which gets a copy of the design's memory files
    (the weight ROMs are loaded from there when the simulation starts).
    """
    run_dir = build_dir / "run"
    run_dir.mkdir(exist_ok=True)
    copy_memories(rtl_dir, run_dir)
    (run_dir / "results.npz").unlink(missing_ok=True)
    np.save(run_dir / "inputs.npy", np.concatenate(sequences))
    np.save(run_dir / "states.npy", np.stack(states))
    case = {"design": design.raw, "inputs": str(run_dir / "inputs.npy"),
            "states": str(run_dir / "states.npy"),
            "lengths": [len(s) for s in sequences], "stress_seed": stress_seed,
            "isolate": isolate, "results": str(run_dir / "results.npz")}
    (run_dir / "case.json").write_text(json.dumps(case))
    start = time.perf_counter()
    results = cocotb_test(design.top, TEST_MODULE, build_dir, run_dir, run_dir / "case.json")
    seconds = time.perf_counter() - start
    failure = _failure(results)
    if failure is not None or not (run_dir / "results.npz").is_file():
        raise RtlSimError(f"simulation of {design.top} in {build_dir} failed: "
                          f"{failure or 'no results written'}\n{log_tail(run_dir / 'sim.log')}")
    with np.load(run_dir / "results.npz") as res:
        return {name: res[name] for name in res.files}, seconds


def _collect(design: Design, lengths: list[int], res: dict) -> dict:
    """Return RtlResult fields (outputs, classes, cycles) from the recorded transfers."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    in_cycles = res["in_cycles"]
    out_ends = np.arange(1, len(lengths) + 1) if design.kind == "scores" else ends
    want = len(lengths) if design.kind == "scores" else int(ends[-1])
    if len(in_cycles) != ends[-1] or len(res["out_cycles"]) != want:
        raise RtlSimError(f"{len(in_cycles)} input and {len(res['out_cycles'])} output transfers "
                          f"recorded, want {ends[-1]} and {want}")
    if design.kind == "scores":
        outputs, classes = list(res["out_data"]), [int(c) for c in res["out_class"]]
    else:
        outputs = [res["out_data"][a:b] for a, b in zip(starts, ends)]
        classes = ([res["out_class"][a:b] for a, b in zip(starts, ends)]
                   if design.kind == "step_scores" else [])
    steps = [int(d) for a, b in zip(starts, ends) for d in np.diff(in_cycles[a:b])]
    latencies = (res["out_cycles"][out_ends - 1] - in_cycles[starts]).astype(int).tolist()
    return dict(outputs=outputs, classes=classes, step_cycles=steps, latencies=latencies,
                total_cycles=int(res["out_cycles"][-1] - in_cycles[0]),
                sim_cycles=int(res["sim_cycles"]))


def run_rtl(rtl_dir, sequences, build_dir=None, stress_seed: int | None = None,
            compile_opt: str = "-O1", isolate: bool = False, states=None) -> RtlResult:
    """Return the outputs and measured cycles of streaming sequences through the design in rtl_dir.

    rtl_dir holds files.f and design.json; sequences is a list of int64 code arrays [T_i, I],
    none longer than the design's max_steps when it buffers sequences. The build goes to
    build_dir (default: rtl_dir/../sim_build; when its path holds spaces, which make cannot take,
    to the folder make_safe_dir gives for it) and is reused while the sources and compile_opt
    (see COMPILE_OPTS) are unchanged. stress_seed adds random idle input cycles and output
    backpressure. isolate holds each sequence back until every output of the earlier ones has
    left, so each enters an idle design and its latency is what
    hwgen.passes.cycles.sequence_cycles models (a stack otherwise starts the next sequence while
    later layers still work on the previous one). states: for a design with initial-state inputs
    (and only then), one int64 code vector per sequence, its state slices' codes concatenated in
    design.json's order.
    """
    rtl_dir = Path(rtl_dir).resolve()
    design = load_design(rtl_dir)
    sequences = check_sequences(sequences, design)
    states = check_states(states, state_slices(design), len(sequences))
    build_dir = make_safe_dir(build_dir or rtl_dir.parent / "sim_build")
    with build_lock(build_dir):
        build_seconds = build_rtl(rtl_dir, build_dir, compile_opt)
        res, seconds = _simulate(design, build_dir, sequences, stress_seed, isolate,
                                 states, rtl_dir)
    fields = _collect(design, [len(s) for s in sequences], res)
    return RtlResult(design=design, sim_seconds=seconds, build_seconds=build_seconds,
                     stress_seed=stress_seed, **fields)


@dataclass(frozen=True)
class InterleavedResult:
    """The outputs of run_rtl_interleaved per sequence and every transfer's cycle."""

    outputs: list[np.ndarray]  # per sequence: scores [N] or hidden [T_i, N]
    classes: list  # per sequence (scores designs), else empty
    in_cycles: list[int]  # every input transfer, in stream order
    out_cycles: list[int]  # every output transfer, in stream order
    build_seconds: float = 0.0  # 0.0 when the cached build was reused


def run_rtl_interleaved(rtl_dir, sequences, build_dir=None, stress_seed: int | None = None,
                        compile_opt: str = "-O1") -> InterleavedResult:
    """Return the outputs of an interleaved design (design.json cycles.interleave = N) for
    sequences taken as groups of N consecutive ones of equal length, streamed round-robin
    (hwgen_lstm_ilv_ctrl's protocol), and every transfer's cycle; stress as run_rtl."""
    rtl_dir = Path(rtl_dir).resolve()
    design = load_design(rtl_dir)
    n = design.raw["cycles"].get("interleave", 1)
    sequences = check_sequences(sequences, design)
    chunks = interleave_chunks(sequences, n)
    build_dir = make_safe_dir(build_dir or rtl_dir.parent / "sim_build")
    with build_lock(build_dir):
        build_seconds = build_rtl(rtl_dir, build_dir, compile_opt)
        res, _ = _simulate(design, build_dir, chunks, stress_seed, False,
                           check_states(None, state_slices(design), len(chunks)), rtl_dir)
    outputs, classes = interleaved_outputs(list(res["out_data"]), list(res["out_class"]),
                                           design.kind, n, [len(s) for s in sequences])
    return InterleavedResult(outputs=outputs, classes=classes,
                             in_cycles=res["in_cycles"].astype(int).tolist(),
                             out_cycles=res["out_cycles"].astype(int).tolist(),
                             build_seconds=build_seconds)
