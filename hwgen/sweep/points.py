"""The points of a sweep: one spec per bit width, derived from a model's spec.

`vary` names what the width applies to: a group of quantizers (GROUPS) or one key of the spec's
`bits` section. Every other quantizer keeps the spec's width, and every point keeps the spec's
net, training settings and folding (the seed can be set for the whole sweep), so the width is the
only thing that changes between points.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from hwgen.spec import Bits, Spec, limits
from hwgen.types import HwgenError, shown

BITS_KEYS = tuple(f.name for f in dataclasses.fields(Bits))

#: Named groups of quantizers. "all" is weights and activations together; bias keeps its width
#: (a narrow bias costs accuracy without saving hardware: it is added once per gate).
GROUPS = {
    "all": tuple(k for k in BITS_KEYS if k != "bias"),
    "weights": ("weight", "head"),
    "activations": ("io", "input_acc", "forget_acc", "cell_acc", "output_acc", "sigmoid", "tanh",
                    "cell_state"),
}


def quantizers(vary: str) -> tuple[str, ...]:
    """Return the bits keys a `vary` name sets, or raise HwgenError naming it."""
    if vary in GROUPS:
        return GROUPS[vary]
    if vary in BITS_KEYS:
        return (vary,)
    raise HwgenError(f"--vary {vary!r}: not a quantizer or group (groups: {', '.join(GROUPS)}; "
                     f"quantizers: {', '.join(BITS_KEYS)})")


def parse_bits(text: str, option: str = "--bits") -> tuple[int, ...]:
    """Return the widths of a --bits argument such as "2,3,4" or "2-8", or raise HwgenError
    naming option."""
    lo_bits, hi_bits = limits("bits")
    widths = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                widths.extend(range(lo, hi + 1))
            else:
                widths.append(int(part))
        except ValueError:
            raise HwgenError(f"{option} {shown(text)}: {shown(part)} is not a width or a range "
                             f"like 2-8") from None
    if (not widths or any(not lo_bits <= b <= hi_bits for b in widths)
            or len(set(widths)) != len(widths)):
        raise HwgenError(f"{option} {shown(text)}: give distinct widths in {lo_bits}..{hi_bits}")
    return tuple(widths)


@dataclasses.dataclass(frozen=True)
class Point:
    """One sweep point: `bits` applied to the quantizers `vary` names, trained with `seed`."""

    vary: str
    bits: int
    seed: int

    @property
    def name(self) -> str:
        """Return the point's name, e.g. weights4 (also its folder under points/)."""
        return f"{self.vary}{self.bits}"


def point_spec(base: Spec, point: Point, folder: Path, pe: int | None = None,
               simd: int | None = None, finetune_epochs: int | None = None) -> Spec:
    """Return the spec of a point: base with the point's widths and seed, built in its folder.

    pe and simd replace the spec's folding when given; finetune_epochs the ptq section's.
    """
    bits = dataclasses.replace(base.bits, **{k: point.bits for k in quantizers(point.vary)})
    train = dataclasses.replace(base.train, seed=point.seed)
    folding = dataclasses.replace(base.folding, **{k: v for k, v in (("pe", pe), ("simd", simd))
                                                   if v is not None})
    ptq = base.ptq
    if finetune_epochs is not None:
        if ptq is None:
            raise HwgenError(f"{base.path}: fine-tuning epochs apply to a spec with a ptq section")
        ptq = dataclasses.replace(ptq, finetune_epochs=finetune_epochs)
    return dataclasses.replace(base, name=f"{base.name}-{point.name}", bits=bits, train=train,
                               folding=folding, ptq=ptq,
                               out=str(Path(folder) / "points" / point.name))


def point_key(spec: Spec, options: dict) -> str:
    """Return a digest of everything a finished point's row depends on (for resuming)."""
    keyed = {"train": spec.training_hash(), "folding": dataclasses.asdict(spec.folding),
             "options": options}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
