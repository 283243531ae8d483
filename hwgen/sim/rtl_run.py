"""Run a generated design on Verilator through cocotb: stream sequences in, collect every output.

The design side of the contract is an rtl folder (DIR/rtl) holding files.f (sources relative to
the folder, top module last) and design.json (stream widths, types, output kind, cycle model). The
simulator side is the cocotb test rtl_tests/cocotb_top.py. They exchange files in the build
folder's run/ subfolder: case.json and inputs.npy go in, results.npz comes out.

A design with initial-state inputs (design.json "state": the slices of its state word, as
hwgen.codegen.rtl.state_description writes it) takes one state code vector per sequence, the slices'
codes concatenated in order, on its s_state stream; StateSlice, check_states and state_codes serve
the HLS runner too.

A transfer's cycle is the index of the rising clock edge it happens on, so "cycles between two
transfers" is a difference of edge indices.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from hwgen.reference.luts import quantize_input
from hwgen.sim.tools import (CASE_ENV, REPO_ROOT, VERILATOR_FLAGS, _environ, _tail,
                             build_lock, make_safe_dir, require_cocotb, require_verilator,
                             verilator_env)
from hwgen.types import HwgenError, IntType, Rounding

TEST_MODULE = "rtl_tests.cocotb_top"
KINDS = ("scores", "hidden")
MAX_CODE_WIDTH = 64  # outputs come back as int64 codes
# The C++ optimisation of the model (make's OPT_FAST; Verilator's makefile uses -Os). With
# VERILATOR_FLAGS the model is one C++ file: for the fully parallel lstm4b top, -Os compiles in
# ~5 min, -O1 in ~2 min, -O0 in ~20 s, and -O0 simulates ~15x slower than -O1 (94 against 1430
# cycles/s). The Verilator runtime keeps OPT_GLOBAL (-Os) and its objects stay cached.
COMPILE_OPTS = ("-O0", "-O1", "-O2", "-Os")


class RtlSimError(HwgenError):
    """The design failed to build, or its simulation failed a check; the message says which."""


@dataclass(frozen=True)
class RtlDesign:
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


def load_design(rtl_dir) -> RtlDesign:
    """Return the RtlDesign in rtl_dir/design.json, or raise HwgenError saying what is wrong."""
    path = Path(rtl_dir) / "design.json"
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
    return RtlDesign(
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


def quantize_inputs(x_float, design: RtlDesign) -> np.ndarray:
    """Return the int64 input codes the design's input quantizer gives float32 x_float."""
    return quantize_input(x_float, design.x_type, design.rounding, "input")


@dataclass(frozen=True)
class RtlResult:
    """Every output of a run_rtl simulation, per sequence, and the cycles measured on the way.

    step_cycles are the cycles between consecutive input transfers within a sequence; they measure
    the design's cycles per timestep only when the run had no stress (stress adds idle cycles).
    latencies are per sequence, from its first input transfer to its last output transfer; in an
    isolated run without stress they are what hwgen.passes.cycles.sequence_cycles models.
    """

    design: RtlDesign
    outputs: list[np.ndarray]  # per sequence, int64 codes: scores [N], hidden [T_i, N]
    classes: list[int]  # per sequence (scores designs); empty for hidden designs
    step_cycles: list[int]
    latencies: list[int]
    total_cycles: int  # first input transfer to last output transfer
    sim_cycles: int  # every simulated cycle, reset and drain included
    sim_seconds: float
    build_seconds: float  # 0.0 when the cached build was reused
    stress_seed: int | None = None

    def cycle_summary(self) -> dict:
        """Return min/max/mean of step_cycles and latencies, and the total, as a JSON-ready dict."""
        def stats(values):
            if not values:
                return None
            return {"min": int(min(values)), "max": int(max(values)),
                    "mean": float(np.mean(values))}
        return {"per_step": stats(self.step_cycles), "latency": stats(self.latencies),
                "total": self.total_cycles, "stress_seed": self.stress_seed}


def _check_sequences(sequences, design: RtlDesign) -> list[np.ndarray]:
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


def state_slices(design: RtlDesign) -> list:
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


def state_codes(design: RtlDesign, states: dict, batch: int) -> list:
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


def _build_key(design: RtlDesign, sources: list[Path], compile_opt: str, verilator: str,
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


@contextlib.contextmanager
def _repo_on_sys_path():
    """Put the repository on sys.path: cocotb's runner hands sys.path to the simulator's Python.

    The editable install maps only the hwgen package, and the cocotb test lives in rtl_tests/.
    """
    root = str(REPO_ROOT)
    added = root not in sys.path
    if added:
        sys.path.append(root)
    try:
        yield
    finally:
        if added and root in sys.path:
            sys.path.remove(root)


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
    from cocotb_tools.runner import get_runner

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
    with _environ({**env, "MAKEFLAGS": f"OPT_FAST={compile_opt}"}):
        try:
            get_runner("verilator").build(
                sources=sources, hdl_toplevel=design.top, build_args=list(VERILATOR_FLAGS),
                build_dir=build_dir, log_file=build_dir / "build.log")
        except (RuntimeError, SystemExit):
            raise RtlSimError(f"Verilator build of {rtl_dir} failed\n"
                              f"{_tail(build_dir / 'build.log')}") from None
    key_file.write_text(key)
    return time.perf_counter() - start


def _failure(xml_file: Path) -> str | None:
    """Return None when every cocotb test in xml_file passed, else what went wrong."""
    if not xml_file.is_file():
        return f"the simulation ended without writing {xml_file.name}"
    cases = list(ElementTree.parse(xml_file).getroot().iter("testcase"))
    if not cases:
        return "no cocotb test ran"
    for case in cases:
        bad = case.find("failure")
        bad = bad if bad is not None else case.find("error")
        if bad is not None:
            return f"{case.get('name', '?')}: {bad.get('message', 'failed')}"
    return None


def _simulate(design: RtlDesign, build_dir: Path, sequences, stress_seed,
              isolate: bool, states: list) -> tuple[dict, float]:
    """Run the cocotb test on the built design; return (results.npz contents, seconds)."""
    from cocotb_tools.runner import get_runner

    run_dir = build_dir / "run"
    run_dir.mkdir(exist_ok=True)
    for stale in ("results.npz", "results.xml"):
        (run_dir / stale).unlink(missing_ok=True)
    np.save(run_dir / "inputs.npy", np.concatenate(sequences))
    np.save(run_dir / "states.npy", np.stack(states))
    case = {"design": design.raw, "inputs": str(run_dir / "inputs.npy"),
            "states": str(run_dir / "states.npy"),
            "lengths": [len(s) for s in sequences], "stress_seed": stress_seed,
            "isolate": isolate, "results": str(run_dir / "results.npz")}
    (run_dir / "case.json").write_text(json.dumps(case))
    start = time.perf_counter()
    with _environ(verilator_env()), _repo_on_sys_path():
        try:
            get_runner("verilator").test(
                test_module=TEST_MODULE, hdl_toplevel=design.top, hdl_toplevel_lang="verilog",
                build_dir=build_dir, test_dir=run_dir, results_xml=str(run_dir / "results.xml"),
                extra_env={CASE_ENV: str(run_dir / "case.json")}, log_file=run_dir / "sim.log")
        except (SystemExit, RuntimeError):
            pass  # a failed test exits, a crashed simulator raises; the results file tells which
    seconds = time.perf_counter() - start
    failure = _failure(run_dir / "results.xml")
    if failure is not None or not (run_dir / "results.npz").is_file():
        raise RtlSimError(f"simulation of {design.top} in {build_dir} failed: "
                          f"{failure or 'no results written'}\n{_tail(run_dir / 'sim.log')}")
    with np.load(run_dir / "results.npz") as res:
        return {name: res[name] for name in res.files}, seconds


def _collect(design: RtlDesign, lengths: list[int], res: dict) -> dict:
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
        outputs, classes = [res["out_data"][a:b] for a, b in zip(starts, ends)], []
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
    sequences = _check_sequences(sequences, design)
    states = check_states(states, state_slices(design), len(sequences))
    build_dir = make_safe_dir(build_dir or rtl_dir.parent / "sim_build")
    with build_lock(build_dir):
        build_seconds = build_rtl(rtl_dir, build_dir, compile_opt)
        res, seconds = _simulate(design, build_dir, sequences, stress_seed, isolate,
                                 states)
    fields = _collect(design, [len(s) for s in sequences], res)
    return RtlResult(design=design, sim_seconds=seconds, build_seconds=build_seconds,
                     stress_seed=stress_seed, **fields)


def backend_inputs(model, x_float, design_dir) -> tuple:
    """Return (design, per-sequence input codes) for running a graph's input on a generated design.

    model is a QONNX path or ModelWrapper (it checks x_float's shape); design_dir holds a
    design.json generated from it. Each batch element of x_float is one sequence.
    """
    from hwgen.onnx.execute import check_input
    from hwgen.onnx.graph import load_model

    if isinstance(model, (str, Path)):
        model = load_model(model)
    x = check_input(model, x_float)
    design = load_design(design_dir)
    if x.ndim != 3 or x.shape[-1] != design.x_count:
        raise HwgenError(f"input shape {list(x.shape)} does not fit the design's "
                         f"{design.x_count} inputs per step")
    codes = quantize_inputs(x if design.batch_first else np.swapaxes(x, 0, 1), design)
    return design, list(codes)


def backend_output(design: RtlDesign, outputs: list) -> np.ndarray:
    """Return per-sequence output codes as run_reference lays them out: float32, graph layout."""
    values = np.stack(outputs).astype(np.float32) * np.float32(design.y_type.scale)
    if design.kind == "scores" or design.batch_first:
        return values
    return np.ascontiguousarray(np.swapaxes(values, 0, 1))  # [B, T, N] -> [T, B, N]


def run_backend_rtl(model, x_float, rtl_dir, build_dir=None, compile_opt: str = "-O1",
                    states=None) -> np.ndarray:
    """Return what run_reference returns for the graph (same layout, float32), computed in RTL.

    states gives the graph's initial-state inputs by name, as run_reference takes them.
    """
    design, codes = backend_inputs(model, x_float, rtl_dir)
    init = state_codes(design, states, len(codes))
    result = run_rtl(rtl_dir, codes, build_dir, compile_opt=compile_opt, states=init)
    return backend_output(design, result.outputs)
