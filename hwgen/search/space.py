"""The search space of `hwgen search`: every quantizer's width and the folding of one spec.

A trial's parameters are the widths of SEARCHED, applied to the model's spec; the sampler asks
only for them. The folding (pe, simd, lanes) does not change the model or its accuracy, only its
hardware, so a trial does not sample it: it prices every folding of the space with the cost model
(milliseconds each) and keeps the best one (hwgen.search.folding). Each trial is a post-training
spec: its float model is the search's base model (trained once), calibrated and then fine-tuned
with QAT, so a trial costs a QAT schedule, not a whole training.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from hwgen.spec import PTQ, Spec, check_folding_fits, limits
from hwgen.sweep.points import BITS_KEYS
from hwgen.types import HwgenError

#: The quantizers a search sets. bias keeps the spec's width (a narrow bias costs accuracy and
#: saves almost nothing: it is added once per gate).
SEARCHED = tuple(k for k in BITS_KEYS if k != "bias")
#: The folding parameters a trial chooses (hwgen.search.folding) and a verified point is built at.
FOLDING = ("pe", "simd", "lanes")
DEFAULT_WIDTHS = (2, 3, 4, 5, 6, 7, 8)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclasses.dataclass(frozen=True)
class Space:
    """What a search may choose: widths per quantizer and the folding values (0: parallel)."""

    widths: tuple[int, ...]
    pe: tuple[int, ...]
    simd: tuple[int, ...]
    lanes: tuple[int, ...]

    def foldings(self) -> list[dict]:
        """Return every folding of the space, {"pe", "simd", "lanes"}, in a fixed order."""
        return [{"pe": p, "simd": s, "lanes": n}
                for p in self.pe for s in self.simd for n in self.lanes]

    def describe(self) -> str:
        """Return one line naming the choices."""
        return (f"widths {','.join(map(str, self.widths))} for {len(SEARCHED)} quantizers; pe "
                f"{','.join(map(str, self.pe))}; simd {','.join(map(str, self.simd))}; lanes "
                f"{','.join(map(str, self.lanes))}")


def folding_choices(spec: Spec) -> tuple[tuple, tuple, tuple]:
    """Return the pe, simd and lanes values that fit every layer of spec's net (0: fully parallel
    or auto lanes); pe and simd exclude the full width, which 0 stands for."""
    net = spec.net
    gates = 1 if net.cell == "rnn" else 3 if net.cifg else 4
    rows = gates * net.hidden_size
    cols = [net.input_size, net.hidden_size]
    if net.num_layers > 1:
        cols.append(net.hidden_size * (2 if net.bidirectional else 1))
    pe = tuple([0] + [d for d in _divisors(rows) if d < rows])
    simd = tuple([0] + [d for d in _divisors(min(cols)) if d < min(cols)
                        and all(c % d == 0 for c in cols)])
    lanes = tuple([0] + [d for d in _divisors(net.hidden_size)])
    return pe, simd, lanes


def make_space(spec: Spec, widths: tuple[int, ...] = DEFAULT_WIDTHS) -> Space:
    """Return the search space of spec (widths checked against the spec's limits)."""
    lo, hi = limits("bits")
    if not widths or any(not lo <= w <= hi for w in widths):
        raise HwgenError(f"--widths: give widths in {lo}..{hi}")
    pe, simd, lanes = folding_choices(spec)
    return Space(widths=tuple(sorted(set(widths))), pe=pe, simd=simd, lanes=lanes)


def trial_name(params: dict) -> str:
    """Return a trial's folder name: a digest of its parameters (same parameters, same folder)."""
    text = json.dumps(params, sort_keys=True)
    return "t" + hashlib.sha256(text.encode()).hexdigest()[:12]


def point_params(row: dict) -> dict:
    """Return a finished trial's widths and chosen folding: the parameters its point is built
    with."""
    return {**row["params"], **row["folding"]}


def trial_spec(base: Spec, params: dict, float_checkpoint: Path, qat_epochs: int,
               folder: Path, seed: int | None = None) -> Spec:
    """Return the spec of a trial: base with params' widths and folding (FOLDING; the spec's
    where params has none), post-training quantization of the float model in float_checkpoint,
    then qat_epochs of QAT, built in folder. seed replaces the training seed (the fine-tuning's
    batch order)."""
    bits = dataclasses.replace(base.bits, **{k: params[k] for k in SEARCHED})
    folding = dataclasses.replace(base.folding, **{k: params[k] for k in FOLDING if k in params})
    ptq = dataclasses.replace(base.ptq or PTQ(), float_checkpoint=str(float_checkpoint),
                              finetune_epochs=qat_epochs)
    train = base.train if seed is None else dataclasses.replace(base.train, seed=seed)
    spec = dataclasses.replace(base, name=f"{base.name}-{Path(folder).name}", bits=bits,
                               folding=folding, ptq=ptq, train=train, out=str(folder))
    check_folding_fits(spec, f"trial {Path(folder).name}")
    return spec


def starting_points(base: Spec, space: Space, baseline: dict | None = None) -> list[dict]:
    """Return the trials a new search starts with: the spec's own widths and, with a baseline
    (hwgen.search.baseline), the widths of the sweep's best point; widths the space does not
    offer are left out."""
    from hwgen.sweep.points import quantizers

    own = {k: getattr(base.bits, k) for k in SEARCHED}
    widths = [own]
    if baseline and baseline.get("vary") and isinstance(baseline.get("bits"), int):
        widths.append({**own, **{k: baseline["bits"] for k in quantizers(baseline["vary"])
                                 if k in own}})
    points = []
    for w in widths:
        if all(w[k] in space.widths for k in SEARCHED) and w not in points:
            points.append(w)
    return points
