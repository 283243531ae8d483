"""Brevitas models: a fixed-point QuantLSTM (+ QuantLinear head) and its float twin.

Every quantizer is one of Brevitas's *FixedPoint quantizers, so every scale is a power of two.
A token-input model (task next_token) has an embedding table in front of the recurrent layers
(hwgen.qat.embedding.quant_embedding; nn.Embedding in the float twin) and the head on every step.
Both can also run chunk by chunk with the recurrent state carried over (forward_state).
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from hwgen.spec import LSTMWidths, Net  # noqa: F401  (re-exported for model builders)
from hwgen.types import HwgenError

warnings.filterwarnings("ignore", message=".*(named tensors|TracerWarning|__floordiv__).*")


def _act_proxy(quant, bits: int):
    """Return a fresh activation quantizer proxy of class quant at the given width."""
    from brevitas.nn import QuantIdentity

    return QuantIdentity(quant, bit_width=bits).act_quant


def weight_quantizer(per_channel: bool):
    """Return the fixed-point weight quantizer: one power-of-two scale per tensor or per row."""
    import brevitas.quant as bq

    if not per_channel:
        return bq.Int8WeightPerTensorFixedPoint

    class Int8WeightPerChannelFixedPoint(bq.Int8WeightPerTensorFixedPoint):
        """Brevitas's fixed-point weight quantizer with one scale per output channel."""

        scaling_per_output_channel = True

    return Int8WeightPerChannelFixedPoint


def quant_lstm(input_size: int, hidden_size: int, widths: LSTMWidths, batch_first: bool = True,
               cifg: bool = False, bias: bool = True, num_layers: int = 1,
               bidirectional: bool = False, per_channel: bool = False,
               shared_input_hidden_weights: bool = False,
               shared_intra_layer_weight_quant: bool = False,
               shared_intra_layer_gate_acc_quant: bool = False):
    """Return a Brevitas QuantLSTM with fixed-point quantizers at the given widths."""
    import brevitas.quant as bq
    from brevitas.nn import QuantLSTM

    lstm = QuantLSTM(
        input_size, hidden_size, num_layers=num_layers, bias=bias, batch_first=batch_first,
        bidirectional=bidirectional, shared_input_hidden_weights=shared_input_hidden_weights,
        shared_intra_layer_weight_quant=shared_intra_layer_weight_quant,
        shared_intra_layer_gate_acc_quant=shared_intra_layer_gate_acc_quant,
        weight_quant=weight_quantizer(per_channel), weight_bit_width=widths.weight,
        bias_quant=bq.Int16Bias, bias_bit_width=widths.bias,
        io_quant=bq.Int8ActPerTensorFixedPoint, io_bit_width=widths.io,
        gate_acc_quant=bq.Int8ActPerTensorFixedPoint, gate_acc_bit_width=widths.input_acc,
        sigmoid_quant=bq.Uint8ActPerTensorFixedPoint, sigmoid_bit_width=widths.sigmoid,
        tanh_quant=bq.Int8ActPerTensorFixedPoint, tanh_bit_width=widths.tanh,
        cell_state_quant=bq.Int8ActPerTensorFixedPoint, cell_state_bit_width=widths.cell_state,
        coupled_input_forget_gates=cifg)
    # Brevitas builds the four gate accumulators from one quantizer description; give each its
    # own width. This must happen before the first forward, which caches the fused cell.
    # With shared_intra_layer_gate_acc_quant the gates keep Brevitas's one shared accumulator.
    if shared_intra_layer_gate_acc_quant:
        return lstm
    for layer in lstm.layers:
        for direction in layer:
            cell = direction.cell
            cell.cell_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.cell_acc)
            cell.output_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.output_acc)
            if cifg:
                cell.forget_acc_quant = cell.input_acc_quant
            else:
                cell.forget_acc_quant = _act_proxy(bq.Int8ActPerTensorFixedPoint, widths.forget_acc)
    return lstm


def quant_rnn(input_size: int, hidden_size: int, widths: LSTMWidths, batch_first: bool = True,
              nonlinearity: str = "tanh", bias: bool = True, num_layers: int = 1,
              bidirectional: bool = False, per_channel: bool = False,
              shared_input_hidden_weights: bool = False):
    """Return a Brevitas QuantRNN with fixed-point quantizers; its accumulator is input_acc wide."""
    import brevitas.quant as bq
    from brevitas.nn import QuantRNN

    return QuantRNN(
        input_size, hidden_size, num_layers=num_layers, nonlinearity=nonlinearity, bias=bias,
        batch_first=batch_first, bidirectional=bidirectional,
        shared_input_hidden_weights=shared_input_hidden_weights,
        weight_quant=weight_quantizer(per_channel), weight_bit_width=widths.weight,
        bias_quant=bq.Int16Bias, bias_bit_width=widths.bias,
        io_quant=bq.Int8ActPerTensorFixedPoint, io_bit_width=widths.io,
        gate_acc_quant=bq.Int8ActPerTensorFixedPoint, gate_acc_bit_width=widths.input_acc)


def quant_gru_of(input_size: int, widths: LSTMWidths, net: Net):
    """Return the QuantGRU (batch first) of a spec's net section; its accumulators take the
    LSTM keys' widths (reset: input_acc, update: forget_acc, new: cell_acc, hidden: output_acc)."""
    from hwgen.qat.gru import GRUWidths, quant_gru

    gru = GRUWidths(weight=widths.weight, bias=widths.bias, io=widths.io,
                    reset_acc=widths.input_acc, update_acc=widths.forget_acc,
                    new_acc=widths.cell_acc, hidden_acc=widths.output_acc,
                    sigmoid=widths.sigmoid, tanh=widths.tanh)
    return quant_gru(input_size, net.hidden_size, gru, bias=net.bias, num_layers=net.num_layers,
                     bidirectional=net.bidirectional)


def quant_recurrent(input_size: int, widths: LSTMWidths, net: Net):
    """Return the QuantLSTM or QuantRNN (batch first) a spec's net section describes."""
    common = dict(bias=net.bias, num_layers=net.num_layers, bidirectional=net.bidirectional,
                  per_channel=net.per_channel_weights,
                  shared_input_hidden_weights=net.shared_input_hidden_weights)
    if net.cell == "rnn":
        return quant_rnn(input_size, net.hidden_size, widths, nonlinearity=net.nonlinearity,
                         **common)
    if net.cell == "gru":
        return quant_gru_of(input_size, widths, net)
    return quant_lstm(input_size, net.hidden_size, widths, cifg=net.cifg,
                      shared_intra_layer_weight_quant=net.shared_intra_layer_weight_quant,
                      shared_intra_layer_gate_acc_quant=net.shared_intra_layer_gate_acc_quant,
                      **common)


def _apply_head(head: nn.Module, out, lengths, per_step: bool):
    """Return head on each sequence's last step [B, K] (lengths picks it; None: the last one),
    or with per_step on every step [B, T, K] (the steps flattened into one batch for the head, so
    it exports as Reshape -> Gemm -> Reshape)."""
    if per_step:
        batch, steps, features = out.shape
        return head(out.reshape(-1, features)).reshape(batch, steps, -1)
    if lengths is None:
        return head(out[:, -1, :])
    return head(out[torch.arange(out.shape[0]), lengths - 1])


def _direction_step(direction, inp, state):
    """Return (outputs, new state) of one layer direction of a Brevitas recurrent stack run from
    state (None: zeros); a state is h [B, H], an LSTM direction's the pair (h, c)."""
    if _is_lstm_direction(direction):
        h, c = state if state is not None else (None, None)
        out, h, c = direction(inp, h, c)
        return out, (_plain(h)[0], _plain(c)[0])
    out, h = direction(inp, state)
    return out, _plain(h)[0]


def _is_lstm_direction(direction) -> bool:
    """Return True for a QuantLSTM layer direction (its forward takes h and c)."""
    from brevitas.nn.quant_rnn import _QuantLSTMLayer

    return isinstance(direction, _QuantLSTMLayer)


def _plain(tensor):
    """Return a tensor's value (a Brevitas QuantTensor's, or the tensor itself)."""
    return getattr(tensor, "value", tensor)


def run_quant_layers(stack, x, states):
    """Return (outputs [B, T, H], the states after the last step, one per layer) of a
    unidirectional Brevitas recurrent stack started from states (None: zeros everywhere).

    Each layer's direction is called with its own state (Brevitas's stack forward indexes the
    states of a unidirectional multi-layer stack as if it had two directions)."""
    states = states or [None] * len(stack.layers)
    new = []
    for layer, state in zip(stack.layers, states):
        x, state = _direction_step(layer[0], x, state)
        new.append(state)
    return _plain(x), new


class QuantClassifier(nn.Module):
    """A QuantLSTM or QuantRNN stack and a QuantLinear head on each sequence's last step, or
    (per_step) on every step; with embedding = (vocab, dim, bits), a table of token ids in front
    (the recurrent stack's input size must be dim)."""

    def __init__(self, input_size: int, hidden_size: int, classes: int, widths: LSTMWidths,
                 head_bits: int, net: Net = None, per_step: bool = False,
                 embedding: tuple | None = None):
        super().__init__()
        self.per_step = per_step
        import brevitas.quant as bq
        from brevitas.nn import QuantLinear

        from hwgen.qat.embedding import quant_embedding

        net = net or Net(input_size=input_size, hidden_size=hidden_size, classes=classes)
        self.embedding = None if embedding is None else quant_embedding(*embedding)
        self.lstm = quant_recurrent(input_size, widths, net)
        features = hidden_size * (2 if net.bidirectional else 1)
        # The head's bias carries its own power-of-two scale, so it needs no input scale.
        self.head = QuantLinear(features, classes, bias=True,
                                weight_quant=bq.Int8WeightPerTensorFixedPoint,
                                weight_bit_width=head_bits,
                                bias_quant=bq.Int8BiasPerTensorFixedPointInternalScaling,
                                bias_bit_width=widths.bias)

    def forward(self, x, lengths=None):
        """Return scores for x [B, T, C] (token ids [B, T] with an embedding): [B, K] from each
        sequence's true last step (lengths), or [B, T, K] from every step (per_step)."""
        out, _ = self.lstm(x if self.embedding is None else self.embedding(x))
        return _apply_head(self.head, out, lengths, self.per_step)

    def forward_state(self, x, states=None):
        """Return (per-step scores [B, T, K], the states after the last step) of a per-step
        model run from states (None: zeros), e.g. the states a previous chunk ended with."""
        out, states = run_quant_layers(
            self.lstm, x if self.embedding is None else self.embedding(x), states)
        return _apply_head(self.head, out, None, True), states


class FloatClassifier(nn.Module):
    """The same network in float (nn.LSTM or nn.RNN + nn.Linear): the accuracy baseline.

    A CIFG network's float twin is a plain LSTM: its forget-gate weights are not carried over.
    """

    def __init__(self, input_size: int, hidden_size: int, classes: int, net: Net = None,
                 per_step: bool = False, vocab: int = 0):
        super().__init__()
        self.per_step = per_step
        net = net or Net(input_size=input_size, hidden_size=hidden_size, classes=classes)
        # vocab > 0: token ids in, through a table of input_size values per token
        self.embedding = nn.Embedding(vocab, input_size) if vocab else None
        common = dict(num_layers=net.num_layers, bias=net.bias, batch_first=True,
                      bidirectional=net.bidirectional)
        if net.cell == "rnn":
            self.lstm = nn.RNN(input_size, hidden_size, nonlinearity=net.nonlinearity, **common)
        elif net.cell == "gru":
            self.lstm = nn.GRU(input_size, hidden_size, **common)
        else:
            self.lstm = nn.LSTM(input_size, hidden_size, **common)
        self.head = nn.Linear(hidden_size * (2 if net.bidirectional else 1), classes)

    def forward(self, x, lengths=None):
        """Return scores for x [B, T, C] or token ids [B, T] ([B, T, K] with per_step)."""
        out, _ = self.lstm(x if self.embedding is None else self.embedding(x))
        return _apply_head(self.head, out, lengths, self.per_step)

    def forward_state(self, x, states=None):
        """Return (per-step scores [B, T, K], the recurrent state after the last step) run from
        states (None: zeros; nn.LSTM's (h, c) or nn.RNN's / nn.GRU's h)."""
        out, states = self.lstm(x if self.embedding is None else self.embedding(x), states)
        return _apply_head(self.head, out, None, True), states


def widths_from_spec(spec) -> LSTMWidths:
    """Return the LSTM widths a spec's bits section gives."""
    return spec.bits.lstm()


def per_step_task(task: str) -> bool:
    """Return True for the tasks whose head runs on every step."""
    return task in ("per_step", "next_token")


def build_quant(spec) -> QuantClassifier:
    """Return the QuantClassifier a spec describes (task next_token: with a table of
    net.classes tokens by net.embedding values, its codes bits.io wide, in front)."""
    n = spec.net
    embedding = (n.classes, n.embedding, spec.bits.io) if spec.task == "next_token" else None
    return QuantClassifier(n.input_size, n.hidden_size, n.classes, widths_from_spec(spec),
                           spec.bits.head, n, per_step=per_step_task(spec.task),
                           embedding=embedding)


def build_float(spec) -> FloatClassifier:
    """Return the float twin of the spec's network."""
    n = spec.net
    return FloatClassifier(n.input_size, n.hidden_size, n.classes, n,
                           per_step=per_step_task(spec.task),
                           vocab=n.classes if spec.task == "next_token" else 0)


def load_float_into_quant(quant: QuantClassifier, float_model: FloatClassifier) -> None:
    """Copy a float model's weights into the quantized model (quantizer scales stay untouched)."""
    state = {f"lstm.{k}": v for k, v in float_model.lstm.state_dict().items()}
    state.update({f"head.{k}": v for k, v in float_model.head.state_dict().items()})
    if float_model.embedding is not None:
        state["embedding.weight"] = float_model.embedding.weight.detach().clone()
    missing, unexpected = quant.load_state_dict(state, strict=False)
    # A CIFG layer has no forget gate: the float LSTM's forget-gate rows are left out on purpose.
    unexpected = [k for k in unexpected if ".forget_gate_params." not in k]
    if unexpected:
        raise HwgenError(f"float weights do not fit the quantized model: {unexpected[0]}")
