"""A search's baseline: the best uniform-width point of a `hwgen sweep`, against which the
verified points are compared (`hwgen search --baseline SWEEP`).

The baseline is the sweep's finished point with the highest integer accuracy (of equally accurate
ones, the cheapest), priced like a verified point: its synth_ecp5 counts (LUT4, EBR, MULT18) as
shares of the search's device, summed. The sweep trains each point with one seed, so the search
trains the baseline point again, the sweep's way (the whole training of the spec at the point's
widths), with as many seeds as each verified point has (the sweep's seed, + 1, + 2, ...), and
takes the mean: the sweep's best point was picked by one seed's accuracy, and its mean over seeds
is the figure a verified point's mean is compared with. A verified point

- *matches it for less* when its mean accuracy is at least the baseline's mean and its measured
  cost at most MATCH_COST_RATIO of the baseline's;
- *beats it* when its mean accuracy exceeds the baseline's mean by more than the larger of the
  two seed spreads, at no more than the baseline's cost.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hwgen.progress import say
from hwgen.types import HwgenError, shown

MATCH_COST_RATIO = 0.7


def _rows(path: Path) -> tuple[Path, list, dict]:
    """Return (results.json's path, its rows, its meta) for a sweep folder or its results.json."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
        rows, meta = data["rows"], data.get("meta")
    except FileNotFoundError:
        raise HwgenError(f"--baseline {shown(str(path))}: no sweep results there (run `hwgen "
                         f"sweep MODEL` first; give its folder or results.json)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HwgenError(f"--baseline {shown(str(file))}: not a sweep's results.json "
                         f"({type(exc).__name__})") from None
    if not isinstance(rows, list):
        raise HwgenError(f"--baseline {shown(str(file))}: its rows are not a list")
    return file, rows, meta if isinstance(meta, dict) else {}


def load_baseline(path: str, device: str, model: str | None = None) -> dict:
    """Return the baseline of the sweep at path priced for device: {"file", "point", "bits",
    "vary", "seed", "accuracy", "accuracies", "accuracy_spread", "ecp5", "cost"} (one seed's
    accuracy until with_seeds adds more); raise HwgenError (one line) if there is none, or if the
    sweep was not of model (the spec's name) when given."""
    from hwgen.sim.synth import ECP5_KEYS, device_cost

    file, rows, meta = _rows(Path(path))
    swept = meta.get("model")
    if model is not None and swept != model:
        of = shown(swept) if isinstance(swept, str) else "a model it does not name"
        raise HwgenError(f"--baseline {shown(str(file))}: a sweep of {of}, not of "
                         f"{shown(model)} (its best point is trained again with more seeds)")
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
            "vary": r.get("vary"), "seed": r.get("seed"), "accuracy": r["acc_int"],
            "accuracies": [r["acc_int"]], "accuracy_spread": 0.0, "ecp5": counts[best],
            "cost": costs[best]}


def with_seeds(baseline: dict, base, seeds: int, folder: Path) -> dict:
    """Return baseline with its point trained by the sweep's recipe for seeds in all: the
    sweep's seed (its accuracy as recorded) and the next seeds - 1, each trained in
    folder/seedN (reused when done); "accuracy" becomes their mean."""
    import statistics

    from hwgen.search.trial import further_seed_accuracies
    from hwgen.sweep.points import Point, point_spec

    def spec_for(seed: int):
        point = Point(vary=baseline["vary"], bits=baseline["bits"], seed=seed)
        spec = point_spec(base, point, folder / f"seed{seed}")
        say(f"search: training the baseline {point.name} with seed {seed} in {spec.out}",
            sys.stderr)
        return spec

    first = baseline["seed"] if isinstance(baseline["seed"], int) else base.train.seed
    accs = baseline["accuracies"][:1] + further_seed_accuracies(spec_for, first, seeds)
    return {**baseline, "seeds": list(range(first, first + seeds)), "accuracies": accs,
            "accuracy": statistics.fmean(accs), "accuracy_spread": max(accs) - min(accs)}


def versus(point: dict, cost: float | None, baseline: dict) -> dict:
    """Return how a verified point (accuracy_mean, accuracy_spread) at its measured cost compares
    with the baseline: {"cost_ratio", "accuracy_gain", "matches_for_less", "beats"}."""
    if cost is None:
        return {"cost_ratio": None, "accuracy_gain": None, "matches_for_less": False,
                "beats": False}
    ratio = cost / baseline["cost"]
    gain = point["accuracy_mean"] - baseline["accuracy"]
    noise = max(point["accuracy_spread"], baseline["accuracy_spread"])
    return {"cost_ratio": ratio, "accuracy_gain": gain,
            "matches_for_less": gain >= 0 and ratio <= MATCH_COST_RATIO,
            "beats": gain > noise and ratio <= 1}


def _accuracy_text(b: dict) -> str:
    """Return "96.40 % (one seed)" or "96.40 % mean (spread 1.08) over seeds 0, 1, 2: 97.03,
    95.95, 96.22 %"."""
    if len(b["accuracies"]) == 1:
        return f"{100 * b['accuracy']:.2f} % (one seed)"
    each = ", ".join(f"{100 * a:.2f}" for a in b["accuracies"])
    seeds = ", ".join(str(s) for s in b["seeds"])
    return (f"{100 * b['accuracy']:.2f} % mean (spread {100 * b['accuracy_spread']:.2f}) over "
            f"seeds {seeds}: {each} %")


def baseline_lines(baseline: dict, verified: list[dict]) -> list[str]:
    """Return search.md's section on the baseline and each verified point against it."""
    b = baseline
    lines = ["## Against the sweep's best uniform-width point", "",
             f"Baseline: {b['point']} ({b['vary']} at {b['bits']} bits, from {b['file']}): "
             f"integer accuracy {_accuracy_text(b)}, cost {b['cost']:.3f} "
             f"(LUT4 {b['ecp5']['LUT4']}, EBR {b['ecp5']['EBR']}, MULT18 {b['ecp5']['MULT18']}).",
             "", "| point | accuracy mean − baseline | cost / baseline's | verdict |",
             "|---|---|---|---|"]
    for v in verified:
        c = v["versus_baseline"]
        if c["cost_ratio"] is None:
            lines.append(f"| {v['name']} | - | - | no ECP5 counts |")
            continue
        verdict = ("matches its accuracy at ≤ 70 % of its cost" if c["matches_for_less"] else
                   "more accurate (beyond the seed spreads) at ≤ its cost" if c["beats"] else
                   "neither")
        lines.append(f"| {v['name']} | {100 * c['accuracy_gain']:+.2f} points | "
                     f"{100 * c['cost_ratio']:.1f} % | {verdict} |")
    found = [v["name"] for v in verified
             if v["versus_baseline"]["matches_for_less"] or v["versus_baseline"]["beats"]]
    lines += ["", f"Found: {', '.join(found)}." if found else
              "Found: no verified point matches the baseline for less or beats it."]
    return lines + [""]
