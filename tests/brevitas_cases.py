"""Random Brevitas QuantLSTM cases: seeded configurations, briefly trained models and their exports.

Shared by every test that checks a backend against Brevitas on random models.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from hwgen.gates import GATES
from hwgen.qat.model import LSTMWidths, quant_lstm

FLOAT32_EXACT = 2**24  # integers up to this magnitude are exact in float32


@dataclass(frozen=True)
class Case:
    """One random configuration, fully determined by its seed."""

    seed: int
    widths: LSTMWidths
    input_size: int
    hidden_size: int
    steps: int
    batch: int
    batch_first: bool
    cifg: bool

    def describe(self) -> str:
        """Return a one-line description for failure messages."""
        return (f"seed={self.seed} I={self.input_size} H={self.hidden_size} T={self.steps} "
                f"B={self.batch} batch_first={self.batch_first} cifg={self.cifg} "
                f"widths={asdict(self.widths)}")


def random_case(seed: int, max_size: int = 48, max_steps: int = 32) -> Case:
    """Return the random case of a seed: every width in 2..8, sizes 1..max_size."""
    rng = np.random.default_rng(seed)
    widths = LSTMWidths(**{k: int(rng.integers(2, 9)) for k in asdict(LSTMWidths())})
    return Case(seed, widths, int(rng.integers(1, max_size + 1)), int(rng.integers(1, max_size + 1)),
                int(rng.integers(1, max_steps + 1)), int(rng.integers(1, 5)),
                bool(rng.integers(0, 2)), bool(rng.integers(0, 2)))


def _inputs(case: Case, generator: torch.Generator) -> torch.Tensor:
    """Return a random input batch in the case's layout."""
    shape = ((case.batch, case.steps, case.input_size) if case.batch_first
             else (case.steps, case.batch, case.input_size))
    return torch.randn(*shape, generator=generator) * 1.5


TRAIN_TIMESTEPS = 3  # Brevitas's recurrent loop costs ~0.1 s per timestep forward and back


def trained_model(case: Case, train_steps: int = 3):
    """Return (QuantLSTM in eval mode, input batch) after a few Adam steps on noise.

    The steps train on sequences of at most TRAIN_TIMESTEPS: that moves every scale away from its
    initial value as well as the case's full length would, at a fraction of the time; the batch
    returned has the case's full length.
    """
    torch.manual_seed(case.seed)
    gen = torch.Generator().manual_seed(case.seed)
    model = quant_lstm(case.input_size, case.hidden_size, case.widths, case.batch_first, case.cifg)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    short = replace(case, steps=min(case.steps, TRAIN_TIMESTEPS))
    for _ in range(train_steps):  # scales move away from their initial values
        out, _ = model(_inputs(short, gen))
        loss = (out - torch.randn(out.shape, generator=gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), _inputs(case, gen)


def export_case(model, x: torch.Tensor, path: Path) -> Path:
    """Export a bare QuantLSTM to QONNX at path with hwgen's exporter; return the path."""
    from hwgen.qat.export import export_model

    export_model(model, x, path)
    return path


def float32_risks(params, x_codes: np.ndarray) -> list:
    """Return names of sums Brevitas's float32 arithmetic may not hold exactly for these params.

    A gate sum is exact in float32 when the sum of the magnitudes of its terms, in units of its
    finest scale, stays below 2**24. Where it does not, the integer reference is the truth.
    """
    from hwgen.reference.lstm import gate_sum_exp

    risks = []
    x_max = int(np.abs(x_codes).max()) if x_codes.size else 0
    h_max = max(abs(params.out.type.min), abs(params.out.type.max))
    for gate in GATES:
        if gate not in params.gates:
            continue
        g = params.gate(gate)
        e = gate_sum_exp(params, g)
        bound = (np.abs(g.wx).sum(axis=1) * x_max << (g.wx_type.exp + params.x_type.exp - e))
        bound = bound + (np.abs(g.wh).sum(axis=1) * h_max << (g.wh_type.exp + params.out.type.exp - e))
        if g.bias is not None:
            bound = bound + (np.abs(g.bias) << (g.bias_type.exp - e))
        if int(bound.max(initial=0)) >= FLOAT32_EXACT:
            risks.append(f"{gate.value} gate sum may reach {int(bound.max())} units of 2^{e}")
    return risks
