"""A search's baseline: the best uniform-width point of a `hwgen sweep`, against which the
verified points are compared (`hwgen search --baseline SWEEP`).

The baseline is the sweep's finished point with the highest integer accuracy (of equally accurate
ones, the cheapest), priced like a verified point: its synth_ecp5 counts (LUT4, EBR, MULT18) as
shares of the search's device, summed. A verified point

- *matches it for less* when its accuracy, the mean over its seeds, is at least the baseline's
  and its measured cost at most MATCH_COST_RATIO of the baseline's;
- *beats it* when its mean accuracy exceeds the baseline's by more than its seed spread (the
  sweep trains each point with one seed, so the verified point's own spread is the noise
  measure) at no more than the baseline's cost.
"""
from __future__ import annotations

import json
from pathlib import Path

from hwgen.types import HwgenError, shown

MATCH_COST_RATIO = 0.7


def _rows(path: Path) -> tuple[Path, list]:
    """Return (results.json's path, its rows) for a sweep folder or its results.json."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
        rows = data["rows"]
    except FileNotFoundError:
        raise HwgenError(f"--baseline {shown(str(path))}: no sweep results there (run `hwgen "
                         f"sweep MODEL` first; give its folder or results.json)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HwgenError(f"--baseline {shown(str(file))}: not a sweep's results.json "
                         f"({type(exc).__name__})") from None
    if not isinstance(rows, list):
        raise HwgenError(f"--baseline {shown(str(file))}: its rows are not a list")
    return file, rows


def load_baseline(path: str, device: str) -> dict:
    """Return the baseline of the sweep at path priced for device: {"file", "point", "bits",
    "vary", "accuracy", "ecp5", "cost"}; raise HwgenError (one line) if there is none."""
    from hwgen.sim.synth import ECP5_KEYS, device_cost

    file, rows = _rows(Path(path))
    priced = [r for r in rows if isinstance(r, dict) and r.get("status") == "done"
              and isinstance(r.get("acc_int"), (int, float))
              and all(isinstance(r.get(f"ecp5_{k}"), int) for k in ECP5_KEYS)]
    if not priced:
        raise HwgenError(f"--baseline {shown(str(file))}: no finished point with synth_ecp5 "
                         f"counts (an older sweep: rerun it, it records them now)")
    counts = [{k: r[f"ecp5_{k}"] for k in ECP5_KEYS} for r in priced]
    costs = [device_cost(c, device)["cost"] for c in counts]
    best = min(range(len(priced)), key=lambda i: (-priced[i]["acc_int"], costs[i]))
    r = priced[best]
    return {"file": str(file), "point": r.get("point"), "bits": r.get("bits"),
            "vary": r.get("vary"), "accuracy": r["acc_int"], "ecp5": counts[best],
            "cost": costs[best]}


def versus(point: dict, cost: float | None, baseline: dict) -> dict:
    """Return how a verified point (accuracy_mean, accuracy_spread) at its measured cost compares
    with the baseline: {"cost_ratio", "accuracy_gain", "matches_for_less", "beats"}."""
    if cost is None:
        return {"cost_ratio": None, "accuracy_gain": None, "matches_for_less": False,
                "beats": False}
    ratio = cost / baseline["cost"]
    gain = point["accuracy_mean"] - baseline["accuracy"]
    return {"cost_ratio": ratio, "accuracy_gain": gain,
            "matches_for_less": gain >= 0 and ratio <= MATCH_COST_RATIO,
            "beats": gain > point["accuracy_spread"] and ratio <= 1}


def baseline_lines(baseline: dict, verified: list[dict]) -> list[str]:
    """Return search.md's section on the baseline and each verified point against it."""
    b = baseline
    lines = ["## Against the sweep's best uniform-width point", "",
             f"Baseline: {b['point']} ({b['vary']} at {b['bits']} bits, from {b['file']}): "
             f"integer accuracy {100 * b['accuracy']:.2f} % (one seed), cost {b['cost']:.3f} "
             f"(LUT4 {b['ecp5']['LUT4']}, EBR {b['ecp5']['EBR']}, MULT18 {b['ecp5']['MULT18']}).",
             "", "| point | accuracy mean − baseline | cost / baseline's | verdict |",
             "|---|---|---|---|"]
    for v in verified:
        c = v["versus_baseline"]
        if c["cost_ratio"] is None:
            lines.append(f"| {v['name']} | - | - | no ECP5 counts |")
            continue
        verdict = ("matches its accuracy at ≤ 70 % of its cost" if c["matches_for_less"] else
                   "more accurate (beyond the seed spread) at ≤ its cost" if c["beats"] else
                   "neither")
        lines.append(f"| {v['name']} | {100 * c['accuracy_gain']:+.2f} points | "
                     f"{100 * c['cost_ratio']:.1f} % | {verdict} |")
    found = [v["name"] for v in verified
             if v["versus_baseline"]["matches_for_less"] or v["versus_baseline"]["beats"]]
    lines += ["", f"Found: {', '.join(found)}." if found else
              "Found: no verified point matches the baseline for less or beats it."]
    return lines + [""]
