"""The report of `make hw`: report.json for programs and report.md for people.

It is made from the steps' recorded results (hwgen.flow), the checkpoint's accuracies and the
folded IR; it computes nothing itself.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwgen.locks import write_atomic

RESOURCE_KEYS = ("LUT", "FF", "DSP", "BRAM")


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
    sim, model = rtl["cycles_per_step"]["simulated"], rtl["cycles_per_step"]["model"]
    lat_sim, lat_model = rtl["latency"]["simulated"], rtl["latency"]["model"]
    report = {
        "model": name,
        "accuracy": {"float": ckpt["float_accuracy"], "quantized": ckpt["quant_accuracy"],
                     "reference": ref["reference_accuracy"], "rtl": rtl["accuracy"],
                     "hls": hls["accuracy"]},
        "sequences": ref["sequences"],
        "mismatches": {"reference": ref["mismatches"], "rtl": rtl["mismatches"],
                       "hls": hls["mismatches"]},
        "cycles_per_step": {"simulated": sim["max"], "simulated_min": sim["min"], "model": model},
        "latency_cycles_per_sequence": {
            "simulated_mean": float(np.mean(lat_sim)), "model_mean": float(np.mean(lat_model)),
            "max_difference": int(np.max(np.abs(np.array(lat_sim) - np.array(lat_model))))},
        "stages": stage_summary(ir),
        "folding": folding(ir),
        "resources": {k: cost["resources"][k] for k in RESOURCE_KEYS},
        "fmax_mhz": cost["fmax_mhz"],
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
    return report


def write_report(folder: Path, report: dict) -> Path:
    """Write folder/report.json and folder/report.md; return the JSON path."""
    path = Path(folder) / "report.json"
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(report, indent=2, sort_keys=True)
                                                  + "\n"))
    write_atomic(Path(folder) / "report.md", lambda tmp: tmp.write_text(report_md(report)))
    return path


def report_md(r: dict) -> str:
    """Return the report for a person."""
    acc, cyc, lat = r["accuracy"], r["cycles_per_step"], r["latency_cycles_per_sequence"]
    lines = [f"# hwgen report: {r['model']}", "",
             "| | accuracy |", "|---|---|",
             *(f"| {k} | {100 * v:.2f} % |" for k, v in acc.items()), "",
             *_post_training_md(r.get("post_training")),
             f"Test sequences: {r['sequences']}. Mismatches against the quantized PyTorch model: "
             f"reference {r['mismatches']['reference']}; against the reference: RTL "
             f"{r['mismatches']['rtl']}, HLS C simulation {r['mismatches']['hls']} (scores "
             "compared with ==).", "",
             f"Folding: {r['folding']}. Cycles per timestep: simulated {cyc['simulated']} "
             f"(min {cyc['simulated_min']}), model {cyc['model']}. Latency per sequence: "
             f"simulated mean {lat['simulated_mean']:.1f}, model mean {lat['model_mean']:.1f} "
             f"(largest difference {lat['max_difference']}).", "",
             "Resources (Yosys synth_xilinx, 7-series): "
             + ", ".join(f"{k} {v}" for k, v in r["resources"].items())
             + (f". Fmax (nextpnr, ECP5 LFE5U-85F): {r['fmax_mhz']:.1f} MHz."
                if r["fmax_mhz"] is not None else ". Fmax: not asked (`hwgen hw --fmax`)."), "",
             "| stage | kind | bits |", "|---|---|---|",
             *(f"| {s['name']} | {s['kind']} | "
               + ", ".join(f"{k}={v}" for k, v in s["bits"].items()) + " |" for s in r["stages"]),
             ""]
    return "\n".join(lines)


def _post_training_md(p: dict | None) -> list[str]:
    """Return the report's lines about post-training quantization (none for a QAT model)."""
    if not p:
        return []
    tuned = (f"; after {p['finetune_epochs']} fine-tuning epochs {pct(p['finetuned'])}"
             if p["finetuned"] is not None else "; not fine-tuned")
    return [f"Post-training quantization of {p['float_source']} ({p['calibration']} ranges): "
            f"calibrated {pct(p['calibrated'])}{tuned}. PyTorch dynamic quantization of the "
            f"same float model: int8 {pct(p['torch_dynamic_int8'])}, with this spec's weight "
            f"widths {pct(p['torch_dynamic_spec_weights'])}.", ""]
