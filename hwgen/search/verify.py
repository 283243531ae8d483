"""Verification of a search's front: the chosen points trained with several seeds and built and
checked bit for bit by the whole flow (reference, RTL simulation, HLS C simulation, Yosys and,
with place and route, nextpnr); their measured figures replace the cost model's.

Each verified point gets a spec file, SEARCH/specs/NAME.yaml, that `make hw MODEL=...` builds as
it is: the trial's widths and folding, post-training quantization of the search's float model
(SEARCH/base/checkpoint.pt, named relative to the spec file) and QAT: the spec's own schedule
(train.qat_epochs) or --verify-qat-epochs, not the trials' short one (verify_epochs), so a point's
accuracy is the one its model reaches when trained as the spec trains.
"""
from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
from pathlib import Path

import yaml

from hwgen.progress import say
from hwgen.search.space import point_params, trial_spec
from hwgen.spec import load_spec
from hwgen.sweep.report import pareto_front

#: The spec sections a verified point's file holds (Spec.to_dict's, without the name).
SPEC_SECTIONS = ("dataset", "task", "net", "bits", "train", "folding", "ptq")


def pareto(rows: list[dict]) -> list[dict]:
    """Return the rows no other row beats (hwgen.sweep.report.pareto_front over accuracy and
    cost), cheapest first; of rows with the same accuracy and cost, only the lowest trial
    number."""
    front, seen = [], set()
    for r in pareto_front(sorted(rows, key=lambda r: r["number"]), ("cost",), "accuracy"):
        key = (r["accuracy"], r["cost"])
        if key not in seen:
            seen.add(key)
            front.append(r)
    return front


def feasible(rows: dict, o) -> list[dict]:
    """Return the finished trials that meet every constraint (budget, device, time per step)."""
    from hwgen.search.folding import violations

    return [r for r in rows.values() if r["status"] == "done"
            and all(v <= 0 for v in violations(r, o))]


def chosen(front: list[dict], count: int) -> list[dict]:
    """Return up to count front points spread over it: the most accurate first, then the
    cheapest, then evenly between."""
    if len(front) <= count:
        return list(front)
    if count == 1:
        return [front[-1]]
    picks = {round(i * (len(front) - 1) / (count - 1)) for i in range(count)}
    return [front[i] for i in sorted(picks)]


def write_spec(spec, path: Path) -> Path:
    """Write spec as a YAML spec file at path (the float checkpoint relative to it)."""
    data = {k: v for k, v in spec.to_dict().items() if k in SPEC_SECTIONS}
    ckpt = Path(data["ptq"]["float_checkpoint"])
    data["ptq"]["float_checkpoint"] = os.path.relpath(ckpt.resolve(), path.parent.resolve())
    data["sweep"] = dataclasses.asdict(spec.sweep)
    data["sweep"]["bits"] = list(data["sweep"]["bits"])
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (f"# {path.stem}: a verified point of `hwgen search {spec.name.split('-')[0]}`; "
            f"build it with `make hw MODEL={path}`\n")
    path.write_text(text + yaml.safe_dump(data, sort_keys=False))
    return path


def verify_epochs(base, o) -> int:
    """Return the QAT epochs of a verified point: --verify-qat-epochs, else the spec's."""
    return o.verify_qat_epochs or base.train.qat_epochs


def _seed_accuracies(base, row: dict, ckpt: Path, o, folder: Path) -> list[float]:
    """Return the integer model's test accuracy for each further training seed (the spec's
    seed + 1, + 2, ...; the spec's own seed is the whole flow's build)."""
    from hwgen.search.trial import further_seed_accuracies

    epochs = verify_epochs(base, o)
    return further_seed_accuracies(
        lambda seed: trial_spec(base, point_params(row), ckpt, epochs, folder / f"seed{seed}",
                                seed=seed),
        base.train.seed, o.seeds)


def _measured(spec, o) -> dict:
    """Run the whole flow for spec; return its report's figures (raises if any backend differs)."""
    from hwgen.flow import STEPS, Build, run_flow, verify

    b = Build(spec, fmax=o.pnr, ecp5=True, device=o.device, compile_opt="-O0")
    run_flow(b, STEPS)
    verify(b)
    return json.loads(b.path("report.json").read_text())


def verify_point(base, row: dict, ckpt: Path, o, folder: Path) -> dict:
    """Verify one front point; return its verified figures."""
    name = row["name"]
    spec = trial_spec(base, point_params(row), ckpt, verify_epochs(base, o),
                      folder / "verified" / name)
    path = write_spec(spec, folder / "specs" / f"{name}.yaml")
    built = dataclasses.replace(load_spec(str(path)), out=str(folder / "verified" / name))
    say(f"search: verifying {name} ({o.seeds} seeds, then the whole flow)", sys.stderr)
    report = _measured(built, o)
    accs = [report["accuracy"]["reference"]] + _seed_accuracies(base, row, ckpt, o,
                                                                folder / "seeds" / name)
    return {"name": name, "number": row["number"], "params": row["params"],
            "folding": row["folding"], "spec": str(path),
            "qat_epochs": verify_epochs(base, o),
            "seeds": list(range(base.train.seed, base.train.seed + o.seeds)),
            "accuracies": accs, "accuracy_mean": statistics.fmean(accs),
            "accuracy_spread": max(accs) - min(accs), "report": report}


def by_mean(screened: list[dict]) -> list[dict]:
    """Return the screened rows (hwgen.search.screen) with their mean accuracy as "accuracy"."""
    return [{**r, "accuracy": r["screened"]["mean"]} for r in screened]


def verify_front(base, folder: Path, rows: dict, ckpt: Path, o,
                 screened: list[dict] | None = None) -> list[dict]:
    """Verify up to o.verify points: of the front of the screened rows' mean accuracies, or,
    with no screening, of the feasible trials' front; return their figures."""
    front = pareto(by_mean(screened)) if screened else pareto(feasible(rows, o))
    return [verify_point(base, rows[r["name"]], ckpt, o, folder)
            for r in chosen(front, o.verify)]
