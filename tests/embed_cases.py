"""Random token-input models: quant_embedding -> a quantized recurrent stack, seeded, briefly
trained so every scale moves, and their QONNX exports (shared by the embedding tests)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from hwgen.qat.embedding import quant_embedding
from hwgen.qat.model import LSTMWidths, Net, quant_recurrent

CELLS = ("lstm", "rnn", "gru")


@dataclass(frozen=True)
class EmbedCase:
    """One random token-input configuration, fully determined by its seed."""

    seed: int
    vocab: int
    dim: int
    table_bits: int
    hidden: int
    layers: int
    cell: str
    widths: LSTMWidths
    steps: int
    batch: int

    def describe(self) -> str:
        return (f"seed={self.seed} V={self.vocab} D={self.dim} table={self.table_bits}b "
                f"H={self.hidden} layers={self.layers} cell={self.cell} T={self.steps} "
                f"B={self.batch} widths={asdict(self.widths)}")


def random_embed_case(seed: int) -> EmbedCase:
    """Return the case of a seed: widths 2..8, vocab 2..80, dim 1..32, hidden 1..16."""
    rng = np.random.default_rng(seed)
    widths = LSTMWidths(**{k: int(rng.integers(2, 9)) for k in asdict(LSTMWidths())})
    return EmbedCase(seed, int(rng.integers(2, 81)), int(rng.integers(1, 33)),
                     int(rng.integers(2, 9)), int(rng.integers(1, 17)), int(rng.integers(1, 3)),
                     CELLS[int(rng.integers(0, 3))], widths, int(rng.integers(1, 13)),
                     int(rng.integers(1, 4)))


class TokenModel(nn.Module):
    """embedding -> recurrent stack (batch first); returns the stack's outputs [B, T, H]."""

    def __init__(self, case: EmbedCase, bidirectional: bool = False):
        super().__init__()
        self.embed = quant_embedding(case.vocab, case.dim, case.table_bits)
        net = Net(input_size=case.dim, hidden_size=case.hidden, num_layers=case.layers,
                  cell=case.cell, bidirectional=bidirectional)
        self.rnn = quant_recurrent(case.dim, case.widths, net)

    def forward(self, tokens):
        return self.rnn(self.embed(tokens))[0]


def tokens_of(case: EmbedCase, gen: torch.Generator, steps: int = None) -> torch.Tensor:
    """Return random token ids [batch, steps] (int64) in 0..vocab-1."""
    return torch.randint(0, case.vocab, (case.batch, steps or case.steps), generator=gen)


def trained_token_model(case: EmbedCase, train_steps: int = 3):
    """Return (model in eval mode, token batch) after a few Adam steps on noise."""
    torch.manual_seed(case.seed)
    model = trained(TokenModel(case), case, train_steps)
    return model, tokens_of(case, torch.Generator().manual_seed(case.seed + 1))


class TokenClassifier(nn.Module):
    """embedding -> recurrent stack -> a QuantLinear head on every step (the language model's
    shape); returns scores [B, T, classes]."""

    def __init__(self, case: EmbedCase, classes: int, head_bits: int = 6,
                 bidirectional: bool = False):
        super().__init__()
        from hwgen.qat.model import QuantClassifier

        self.embed = quant_embedding(case.vocab, case.dim, case.table_bits)
        net = Net(input_size=case.dim, hidden_size=case.hidden, num_layers=case.layers,
                  cell=case.cell, classes=classes, bidirectional=bidirectional)
        self.body = QuantClassifier(case.dim, case.hidden, classes, case.widths, head_bits, net,
                                    per_step=True)

    def forward(self, tokens):
        return self.body(self.embed(tokens))


def trained(model: nn.Module, case: EmbedCase, train_steps: int = 3) -> nn.Module:
    """Return model in eval mode after a few Adam steps on noise (so every scale moves)."""
    gen = torch.Generator().manual_seed(case.seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(train_steps):
        out = model(tokens_of(case, gen, min(case.steps, 3)))
        loss = (out - torch.randn(out.shape, generator=gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
