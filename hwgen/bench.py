"""`hwgen bench`: fixed hardware workloads, measured the same way every time.

Each workload is a Brevitas model at given sizes and widths with seeded random weights (no
training: the bench measures hardware; the reference is checked against Brevitas in make test),
built at a fixed folding. The bench runs a seeded batch of random sequences through the int64
reference, the RTL (Verilator) and the HLS C++ (g++), counts mismatches against the reference
(==), compares simulated cycles with the cycle model, synthesizes with Yosys (synth_xilinx and
synth_ecp5) and places and routes for an ECP5-85 (nextpnr) when the design fits, then derives
ns/step, steps/s and GOPS (2 operations per multiply-accumulate of the x and h matrix-vector
products) with hwgen.report.time_figures.

Results go to OUT/NAME/result.json (one per workload) and OUT/bench.json + OUT/bench.md. A
workload whose inputs are unchanged (inputs_digest: its definition, the options and the bytes of
hwgen's sources and templates) is not run again; a failed one is. A failing phase (a tool out of
memory, a timeout, a design that does not fit) is recorded as the workload's reason and the bench
goes on with the next workload.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.spec import DEFAULT_CLOCK_MHZ, LSTMWidths, Net
from hwgen.types import HwgenError

ROOT = Path(__file__).resolve().parent.parent
SEED = 0
DEVICE = "85k"
ALL4 = LSTMWidths(weight=4, bias=4, io=4, input_acc=4, forget_acc=4, cell_acc=4, output_acc=4,
                  sigmoid=4, tanh=4, cell_state=4)


@dataclass(frozen=True)
class Workload:
    """One benchmark: an LSTM's sizes and widths, its head (classes 0: none), folding, batch."""

    name: str
    about: str
    input_size: int
    hidden_size: int
    widths: LSTMWidths
    pe: int  # 0: fully parallel
    simd: int
    classes: int = 0
    head_bits: int = 4
    bidirectional: bool = False
    sequences: int = 8
    steps: int = 10
    clock_mhz: float = DEFAULT_CLOCK_MHZ  # the clock place and route aims at


# Foldings: PE divides the 4 * hidden gate rows and SIMD both the input and the hidden columns.
WORKLOADS = (
    Workload("lstm4b", "lstm4b's shape (JapaneseVowels): 4-bit weights, 8-bit activations, "
             "9 classes; PE 16 of 128 rows, SIMD 4 of 12 and 32 columns (64 folds of the h "
             "product), to fit an ECP5-85", 12, 32, LSTMWidths(weight=4), 16, 4, classes=9),
    Workload("hidden8", "hidden 8, fully parallel: 4-bit weights, 8-bit activations, 9 classes",
             12, 8, LSTMWidths(weight=4), 0, 0, classes=9),
    Workload("lstm_pynq", "LSTM-PYNQ's shape: bidirectional, input 32, hidden 128 per direction, "
             "every quantizer 4 bits (weights, bias, activations), no head; PE 16 of 512 rows, "
             "SIMD 16 of 32 and 128 columns (256 folds of the h product), aiming at ~40k LUT",
             32, 128, ALL4, 16, 16, bidirectional=True),
    Workload("torch_dq_layer", "one layer of PyTorch's dynamic-quantization tutorial LSTM: "
             "input 512, hidden 256, 4-bit weights, 8-bit activations, no head; PE 8 of 1024 "
             "rows, SIMD 64 of 512 and 256 columns (1024 folds of the x product)",
             512, 256, LSTMWidths(weight=4), 8, 64),
)
QUICK = Workload("quick", "tiny: input 3, hidden 4, every quantizer 4 bits, 2 classes, fully "
                 "parallel (the test's workload: small tables keep its synthesis short)", 3, 4,
                 ALL4, 0, 0, classes=2, sequences=3, steps=4)


def select(only: str | None, quick: bool) -> list[Workload]:
    """Return the workloads to run: --quick's tiny one, --only's names, or all of them."""
    if quick:
        return [QUICK]
    if not only:
        return list(WORKLOADS)
    by_name = {w.name: w for w in WORKLOADS}
    names = [n.strip() for n in only.split(",") if n.strip()]
    for name in names:
        if name not in by_name:
            raise HwgenError(f"--only: unknown workload {name!r} (workloads: "
                             f"{', '.join(by_name)})")
    if not names:
        raise HwgenError("--only: no workload named")
    return [by_name[n] for n in names]


def make_model(w: Workload):
    """Return the workload's Brevitas model (eval mode) with weights seeded by SEED."""
    import torch

    from hwgen.qat.model import QuantClassifier, quant_lstm

    torch.manual_seed(SEED)
    if w.classes:
        net = Net(input_size=w.input_size, hidden_size=w.hidden_size, classes=w.classes,
                  bidirectional=w.bidirectional)
        model = QuantClassifier(w.input_size, w.hidden_size, w.classes, w.widths, w.head_bits,
                                net)
    else:
        model = quant_lstm(w.input_size, w.hidden_size, w.widths, bidirectional=w.bidirectional)
    return model.eval()


def sequences(w: Workload) -> list:
    """Return the workload's seeded batch of random float sequences [steps, input_size]."""
    rng = np.random.default_rng(SEED)
    return [rng.normal(size=(w.steps, w.input_size)).astype(np.float32)
            for _ in range(w.sequences)]


def macs_per_step(ir) -> int:
    """Return the multiply-accumulates of one step: the x and h products of every direction."""
    return sum(m.rows * m.cols for layer in ir.layers for m in (layer.x_mv, layer.h_mv))


def inputs_digest(w: Workload, pnr: bool) -> str:
    """Return a digest of what a workload's result depends on: its definition, whether place and
    route is asked, and the bytes of hwgen's Python sources and templates."""
    h = hashlib.sha256(json.dumps([dataclasses.asdict(w), pnr, SEED, DEVICE],
                                  sort_keys=True).encode())
    for folder, pattern in (("hwgen", "*.py"), ("templates", "*")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


FAILURES = (HwgenError, OSError, MemoryError)  # a tool failed, timed out, or memory ran out


class _Phases:
    """Runs a workload's phases: says what each does, records its wall seconds, and records a
    failing phase's one-line reason instead of stopping the workload."""

    def __init__(self, name: str):
        self.name = name
        self.seconds: dict = {}
        self.errors: list = []

    def run(self, phase: str, message: str, fn, *args, **kwargs):
        """Say message, run fn, record its wall seconds under phase; return its result, or None
        when it failed (its reason is then in errors)."""
        say(f"{self.name}: {message}")
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except FAILURES as exc:
            line = " ".join(str(exc).split())[:400] or type(exc).__name__
            self.errors.append(f"{phase}: {line}")
            say(f"{self.name}: {phase} failed: {line}")
            return None
        finally:
            self.seconds[phase] = round(time.perf_counter() - start, 1)


def _build(w: Workload, folder: Path, phases: _Phases):
    """Return the workload's Design, built in folder/design (its Brevitas model exported, its
    IR, RTL and HLS written), or None when that failed."""
    import hwgen

    model = phases.run("model", "making the Brevitas model (seeded random weights)",
                       make_model, w)
    if model is None:
        return None
    return phases.run("build", f"exporting and building IR, RTL and HLS at PE {w.pe or 'all'}, "
                      f"SIMD {w.simd or 'all'}", hwgen.build, model, sequences(w)[0][None],
                      folder / "design", w.pe, w.simd,
                      max_steps=w.steps if w.bidirectional else 32)


def _simulate(w: Workload, design, phases: _Phases) -> dict:
    """Return the RTL's and the HLS's mismatches against the reference (None: not run) and the
    RTL's cycles beside the cycle model's."""
    from hwgen.passes.cycles import per_step_cycles, sequence_cycles

    seqs = sequences(w)
    n = f"{len(seqs)} sequences of {w.steps} steps"
    ref = phases.run("reference", f"int64 reference on {n}", design.run, seqs, "reference")
    rtl = phases.run("rtl", f"RTL on Verilator ({n}; builds the simulator first)", design.run,
                     seqs, "rtl")
    hls = phases.run("hls", f"HLS C++ with g++ ({n})", design.run, seqs, "hls")
    out = {"mismatches": {name: None if o is None or ref is None else sum(
        int(not np.array_equal(a, b)) for a, b in zip(o.codes, ref.codes))
        for name, o in (("rtl", rtl), ("hls", hls))}}
    if rtl is not None:
        model_lat = [sequence_cycles(design.ir, len(s)) for s in seqs]
        out["cycles_per_step"] = {"simulated_min": rtl.cycles_per_step["min"],
                                  "simulated_max": rtl.cycles_per_step["max"],
                                  "model": per_step_cycles(design.ir)}
        out["latency_cycles"] = {"simulated": rtl.latencies, "model": model_lat}
        out["cycles_match"] = (rtl.cycles_per_step["min"] == rtl.cycles_per_step["max"]
                               == out["cycles_per_step"]["model"] and rtl.latencies == model_lat)
    return out


def _synthesize(design, phases: _Phases, pnr: bool, clock_mhz: float) -> dict:
    """Return the Yosys synth_xilinx counts and the ECP5 cost (counts, Fmax or why not); None
    for a synthesis that failed. tool_seconds: each tool's own run time, as its cached result
    recorded it (the phases' wall seconds are ~0 when a cache is reused)."""
    from hwgen.report import RESOURCE_KEYS
    from hwgen.sim.synth import ecp5_cost, ecp5_resources, resources

    rtl = design.folder / "rtl"
    res = phases.run("synth_xilinx", "Yosys synth_xilinx", resources, rtl)
    ecp5 = phases.run("ecp5", "Yosys synth_ecp5" + (" and nextpnr-ecp5 place and route"
                                                     if pnr else ""), ecp5_cost, rtl, DEVICE,
                      pnr=pnr, freq_mhz=clock_mhz)
    tools = {"synth_xilinx": res and res["seconds"], "synth_ecp5": None,
             "pnr": ecp5 and ecp5["pnr"] and ecp5["pnr"]["seconds"]}
    if ecp5 and ecp5["resources"]:  # cached by ecp5_cost: only its recorded seconds are read
        tools["synth_ecp5"] = ecp5_resources(rtl)["seconds"]
    return {"resources": res and {k: res[k] for k in RESOURCE_KEYS}, "ecp5": ecp5,
            "tool_seconds": tools}


def _figures(result: dict) -> dict | None:
    """Return time_figures at the measured Fmax plus GOPS, or None without an Fmax or cycles."""
    from hwgen.report import time_figures

    pnr = (result.get("ecp5") or {}).get("pnr")
    if not pnr or "cycles_per_step" not in result:
        return None
    t = time_figures(pnr["fmax_mhz"], result["cycles_per_step"]["simulated_max"],
                     result["latency_cycles"]["simulated"])
    t["gops"] = round(2 * result["macs_per_step"] * t["steps_per_s"] / 1e9, 4)
    return t


def _reusable(cache: Path, key: str) -> dict | None:
    """Return the result stored at cache if it was made from inputs key and did not fail."""
    if not cache.is_file():
        return None
    try:
        old = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    return old if old.get("inputs_digest") == key and not old.get("error") else None


def run_workload(w: Workload, out: Path, pnr: bool = True, dry_run: bool = False) -> dict:
    """Return a workload's result, reusing out/NAME/result.json when its inputs are unchanged;
    error: the failed phases' reasons joined (None when every phase ran)."""
    folder = out / w.name
    key = inputs_digest(w, pnr)
    cache = folder / "result.json"
    old = None if dry_run else _reusable(cache, key)
    if old:
        say(f"{w.name}: reusing {cache} (inputs unchanged)")
        return {**old, "reused": True}
    phases = _Phases(w.name)
    result = {"workload": w.name, "about": w.about, "inputs_digest": key,
              "folding": {"pe": w.pe, "simd": w.simd}, "sequences": w.sequences,
              "steps": w.steps, "error": None, "seconds": phases.seconds}
    design = _build(w, folder, phases)
    if design is not None:
        result["macs_per_step"] = macs_per_step(design.ir)
        if not dry_run:
            result.update(_simulate(w, design, phases))
            result.update(_synthesize(design, phases, pnr, w.clock_mhz))
            result["time"] = _figures(result)
    result["error"] = "; ".join(phases.errors) or None
    if dry_run:
        return {**result, "dry_run": True}
    write_atomic(cache, lambda tmp: tmp.write_text(json.dumps(result, indent=1) + "\n"))
    return {**result, "reused": False}


def bench(out="build/bench", only: str | None = None, quick: bool = False, pnr: bool = True,
          dry_run: bool = False) -> dict:
    """Run the workloads; write out/bench.json and out/bench.md (not for a dry run); return the
    bench's JSON."""
    out = Path(out)
    workloads = select(only, quick)
    results = [run_workload(w, out, pnr, dry_run) for w in workloads]
    data = {"device": DEVICE, "seed": SEED, "pnr": pnr, "workloads": results}
    if dry_run:
        for r in results:
            seconds = ", ".join(f"{k} {v:g} s" for k, v in r["seconds"].items())
            say(f"{r['workload']}: {r['error'] or 'built'} ({seconds}; "
                f"{r.get('macs_per_step')} MACs per step)")
        return data
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "bench.json", lambda tmp: tmp.write_text(json.dumps(data, indent=1) + "\n"))
    table = markdown(data)
    write_atomic(out / "bench.md", lambda tmp: tmp.write_text(table))
    print(table, flush=True)
    say(f"wrote {out / 'bench.json'} and {out / 'bench.md'}")
    return data


COLUMNS = ("workload", "folding", "cycles/step (sim = model)", "Fmax MHz", "ns/step", "steps/s",
           "GOPS",
           "LUT/FF/DSP/BRAM", "LUT4/EBR/MULT18", "seconds (wall, per phase)",
           "tool seconds (xilinx/ecp5/pnr)", "mismatches rtl/hls", "note")


def markdown(data: dict) -> str:
    """Return bench.md: one table row per workload, and each workload's description."""
    from hwgen.sim.synth import device_part

    lines = ["# hwgen bench", "",
             f"ECP5 part: {device_part(DEVICE)}; seed {data['seed']}; place and route "
             f"{'on' if data['pnr'] else 'off (--no-pnr)'}. GOPS counts 2 operations per "
             "multiply-accumulate of the x and h products. seconds: wall time of each phase "
             "(~0 when a cached result was reused); tool seconds: each synthesis or place and "
             "route tool's own run time, as recorded when it ran.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in data["workloads"]]
    lines += [""] + [f"- {r['workload']}: {r['about']}" for r in data["workloads"]] + [""]
    return "\n".join(lines)


def _row(r: dict) -> list[str]:
    """Return the table cells of one workload's result."""
    f = r["folding"]
    fold = f"pe {f['pe'] or 'all'}, simd {f['simd'] or 'all'}"
    cyc = r.get("cycles_per_step")
    cycles = (f"{cyc['simulated_max']} {'=' if r['cycles_match'] else '!='} {cyc['model']}"
              if cyc else "-")
    t = r.get("time")
    res = r.get("resources")
    ecp5 = (r.get("ecp5") or {}).get("resources")
    mism = r.get("mismatches")
    shown = {k: "-" if v is None else v for k, v in (mism or {}).items()}
    note = "; ".join(x for x in (r["error"], (r.get("ecp5") or {}).get("no_pnr")) if x)
    seconds = ", ".join(f"{k} {v:g}" for k, v in r["seconds"].items())
    tools = r.get("tool_seconds") or {}
    tool = "/".join("-" if tools.get(k) is None else f"{tools[k]:g}"
                    for k in ("synth_xilinx", "synth_ecp5", "pnr"))
    return [r["workload"], fold, cycles,
            f"{t['fmax_mhz']:.2f}" if t else "-", f"{t['ns_per_step']:.1f}" if t else "-",
            f"{t['steps_per_s']:,.0f}" if t else "-", f"{t['gops']:.3f}" if t else "-",
            "/".join(f"{res[k]:g}" for k in ("LUT", "FF", "DSP", "BRAM")) if res else "-",
            "/".join(str(ecp5[k]) for k in ("LUT4", "EBR", "MULT18")) if ecp5 else "-",
            seconds or "-", tool, f"{shown['rtl']}/{shown['hls']}" if mism else "-",
            note.replace("|", "/")]
