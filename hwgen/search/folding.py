"""The folding a trial of `hwgen search` is built at, chosen by the cost model.

Folding (pe, simd, lanes) changes the hardware, not the model: every folding of a trial's widths
has the same accuracy. So a trial does not leave it to the sampler: it prices every folding of
the search space (hwgen.search.space.Space.foldings) with the cost model, a few milliseconds
each, and takes

- of the foldings that meet every constraint (the device, --budget, --max-ns-per-step), those
  that cost at most FOLDING_SLACK more than the cheapest, and of them the one with the fewest
  cycles per step: a few per cent of the device buy a design several times faster (the deepest
  folding is rarely much cheaper than the next, and several times slower);
- when none meets them, the one that misses them by least (the trial is then infeasible).

Ties go to the space's order (hwgen.search.space.Space.foldings), so the choice is deterministic.
"""
from __future__ import annotations

import dataclasses

from hwgen.types import HwgenError

#: How much dearer than the cheapest feasible folding a faster one may be and still be chosen.
FOLDING_SLACK = 0.05
BUDGET_KEYS = ("LUT4", "FF", "EBR", "MULT18")


@dataclasses.dataclass(frozen=True)
class Limits:
    """The constraints a design must meet (a search's Options has the same fields)."""

    device: str
    budget: tuple = ()  # ((key, count), ...) of BUDGET_KEYS
    max_ns_per_step: float | None = None


def violations(row: dict, o) -> list[float]:
    """Return a priced design's constraint values (<= 0: met): each of BUDGET_KEYS over the
    budget (o.budget, else what o.device has) minus 1, and, with o.max_ns_per_step, the time per
    step over it minus 1. row: {"ecp5": counts, "ns_per_step"}; o: device, budget and
    max_ns_per_step (Limits, or a search's Options)."""
    from hwgen.sim.synth import capacity

    limits = dict(capacity(o.device))
    limits.update(dict(o.budget))
    out = [row["ecp5"][k] / limits[k] - 1 for k in BUDGET_KEYS]
    if o.max_ns_per_step is not None:
        out.append(row["ns_per_step"] / o.max_ns_per_step - 1)
    return out


def priced_foldings(ir, foldings: list[dict], device: str, clock_mhz: float) -> list[dict]:
    """Return every folding that ir can take, priced: {"folding", "cost", "shares", "ecp5",
    "cycles_per_step", "ns_per_step"} (the cost model for ECP5 at clock_mhz, as device shares)."""
    from hwgen.cost import cost
    from hwgen.passes.fold import fold
    from hwgen.sim.synth import device_cost

    out = []
    for f in foldings:
        try:
            folded = fold(ir, f["pe"], f["simd"], ir.max_steps, lanes=f["lanes"],
                          interleave=ir.interleave)
        except HwgenError:
            continue
        ecp5 = cost(folded, "ecp5", clock_mhz)
        priced = device_cost(ecp5["total"], device)
        out.append({"folding": dict(f), "cost": priced["cost"], "shares": priced["shares"],
                    "ecp5": ecp5["total"], "cycles_per_step": ecp5["cycles_per_step"],
                    "ns_per_step": ecp5["ns_per_step"]})
    return out


def best_folding(priced: list[dict], o) -> dict:
    """Return the priced folding a trial takes (the module doc's rule); o as violations'."""
    if not priced:
        raise HwgenError("no folding of the search space fits this model")
    missed = [sum(max(v, 0.0) for v in violations(p, o)) for p in priced]
    feasible = [p for p, m in zip(priced, missed) if m == 0]
    if not feasible:
        return priced[min(range(len(priced)), key=lambda i: (missed[i], priced[i]["cost"], i))]
    cheapest = min(p["cost"] for p in feasible)
    near = [p for p in feasible if p["cost"] <= cheapest * (1 + FOLDING_SLACK)]
    return min(near, key=lambda p: (p["cycles_per_step"], p["cost"]))
