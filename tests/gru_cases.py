"""Random QuantGRU cases: seeded configurations, briefly trained models and their exports."""
from __future__ import annotations

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


def float32_risks(params) -> list:
    """Return names of sums the float32 forward may not hold exactly for these GRUParams.

    A sum is exact in float32 when the sum of its terms' magnitudes, in units of its finest scale,
    stays below 2**24; where it does not, the integer reference is the truth.
    """
    x_max, h_max = _type_span(params.x_type), _type_span(params.out.type)
    risks = {}
    for gate in GRU_GATES[:2]:
        g = params.gate(gate)
        terms = [(np.abs(g.wx).sum(axis=1) * x_max, g.wx_type.exp + params.x_type.exp),
                 (np.abs(g.wh).sum(axis=1) * h_max, g.wh_type.exp + params.out.type.exp)]
        if g.bias is not None:
            terms.append((np.abs(g.bias), g.bias_type.exp))
        risks[f"{gate.value} gate sum"] = _bound(terms)
    new = params.gate(GRUGate.NEW)
    hidden = [(np.abs(new.wh).sum(axis=1) * h_max, new.wh_type.exp + params.out.type.exp)]
    if params.hidden_bias is not None:
        hidden.append((np.abs(params.hidden_bias), params.hidden_bias_type.exp))
    risks["hidden sum"] = _bound(hidden)
    r_act = params.gate(GRUGate.RESET).act.type
    terms = [(np.abs(new.wx).sum(axis=1) * x_max, new.wx_type.exp + params.x_type.exp),
             ([_type_span(r_act) * _type_span(params.hidden_acc.type)],
              r_act.exp + params.hidden_acc.type.exp)]
    if new.bias is not None:
        terms.append((np.abs(new.bias), new.bias_type.exp))
    risks["new gate sum"] = _bound(terms)
    z, n = params.gate(GRUGate.UPDATE).act.type, new.act.type
    one_exp = min(z.exp, 0)
    one_minus_z = (1 << -one_exp) + (_type_span(z) << (z.exp - one_exp))
    risks["blend sum"] = _bound([([one_minus_z * _type_span(n)], one_exp + n.exp),
                                 ([_type_span(z) * h_max], z.exp + params.out.type.exp)])
    return [f"{name} may reach {v} units" for name, v in risks.items() if v >= FLOAT32_EXACT]
