"""The results of `hwgen search`: SEARCH/search.md, search.json, trials.csv and front.png.

Trials are priced by the cost model at the folding each chose; screened trials show their mean
accuracy over the seeds; verified points are priced by the whole flow (their measured ECP5 counts,
Fmax and time per step replace the model's). A verified point is called more accurate
than another only when its mean accuracy over the seeds exceeds the other's by more than the
larger of the two spreads (max - min over seeds).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hwgen.locks import write_bytes_atomic
from hwgen.search.baseline import baseline_lines, versus
from hwgen.search.space import SEARCHED
from hwgen.search.verify import feasible, pareto
from hwgen.sweep.report import png_bytes

CSV_COLUMNS = ("number", "name", "status", "accuracy", "cost", "cycles_per_step", "ns_per_step",
               *(f"ecp5_{k}" for k in ("LUT4", "FF", "EBR", "MULT18")), *SEARCHED, "pe", "simd",
               "lanes", "seconds")


def _csv_text(rows: list[dict]) -> str:
    """Return trials.csv: CSV_COLUMNS, one line per trial, its params and ECP5 counts flattened."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        flat = {**r, **r.get("params", {}), **r.get("folding", {}),
                **{f"ecp5_{k}": v for k, v in r.get("ecp5", {}).items()}}
        writer.writerow([flat.get(c, "") for c in CSV_COLUMNS])
    return buf.getvalue()


def measured_cost(report: dict) -> float | None:
    """Return a verified point's measured cost: its LUT4, EBR and MULT18 shares of the device."""
    from hwgen.sim.synth import COST_KEYS

    used = report.get("ecp5", {}).get("utilisation")
    return None if not used else sum(used[k] for k in COST_KEYS)


def distinguishable(a: dict, b: dict) -> bool:
    """Return True if a is more accurate than b by more than either's seed spread."""
    return a["accuracy_mean"] - b["accuracy_mean"] > max(a["accuracy_spread"],
                                                         b["accuracy_spread"])


def _widths(params: dict) -> str:
    return " ".join(f"{k}={params[k]}" for k in SEARCHED)


def _folding(f: dict) -> str:
    return f"pe {f['pe'] or 'all'}, simd {f['simd'] or 'all'}, lanes {f['lanes'] or 'auto'}"


def _screened_lines(screened: list[dict]) -> list[str]:
    if not screened:
        return []
    s = screened[0]["screened"]
    lines = ["## Screened trials (every seed)", "",
             f"The best trials, front by front, trained with {s['qat_epochs']} QAT epochs and "
             f"seeds {', '.join(map(str, s['seeds']))}; the verified points are chosen from the "
             f"front of these means.", "",
             "| trial | accuracy mean (spread) | each seed | cost | cycles/step | widths | "
             "folding |", "|---|---|---|---|---|---|---|"]
    for r in sorted(screened, key=lambda r: r["cost"]):
        s = r["screened"]
        each = ", ".join(f"{100 * a:.2f}" for a in s["accuracies"])
        lines.append(f"| {r['number']} {r['name']} | {100 * s['mean']:.2f} % "
                     f"({100 * s['spread']:.2f}) | {each} | {r['cost']:.3f} | "
                     f"{r['cycles_per_step']} | {_widths(r['params'])} | "
                     f"{_folding(r['folding'])} |")
    return lines + [""]


def _verified_lines(verified: list[dict]) -> list[str]:
    epochs = sorted({v["qat_epochs"] for v in verified})
    lines = ["## Verified points (whole flow, bit for bit)", "",
             f"Each trained with {', '.join(map(str, epochs)) or '-'} QAT epochs after "
             f"calibration.", "",
             "| point | accuracy mean (spread) over seeds | cost model / measured | LUT4 | EBR | "
             "MULT18 | Fmax MHz | ns/step | mismatches ref/rtl/hls | spec |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for v in verified:
        r = v["report"]
        res = r.get("ecp5", {}).get("resources", {})
        t = r.get("time") or {}
        m = r["mismatches"]
        cost = measured_cost(r)
        lines.append(
            f"| {v['name']} | {100 * v['accuracy_mean']:.2f} % ({100 * v['accuracy_spread']:.2f})"
            f" | {v['model_cost']:.3f} / {'-' if cost is None else f'{cost:.3f}'} | "
            f"{res.get('LUT4', '-')} | {res.get('EBR', '-')} | {res.get('MULT18', '-')} | "
            f"{t.get('fmax_mhz', '-')} | {t.get('ns_per_step', '-')} | "
            f"{m['reference']}/{m.get('rtl')}/{m.get('hls')} | {v['spec']} |")
    lines.append("")
    for a in verified:
        for b in verified:
            if a is not b and distinguishable(a, b):
                lines.append(f"- {a['name']} is more accurate than {b['name']} (beyond both "
                             f"seed spreads).")
    return lines


def _md_text(rows: list[dict], front: list[dict], verified: list[dict], meta: dict,
             baseline: dict | None, screened: list[dict]) -> str:
    o = meta["options"]
    done = [r for r in rows if r["status"] == "done"]
    lines = [f"# hwgen search: {meta['model']} for ECP5 {o['device']}", "",
             f"{len(rows)} trials ({len(done)} finished), seed {o['seed']}, generations of "
             f"{o['batch']}, {o['qat_epochs']} QAT epochs per trial from the base model's float "
             f"weights, each at the folding the cost model finds best for its widths. Cost: the "
             f"LUT4, EBR and MULT18 shares of the device added (cost model for trials, Yosys for "
             f"verified points); time per step at {o['clock_mhz']} MHz for trials, at the "
             f"measured Fmax for verified points.", "",
             "## Front (cost model, one seed)", "",
             "| trial | accuracy | cost | cycles/step | ns/step | widths | folding |",
             "|---|---|---|---|---|---|---|"]
    for r in front:
        lines.append(f"| {r['number']} {r['name']} | {100 * r['accuracy']:.2f} % | "
                     f"{r['cost']:.3f} | {r['cycles_per_step']} | {r['ns_per_step']:.1f} | "
                     f"{_widths(r['params'])} | {_folding(r['folding'])} |")
    lines.append("")
    lines += _screened_lines(screened)
    lines += _verified_lines(verified)
    if baseline:
        lines += ["", *baseline_lines(baseline, verified)]
    return "\n".join(lines) + "\n"


def front_figure(rows: list[dict], front: list[dict], verified: list[dict], meta: dict):
    """Return the front's figure: accuracy against cost and against ns per step."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    for ax, key, label in ((fig.add_subplot(1, 2, 1), "cost", "cost (device shares)"),
                           (fig.add_subplot(1, 2, 2), "ns_per_step", "ns per step (model)")):
        done = [r for r in rows if r["status"] == "done"]
        ax.scatter([r[key] for r in done], [100 * r["accuracy"] for r in done], s=12,
                   color="0.6", label="trials")
        ax.plot([r[key] for r in front], [100 * r["accuracy"] for r in front], "o-",
                color="C0", label="front")
        names = {v["name"] for v in verified}
        ver = [r for r in done if r["name"] in names]
        ax.scatter([r[key] for r in ver], [100 * r["accuracy"] for r in ver], s=60,
                   facecolors="none", edgecolors="C3", label="verified")
        ax.set_xlabel(label)
        ax.set_ylabel("integer accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"hwgen search: {meta['model']}, ECP5 {meta['options']['device']}")
    return fig


def write_report(folder: Path, trials: dict, verified: list[dict], meta: dict, o,
                 baseline: dict | None = None, screened: list[dict] = ()) -> dict:
    """Write the search's results (with baseline, each verified point against it; the screened
    trials' means); return their paths."""
    rows = sorted(trials.values(), key=lambda r: r["number"])
    front = pareto(feasible(trials, o))
    model = {r["name"]: r["cost"] for r in rows if r["status"] == "done"}
    for v in verified:
        v["model_cost"] = model[v["name"]]
        if baseline:
            v["versus_baseline"] = versus(v, measured_cost(v["report"]), baseline)
    paths = {"md": folder / "search.md", "json": folder / "search.json",
             "csv": folder / "trials.csv", "plot": folder / "front.png"}
    write_bytes_atomic(paths["md"], _md_text(rows, front, verified, meta, baseline,
                                             list(screened)).encode())
    data = {"meta": meta, "front": [r["name"] for r in front],
            "screened": [r["name"] for r in screened], "verified": verified,
            "baseline": baseline, "trials": rows}
    write_bytes_atomic(paths["json"], (json.dumps(data, indent=1) + "\n").encode())
    write_bytes_atomic(paths["csv"], _csv_text(rows).encode())
    write_bytes_atomic(paths["plot"], png_bytes(front_figure(rows, front, verified, meta)))
    return paths
