"""Random QuantGRU cases: seeded configurations, briefly trained models and their exports."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from hwgen.qat.gru import GRUWidths, quant_gru
from hwgen.reference.gru import GRU_GATES, GRUGate

FLOAT32_EXACT = 2**24  # integers up to this magnitude are exact in float32
TRAIN_TIMESTEPS = 3  # training on short sequences moves every scale as well as long ones do


@dataclass(frozen=True)
class Case:
    """One random configuration, fully determined by its seed."""

    seed: int
    widths: GRUWidths
    input_size: int
    hidden_size: int
    steps: int
    batch: int
    batch_first: bool
    num_layers: int
    bidirectional: bool
    bias: bool

    def describe(self) -> str:
        """Return a one-line description for failure messages."""
        return (f"seed={self.seed} I={self.input_size} H={self.hidden_size} T={self.steps} "
                f"B={self.batch} batch_first={self.batch_first} layers={self.num_layers} "
                f"bidirectional={self.bidirectional} bias={self.bias} "
                f"widths={asdict(self.widths)}")


def random_case(seed: int, max_size: int = 48, max_steps: int = 32) -> Case:
    """Return the random case of a seed: every width in 2..8, sizes 1..max_size."""
    rng = np.random.default_rng(seed)
    widths = GRUWidths(**{k: int(rng.integers(2, 9)) for k in asdict(GRUWidths())})
    return Case(seed, widths, int(rng.integers(1, max_size + 1)),
                int(rng.integers(1, max_size + 1)), int(rng.integers(1, max_steps + 1)),
                int(rng.integers(1, 5)), bool(rng.integers(0, 2)), int(rng.integers(1, 3)),
                bool(rng.integers(0, 2)), bool(rng.integers(0, 4) > 0))


def inputs(case: Case, generator: torch.Generator) -> torch.Tensor:
    """Return a random input batch in the case's layout."""
    shape = ((case.batch, case.steps, case.input_size) if case.batch_first
             else (case.steps, case.batch, case.input_size))
    return torch.randn(*shape, generator=generator) * 1.5


def build(case: Case):
    """Return the case's untrained QuantGRU."""
    return quant_gru(case.input_size, case.hidden_size, case.widths, case.batch_first,
                     bias=case.bias, num_layers=case.num_layers, bidirectional=case.bidirectional)


def trained_model(case: Case, train_steps: int = 3):
    """Return (QuantGRU in eval mode, input batch of the case's length) after a few Adam steps."""
    torch.manual_seed(case.seed)
    gen = torch.Generator().manual_seed(case.seed)
    model = build(case)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    short = replace(case, steps=min(case.steps, TRAIN_TIMESTEPS))
    for _ in range(train_steps):
        out, _ = model(inputs(short, gen))
        loss = (out - torch.randn(out.shape, generator=gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), inputs(case, gen)


def export_case(model, x: torch.Tensor, path: Path) -> Path:
    """Export a bare QuantGRU to QONNX at path with hwgen's exporter; return the path."""
    from hwgen.qat.export import export_model

    export_model(model, x, path)
    return path


def _divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def drawn_folding(seed: int, lowered, parallel_up_to: int = 0, max_products: int | None = None,
                  max_folds: int | None = None) -> tuple:
    """Return (PE, SIMD) for every matrix unit of a lowered model, drawn with the seed.

    (0, 0), fully parallel, when its largest matrix has at most parallel_up_to entries; else a
    pair dividing every unit's rows and columns, with PE x SIMD <= max_products and at most
    max_folds fold cycles per vector (None: no limit; when no pair is that short, the pair with
    the fewest fold cycles).
    """
    from hwgen.cores import mvu_folds

    units = [mv for layer in lowered.layers for mv in (layer.x_mv, layer.h_mv)]
    if max(mv.rows * mv.cols for mv in units) <= parallel_up_to:
        return 0, 0
    rows, cols = math.gcd(*(mv.rows for mv in units)), math.gcd(*(mv.cols for mv in units))
    pairs = [(p, s) for p in _divisors(rows) for s in _divisors(cols)
             if max_products is None or p * s <= max_products]
    folds = {pair: max(mvu_folds(mv.rows, mv.cols, *pair) for mv in units) for pair in pairs}
    short = [pair for pair in pairs if max_folds is None or folds[pair] <= max_folds]
    short = short or [min(pairs, key=folds.get)]
    return short[int(np.random.default_rng(seed).integers(len(short)))]


def _span(codes: np.ndarray) -> int:
    """Return the largest magnitude among codes (0 for none)."""
    return int(np.abs(codes).max(initial=0))


def _type_span(t) -> int:
    """Return the largest code magnitude of an IntType."""
    return max(abs(t.min), abs(t.max))


def _bound(terms) -> int:
    """Return the largest sum of magnitudes of terms [(per-row magnitude, exp)], at their finest
    exp."""
    exp = min(e for _, e in terms)
    return int(np.max(sum(np.asarray(m, dtype=object) * (1 << (e - exp)) for m, e in terms)))


def _matvec_term(weights, weight_type, in_type):
    """Return (per-row magnitude bound, exp) of weights @ v over every v of in_type."""
    return np.abs(weights).sum(axis=1) * _type_span(in_type), weight_type.exp + in_type.exp


def _with_bias(terms: list, bias, bias_type) -> list:
    """Return terms plus the bias's magnitudes, when there is a bias."""
    return terms if bias is None else terms + [(np.abs(bias), bias_type.exp)]


def _blend_bound(params) -> int:
    """Return the bound of (1 - z) * n + z * h."""
    z, n = params.gate(GRUGate.UPDATE).act.type, params.gate(GRUGate.NEW).act.type
    one_exp = min(z.exp, 0)
    one_minus_z = (1 << -one_exp) + (_type_span(z) << (z.exp - one_exp))
    return _bound([([one_minus_z * _type_span(n)], one_exp + n.exp),
                   ([_type_span(z) * _type_span(params.out.type)], z.exp + params.out.type.exp)])


def float32_risks(params) -> list:
    """Return names of sums the float32 forward may not hold exactly for these GRUParams.

    A sum is exact in float32 when the sum of its terms' magnitudes, in units of its finest scale,
    stays below 2**24; where it does not, the integer reference is the truth.
    """
    x, h = params.x_type, params.out.type
    bounds = {}
    for gate in GRU_GATES[:2]:
        g = params.gate(gate)
        terms = [_matvec_term(g.wx, g.wx_type, x), _matvec_term(g.wh, g.wh_type, h)]
        bounds[f"{gate.value} gate sum"] = _bound(_with_bias(terms, g.bias, g.bias_type))
    new = params.gate(GRUGate.NEW)
    bounds["hidden sum"] = _bound(_with_bias([_matvec_term(new.wh, new.wh_type, h)],
                                             params.hidden_bias, params.hidden_bias_type))
    r, hn = params.gate(GRUGate.RESET).act.type, params.hidden_acc.type
    terms = [_matvec_term(new.wx, new.wx_type, x),
             ([_type_span(r) * _type_span(hn)], r.exp + hn.exp)]
    bounds["new gate sum"] = _bound(_with_bias(terms, new.bias, new.bias_type))
    bounds["blend sum"] = _blend_bound(params)
    return [f"{name} may reach {v} units" for name, v in bounds.items() if v >= FLOAT32_EXACT]
