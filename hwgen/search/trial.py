"""One trial of `hwgen search`, run in a worker process (local pool or Ray task).

A trial trains its spec (calibration and a short QAT from the search's float model), exports it,
lowers and folds the IR, checks the integer reference against the quantized model (== on every
test sequence), and prices the folded IR with the cost model (hwgen.cost) for the search's
device. It returns one row of plain data and never raises: a failed trial's row says why.
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


def evaluate_trial(spec, device: str, clock_mhz: float) -> dict:
    """Run a trial's steps for spec in this process; return its figures (raises on failure)."""
    from hwgen.cost import cost
    from hwgen.sim.synth import device_cost

    b, ref = checked_reference(spec)
    ckpt, ir = b.checkpoint(), b.ir()
    ecp5 = cost(ir, "ecp5", clock_mhz)
    priced = device_cost(ecp5["total"], device)
    return {"accuracy": ref["reference_accuracy"], "quant_accuracy": ckpt["quant_accuracy"],
            "float_accuracy": ckpt["float_accuracy"], "cost": priced["cost"],
            "shares": priced["shares"], "ecp5": ecp5["total"],
            "xilinx": cost(ir, "xilinx")["total"], "cycles_per_step": ecp5["cycles_per_step"],
            "ns_per_step": ecp5["ns_per_step"]}


def run_trial(task: dict) -> dict:
    """Run one trial from plain data (cwd, spec fields, device, clock_mhz, number, params, log);
    return its row: number, params, status ("done" or why it failed), seconds and figures."""
    import torch

    from hwgen.search.run import task_spec

    os.chdir(task["cwd"])
    torch.set_num_threads(1)  # one core per trial; results do not depend on it
    start = time.monotonic()
    row = {"number": task["number"], "params": task["params"], "name": task["name"]}
    log = Path(task["folder"]) / "log.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    from hwgen.sweep.run import output_to

    with output_to(log):
        try:
            row.update(evaluate_trial(task_spec(task), task["device"], task["clock_mhz"]))
            row["status"] = "done"
        except HwgenError as exc:
            row["status"] = f"failed: {exc}"
        except Exception as exc:  # a trial must not stop the search; its log has the trace
            traceback.print_exc()
            row["status"] = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    row["seconds"] = round(time.monotonic() - start, 1)
    return row
