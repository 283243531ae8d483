"""Random recurrent stacks: seeded Brevitas QuantLSTM / QuantRNN configurations over every option.

Each case fixes the net options (cell, layers, directions, CIFG, bias, per-channel weight scales,
shared quantizers, RNN nonlinearity), the quantizer widths and the sizes; trained_stack() gives the
briefly trained model (scales moved off their initial values) and a few inputs of different lengths.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from hwgen.qat.model import LSTMWidths, QuantClassifier, quant_recurrent
from hwgen.spec import Net


@dataclass(frozen=True)
class StackCase:
    """One configuration, fully determined by its seed (or named by hand)."""

    seed: int
    net: Net
    widths: LSTMWidths
    head: bool
    lengths: tuple  # one sequence per length (a batch of 2 each)
    states: bool = False  # initial states are graph inputs (Brevitas's hx, and cx for LSTM)

    def describe(self) -> str:
        """Return a one-line description for failure messages."""
        n = {k: v for k, v in asdict(self.net).items() if v != getattr(Net(), k)}
        return (f"seed={self.seed} net={n} head={self.head} states={self.states} "
                f"widths={asdict(self.widths)}")


def random_stack(seed: int) -> StackCase:
    """Return the random case of a seed: every option on or off, widths 3..8, sizes 1..6."""
    rng = np.random.default_rng(seed)
    flip = lambda: bool(rng.integers(0, 2))  # noqa: E731
    cell = "rnn" if rng.random() < 0.35 else "lstm"
    bidirectional = flip()
    lstm = cell == "lstm"
    net = Net(input_size=int(rng.integers(1, 6)), hidden_size=int(rng.integers(1, 7)),
              num_layers=int(rng.integers(1, 3)), classes=3, cell=cell,
              nonlinearity="tanh" if lstm or flip() else "relu", bidirectional=bidirectional,
              cifg=lstm and flip(), bias=rng.random() < 0.75, per_channel_weights=flip(),
              shared_input_hidden_weights=bidirectional and rng.random() < 0.3,
              shared_intra_layer_weight_quant=lstm and rng.random() < 0.3,
              shared_intra_layer_gate_acc_quant=lstm and rng.random() < 0.3)
    widths = LSTMWidths(**{k: int(rng.integers(3, 9)) for k in asdict(LSTMWidths())})
    lengths = tuple(sorted({int(v) for v in rng.integers(1, 10, size=3)}))
    # Brevitas indexes hx as if every layer had two directions, so a unidirectional stack of
    # several layers cannot take initial states in Brevitas itself.
    states = rng.random() < 0.3 and (bidirectional or net.num_layers == 1)
    return StackCase(seed, net, widths, flip(), lengths, states)


class _Bare(torch.nn.Module):
    """A recurrent stack alone: its output at every step is the model's output."""

    def __init__(self, net: Net, widths: LSTMWidths):
        super().__init__()
        self.lstm = quant_recurrent(net.input_size, widths, net)

    def forward(self, x):
        return self.lstm(x)[0]


class _WithStates(torch.nn.Module):
    """A recurrent stack (and optional head on the last step) whose initial states are inputs."""

    def __init__(self, case: StackCase):
        super().__init__()
        n = case.net
        inner = QuantClassifier(n.input_size, n.hidden_size, n.classes, case.widths, 6, n)
        self.lstm = inner.lstm
        self.head = inner.head if case.head else None

    def forward(self, x, h0, c0=None):
        out = self.lstm(x, h0, c0)[0] if c0 is not None else self.lstm(x, h0)[0]
        return self.head(out[:, -1, :]) if self.head is not None else out


def build(case: StackCase) -> torch.nn.Module:
    """Return the untrained model of a case (with a QuantLinear head when case.head)."""
    n = case.net
    if case.states:
        return _WithStates(case)
    if case.head:
        return QuantClassifier(n.input_size, n.hidden_size, n.classes, case.widths, 6, n)
    return _Bare(n, case.widths)


def state_names(case: StackCase) -> list:
    """Return the names of a case's initial-state inputs (empty without states)."""
    if not case.states:
        return []
    return ["h0", "c0"] if case.net.cell == "lstm" else ["h0"]


def random_states(case: StackCase, batch: int, gen: torch.Generator) -> list:
    """Return random initial states [layers * directions, batch, hidden] for a case's inputs."""
    n = case.net
    rows = n.num_layers * (2 if n.bidirectional else 1)
    return [torch.randn(rows, batch, n.hidden_size, generator=gen) * 0.7
            for _ in state_names(case)]


def trained_stack(case: StackCase, steps: int = 3):
    """Return (model in eval mode, [argument tuple per length]) after a few Adam steps on noise.

    Each argument tuple is (x,) or (x, h0[, c0]) when the case's initial states are inputs.
    """
    torch.manual_seed(case.seed)
    gen = torch.Generator().manual_seed(case.seed)
    model = build(case)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(steps):
        x = torch.randn(2, 5, case.net.input_size, generator=gen) * 1.5
        loss = model(x, *random_states(case, 2, gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    inputs = [(torch.randn(2, t, case.net.input_size, generator=gen) * 1.5,
               *random_states(case, 2, gen)) for t in case.lengths]
    return model.eval(), inputs
