"""One trial of `hwgen search`, run in a worker process (local pool or Ray task).

A trial trains its spec (calibration and QAT from the search's float model), exports it, lowers
and folds the IR, checks the integer reference against the quantized model (== on every test
sequence), and prices every folding of the search space with the cost model (hwgen.cost) for the
search's device, keeping the best (hwgen.search.folding). It returns one row of plain data and
never raises: a failed trial's row says why. run_seed trains a trial's widths with another seed
(a front point's further seeds, hwgen.search.screen).
"""
from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from hwgen.types import HwgenError

#: The flow's steps a trial runs: enough for the folded IR and the reference's accuracy.
TRIAL_STEPS = ("train", "export", "lower", "fold", "reference")


def checked_reference(spec) -> tuple:
    """Run TRIAL_STEPS for spec in this process; return (its Build, the reference step's result);
    raise HwgenError when the integer reference differs from the quantized model."""
    from hwgen.flow import Build, run_flow

    b = Build(spec)
    ref = run_flow(b, TRIAL_STEPS)["reference"]
    if ref["mismatches"]:
        raise HwgenError(f"{spec.name}: the integer reference differs from the quantized model "
                         f"on {ref['mismatches']} sequences")
    return b, ref


def further_seed_accuracies(spec_for, first: int, seeds: int) -> list[float]:
    """Return the integer model's test accuracy of spec_for(seed) for each seed after first, up
    to seeds in all (first + 1, ..., first + seeds - 1): the extra seeds of a verified point or
    of the baseline, whose first seed's accuracy is known already."""
    return [checked_reference(spec_for(seed))[1]["reference_accuracy"]
            for seed in range(first + 1, first + seeds)]


def evaluate_trial(spec, task: dict) -> dict:
    """Run a trial's steps for spec in this process and choose its folding among task's
    ("foldings", "device", "clock_mhz", "budget", "max_ns_per_step"); return its figures at that
    folding (raises on failure)."""
    from hwgen.cost import cost
    from hwgen.passes.fold import fold
    from hwgen.search.folding import Limits, best_folding, priced_foldings

    b, ref = checked_reference(spec)
    ckpt, ir = b.checkpoint(), b.ir()
    limits = Limits(task["device"], tuple(tuple(kv) for kv in task["budget"]),
                    task["max_ns_per_step"])
    priced = priced_foldings(ir, task["foldings"], task["device"], task["clock_mhz"])
    best = best_folding(priced, limits)
    f = best["folding"]
    folded = fold(ir, f["pe"], f["simd"], ir.max_steps, lanes=f["lanes"],
                  interleave=ir.interleave)
    return {"accuracy": ref["reference_accuracy"], "quant_accuracy": ckpt["quant_accuracy"],
            "float_accuracy": ckpt["float_accuracy"], **best,
            "xilinx": cost(folded, "xilinx")["total"], "foldings_priced": len(priced)}


def _logged(task: dict, row: dict, work) -> dict:
    """Return row updated with work()'s figures and "status" ("done" or why it failed) and
    "seconds", the output going to task's folder/log.txt; never raises."""
    import torch

    from hwgen.sweep.run import output_to

    os.chdir(task["cwd"])
    torch.set_num_threads(1)  # one core per task; results do not depend on it
    start = time.monotonic()
    log = Path(task["folder"]) / "log.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    with output_to(log):
        try:
            row.update(work())
            row["status"] = "done"
        except HwgenError as exc:
            row["status"] = f"failed: {exc}"
        except Exception as exc:  # a task must not stop the search; its log has the trace
            traceback.print_exc()
            row["status"] = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    row["seconds"] = round(time.monotonic() - start, 1)
    return row


def run_trial(task: dict) -> dict:
    """Run one trial from plain data (cwd, spec fields, number, params, the folding choices and
    constraints of evaluate_trial); return its row: number, params, status ("done" or why it
    failed), seconds and figures."""
    from hwgen.search.run import task_spec

    row = {"number": task["number"], "params": task["params"], "name": task["name"]}
    return _logged(task, row, lambda: evaluate_trial(task_spec(task), task))


def run_seed(task: dict) -> dict:
    """Train a trial's widths with task's seed and check its reference (run_trial's task with a
    "seed"); return {"name", "seed", "status", "seconds" and, when done, "accuracy"}."""
    from hwgen.search.run import task_spec

    row = {"name": task["name"], "seed": task["seed"]}
    return _logged(task, row, lambda: {
        "accuracy": checked_reference(task_spec(task))[1]["reference_accuracy"]})
