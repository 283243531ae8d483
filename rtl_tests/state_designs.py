"""Curated networks with initial-state inputs (Brevitas's hx, cx) shared by the RTL and HLS
end-to-end tests: the cases, the stateful model and its random batches.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from hwgen.qat.model import LSTMWidths, Net, QuantClassifier, quant_recurrent

MAX_STEPS = 6
BATCH = 2
LENGTHS = (MAX_STEPS, 1, 4, 2)  # one batch of each, each with its own random initial states
INPUTS, HIDDEN, CLASSES = 3, 4, 3
WIDTHS = LSTMWidths(weight=5, io=6, cell_state=7)


@dataclass(frozen=True)
class StateCase:
    """One curated network with initial-state inputs; its weights and data come from the seed."""

    seed: int
    net: Net
    head: bool = False
    c0: bool = True  # an LSTM also reads its initial cell states (else they start at zero)

    @property
    def rows(self) -> int:
        """Return the state inputs' first dimension (Brevitas's hx, cx rows)."""
        # Brevitas reads direction d of stack layer l from row 2 * l + d, also when unidirectional
        net = self.net
        return 2 * net.num_layers if net.num_layers > 1 or net.bidirectional else 1

    @property
    def parts(self) -> tuple:
        """Return the parts of every direction's state that come from the state input."""
        return ("h", "c") if self.net.cell == "lstm" and self.c0 else ("h",)

    @property
    def names(self) -> list:
        """Return the graph's input names: x, then h0 (and c0)."""
        return ["x", "h0", "c0"][:1 + len(self.parts)]


def _net(**options) -> Net:
    return Net(input_size=INPUTS, hidden_size=HIDDEN, classes=CLASSES, **options)


def state_cases(base_seed: int) -> dict:
    """Return the curated cases, seeded from base_seed + 1 on (each backend draws its own)."""
    return {
        "lstm_1layer": StateCase(base_seed + 1, _net()),
        "cifg_bidir_2layer_head": StateCase(
            base_seed + 2, _net(num_layers=2, bidirectional=True, cifg=True), head=True),
        "rnn_bidir_2layer": StateCase(base_seed + 3, _net(cell="rnn", num_layers=2,
                                                           bidirectional=True)),
        "lstm_2layer_h0_only": StateCase(base_seed + 4, _net(num_layers=2), c0=False),
    }


class Stateful(torch.nn.Module):
    """A recurrent stack reading its initial states, with an optional head on the last step."""

    def __init__(self, case: StateCase):
        super().__init__()
        if case.head:
            self.lstm, self.head = QuantClassifier(INPUTS, HIDDEN, CLASSES, WIDTHS, 4,
                                                   case.net).children()
        else:
            self.lstm, self.head = quant_recurrent(INPUTS, WIDTHS, case.net), None

    def forward(self, x, *states):
        out = self.lstm(x, *states)[0]
        return out if self.head is None else self.head(out[:, -1, :])


def data(case: StateCase, steps: int) -> tuple:
    """Return (x, {state name: value}) of one batch, floats spanning the quantizers' ranges."""
    x = torch.randn(BATCH, steps, INPUTS) * 1.5
    states = {name: torch.randn(case.rows, BATCH, HIDDEN) for name in case.names[1:]}
    return x, states
