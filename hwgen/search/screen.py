"""Screening: the search's best trials trained with every seed before any is verified.

A trial's accuracy is one seed's, and on small test sets the seeds differ by a point or more, so
the single-seed front favours the points a seed flattered. Before verification, up to --screen
feasible trials, front by front (the Pareto front, then the front of the rest, and so on), are
trained with the verified points' schedule (hwgen.search.verify.verify_epochs) and with each of
the --seeds seeds (the spec's seed and the next ones); a trial whose own schedule is that one
keeps its accuracy for the spec's seed. The verified points are then chosen from the front of the
screened trials' mean accuracies. The seeds are trained where verification looks for them
(SEARCH/seeds/NAME/seedN), so it reuses them, and in parallel on the search's executor.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

from hwgen.progress import say
from hwgen.search.space import point_params


def fronts(rows: list[dict], count: int) -> list[dict]:
    """Return up to count of rows, front by front: the Pareto front of accuracy and cost
    (hwgen.search.verify.pareto), then the front of the rows left, ...; of the first front that
    does not fit whole, points spread over it (hwgen.search.verify.chosen)."""
    from hwgen.search.verify import chosen, pareto

    left, out = list(rows), []
    while left and len(out) < count:
        front = pareto(left)
        out += chosen(front, count - len(out))
        taken = {r["name"] for r in front}
        left = [r for r in left if r["name"] not in taken]
    return out


def screen(base, folder: Path, rows: dict, ckpt: Path, o, runner) -> list[dict]:
    """Train the screened trials' seeds (runner(tasks, function) runs them); record each one's
    "screened" figures in its row ({"qat_epochs", "seeds", "accuracies", "mean", "spread"});
    return the screened rows whose every seed finished."""
    from hwgen.search.trial import run_seed
    from hwgen.search.verify import feasible, verify_epochs

    epochs = verify_epochs(base, o)
    seeds = list(range(base.train.seed, base.train.seed + o.seeds))
    for r in rows.values():
        r.pop("screened", None)  # a rerun's screening replaces an earlier one's
    picks = fronts(feasible(rows, o), o.screen)
    known, tasks = {}, []
    for r in picks:
        for seed in seeds:
            if seed == base.train.seed and epochs == o.qat_epochs:
                known[r["name"], seed] = r["accuracy"]  # the trial itself
                continue
            tasks.append({"cwd": str(Path.cwd()), "spec_path": str(Path(base.path).resolve()),
                          "params": point_params(r), "name": r["name"], "seed": seed,
                          "float_checkpoint": str(ckpt), "qat_epochs": epochs,
                          "folder": str(folder / "seeds" / r["name"] / f"seed{seed}")})
    if picks:
        say(f"search: screening {len(picks)} trials with {len(seeds)} seeds and {epochs} QAT "
            f"epochs ({len(tasks)} trainings)", sys.stderr)
    for done in runner(tasks, run_seed):
        if done["status"] != "done":
            say(f"search: {done['name']} seed {done['seed']}: {done['status']}", sys.stderr)
            continue
        known[done["name"], done["seed"]] = done["accuracy"]
    out = []
    for r in picks:
        accs = [known.get((r["name"], s)) for s in seeds]
        if None in accs:
            continue
        r["screened"] = {"qat_epochs": epochs, "seeds": seeds, "accuracies": accs,
                         "mean": statistics.fmean(accs), "spread": max(accs) - min(accs)}
        say(f"search: screened {r['name']}: mean {100 * r['screened']['mean']:.2f} % "
            f"(spread {100 * r['screened']['spread']:.2f}), cost {r['cost']:.3f}", sys.stderr)
        out.append(r)
    return out
