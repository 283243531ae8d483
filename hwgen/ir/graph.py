"""A lowered model: a stack of recurrent layers of stages plus an optional head; executes, dumps.

The stack is a flat tuple of directions (LayerIR for LSTM, RNNLayerIR for a plain RNN). Each has
the index of the stack layer it belongs to; a stack layer is one forward direction, optionally
followed by its reverse direction. Both directions of a layer read the same input; the next layer
reads their outputs concatenated on the feature axis (forward first), as Brevitas computes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.gates import GATES, Gate
from hwgen.ir.stages import ActLUT, CellUpdate, GateSum, Head, HiddenOut, MatVec, StateReg
from hwgen.reference.kernels import argmax_first, as_int, lut, matvec, saturate
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType


@dataclass(frozen=True)
class LayerIR:
    """One LSTM layer (one direction) as dataflow stages."""

    name: str
    input_size: int
    hidden_size: int
    reverse: bool
    x_mv: MatVec
    h_mv: MatVec
    sums: dict  # Gate -> GateSum (no FORGET under CIFG)
    luts: dict  # Gate -> ActLUT
    cell: CellUpdate
    cell_tanh: ActLUT
    hidden: HiddenOut
    state: StateReg
    index: int = 0  # the stack layer this direction belongs to

    kind = "lstm"

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        gates = [g for g in GATES if g in self.sums]
        return ([self.x_mv, self.h_mv] + [self.sums[g] for g in gates]
                + [self.luts[g] for g in gates] + [self.cell, self.cell_tanh, self.hidden,
                                                   self.state])


@dataclass(frozen=True)
class RNNLayerIR:
    """One plain RNN layer (one direction): h' = act(acc(Wx x + Wh h + b)) at the io quantizer.

    The single gate sum is stored under Gate.CELL (its matrix-vector units carry that one gate);
    act is a table from the accumulator codes straight to hidden-state codes (tanh or relu).
    """

    name: str
    input_size: int
    hidden_size: int
    reverse: bool
    x_mv: MatVec
    h_mv: MatVec
    sum: GateSum
    act: ActLUT
    state: StateReg  # c_type is None: a plain RNN has no cell state
    index: int = 0

    kind = "rnn"

    @property
    def out_type(self):
        """Return the type of the hidden state (the layer's output)."""
        return self.act.out_type

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        return [self.x_mv, self.h_mv, self.sum, self.act, self.state]


@dataclass(frozen=True)
class StateInput:
    """An initial state a direction reads from a graph input instead of starting at zero.

    The graph input (Brevitas's hx or cx: [layers * directions, batch, hidden]) is quantized by
    `quant`; its row `row` is the initial `part` ("h" or "c") of direction `layer`.
    """

    tensor: str
    row: int
    layer: str
    part: str
    quant: Quantizer
    count: int  # hidden size

    def dump(self) -> str:
        return (f"state input {self.tensor}[{self.row}] -> {self.layer}.{self.part} "
                f"{self.quant.type.describe()}/{self.quant.rounding.value} x{self.count}")


@dataclass(frozen=True)
class LoweredModel:
    """The lowered model: input quantizer, the stack's directions, optional head.

    max_steps is the longest sequence the hardware buffers (reverse directions need the whole
    sequence before they start); 0 means the design needs no sequence buffer.
    """

    input: Quantizer
    layers: tuple
    head: Optional[Head]
    max_steps: int = 0
    states: tuple = ()  # StateInput of every direction that does not start at zero, in order
    batch_first: bool = False  # the layout of the exported graph's input: [B, T, I] when True

    @property
    def in_count(self) -> int:
        """Return the number of input codes per timestep."""
        return self.layers[0].input_size

    @property
    def out_type(self) -> IntType:
        """Return the type of the output elements: the head's scores, or the last layer's h."""
        if self.head is not None:
            return self.head.score_type
        return self.stack()[-1][0].state.h_type

    @property
    def out_count(self) -> int:
        """Return the number of output elements: classes, or the last stack layer's h (all
        directions side by side)."""
        if self.head is not None:
            return self.head.matvec.rows
        return sum(layer.hidden_size for layer in self.stack()[-1])

    @property
    def out_kind(self) -> str:
        """Return what the output holds: "scores" (a head) or "hidden"."""
        return "scores" if self.head is not None else "hidden"

    @property
    def class_type(self) -> IntType:
        """Return the unsigned type of the class index (1 bit when there is no head)."""
        rows = self.head.matvec.rows if self.head is not None else 1
        return IntType(max(1, (rows - 1).bit_length()), False)

    def state_of(self, layer: str, part: str) -> Optional[StateInput]:
        """Return the StateInput giving a direction's initial h or c, or None (it starts at 0)."""
        return next((s for s in self.states if s.layer == layer and s.part == part), None)

    def stack(self) -> tuple:
        """Return the layers grouped by stack layer: ((fwd,) or (fwd, rev), ...) in order."""
        groups = {}
        for layer in self.layers:
            groups.setdefault(layer.index, []).append(layer)
        return tuple(tuple(groups[k]) for k in sorted(groups))

    @property
    def bidirectional(self) -> bool:
        """Return True when some stack layer has a reverse direction."""
        return any(layer.reverse for layer in self.layers)

    def stages(self) -> list:
        """Return every stage of every layer, then the head."""
        out = [s for layer in self.layers for s in layer.stages()]
        return out + ([self.head] if self.head is not None else [])

    def dump(self) -> str:
        """Return a deterministic text description, one line per stage."""
        lines = [f"input: quant {self.input.type.describe()}/{self.input.rounding.value}"]
        if self.max_steps:
            lines.append(f"max_steps: {self.max_steps}")
        lines += [s.dump() for s in self.states]
        for layer in self.layers:
            lines.append(f"layer {layer.name}: {layer.kind} stack={layer.index} "
                         f"I={layer.input_size} H={layer.hidden_size} "
                         f"reverse={int(layer.reverse)}")
            lines += [f"  {s.dump()}" for s in layer.stages()]
        if self.head is not None:
            lines.append(self.head.dump())
        return "\n".join(lines) + "\n"


def _gate_acts(layer: LayerIR, x_acc: np.ndarray, h_acc: np.ndarray) -> dict:
    """Return each gate's activation codes from the two matrix-vector results."""
    acts = {}
    hidden = layer.hidden_size
    for block, gate in enumerate(layer.x_mv.gates):
        s = layer.sums[gate]
        rows = slice(block * hidden, (block + 1) * hidden)
        total = (x_acc[..., rows] << s.x_shift) + (h_acc[..., rows] << s.h_shift)
        if s.bias is not None:
            total = total + s.bias
        acc = s.out.apply(total, s.sum_type.exp)
        acts[gate] = lut(layer.luts[gate].table, s.out.type, acc)
    return acts


def step(layer: LayerIR, x, h, c):
    """Return (h', c') codes after one timestep, computed stage by stage."""
    acts = _gate_acts(layer, matvec(layer.x_mv.weights, x), matvec(layer.h_mv.weights, h))
    cu = layer.cell
    f = as_int(cu.one_code) - acts[Gate.INPUT] if cu.cifg else acts[Gate.FORGET]
    fc = cu.cell.apply(f * as_int(c), cu.f_type.exp + cu.cell.type.exp)
    ig = cu.cell.apply(acts[Gate.INPUT] * acts[Gate.CELL], cu.i_type.exp + cu.g_type.exp)
    c_new = saturate(fc + ig, cu.cell.type)
    t = lut(layer.cell_tanh.table, cu.cell.type, c_new)
    ho = layer.hidden
    h_new = ho.out.apply(acts[Gate.OUTPUT] * t, ho.o_type.exp + ho.tanh_type.exp)
    return h_new, c_new


def rnn_step(layer: RNNLayerIR, x, h):
    """Return h' codes after one timestep of a plain RNN layer."""
    s = layer.sum
    total = (matvec(layer.x_mv.weights, x) << s.x_shift) + (matvec(layer.h_mv.weights, h)
                                                            << s.h_shift)
    if s.bias is not None:
        total = total + s.bias
    acc = s.out.apply(total, s.sum_type.exp)
    return lut(layer.act.table, s.out.type, acc)


def execute_layer(layer, x, h0=None, c0=None):
    """Return (outputs [T, B, H], h_T, c_T) for input codes x [T, B, I] (c_T is None for RNN).

    h0 and c0 are initial-state codes [B, H]; None starts at zero.
    """
    x = as_int(x)
    batch = x.shape[1]
    zeros = np.zeros((batch, layer.hidden_size), dtype=np.int64)
    h = as_int(h0) if h0 is not None else zeros
    c = (as_int(c0) if c0 is not None else zeros) if layer.kind == "lstm" else None
    outputs = np.zeros((x.shape[0], batch, layer.hidden_size), dtype=np.int64)
    order = range(x.shape[0] - 1, -1, -1) if layer.reverse else range(x.shape[0])
    for t in order:
        if layer.kind == "lstm":
            h, c = step(layer, x[t], h, c)
        else:
            h = rnn_step(layer, x[t], h)
        outputs[t] = h
    return outputs, h, c


def execute_head(head: Head, h) -> tuple:
    """Return (score codes, argmax class) for final hidden codes h [B, H]."""
    scores = matvec(head.matvec.weights, h) << head.mv_shift
    if head.bias is not None:
        scores = scores + head.bias
    return scores, argmax_first(scores)


def execute(model: LoweredModel, x_codes, states: dict = None) -> dict:
    """Return {"outputs", "h", "c"} of the last stack layer and, with a head, {"scores", "class"}.

    outputs concatenates the last stack layer's directions; h and c are its last direction's.
    states maps (direction name, "h" or "c") to initial-state codes [B, H] for model.states.
    """
    states = states or {}
    missing = [(s.layer, s.part) for s in model.states if (s.layer, s.part) not in states]
    if missing:
        raise HwgenError(f"initial state {missing[0][0]}.{missing[0][1]} needs a value")
    outputs = as_int(x_codes)
    for directions in model.stack():
        results = [execute_layer(layer, outputs, states.get((layer.name, "h")),
                                 states.get((layer.name, "c"))) for layer in directions]
        outputs = np.concatenate([r[0] for r in results], axis=-1)
        h, c = results[-1][1], results[-1][2]
    result = {"outputs": outputs, "h": h, "c": c}
    if model.head is not None:
        result["scores"], result["class"] = execute_head(model.head, outputs[-1])
    return result


def initial_state_codes(model: LoweredModel, states: dict) -> dict:
    """Return {(direction, part): codes [B, H]} from float initial states given by graph input.

    states maps each StateInput's tensor to its float values [rows, B, H]; each row is quantized
    by its StateInput's quantizer, as Brevitas quantizes hx and cx.
    """
    from hwgen.reference.luts import quantize_input

    out = {}
    for s in model.states:
        if s.tensor not in states:
            raise HwgenError(f"graph input {s.tensor!r} (an initial state) needs a value")
        value = np.asarray(states[s.tensor], dtype=np.float32)
        if value.ndim != 3 or value.shape[0] <= s.row or value.shape[2] != s.count:
            raise HwgenError(f"state {s.tensor!r}: shape {list(value.shape)}, expected [rows > "
                             f"{s.row}, batch, {s.count}]")
        out[(s.layer, s.part)] = quantize_input(value[s.row], s.quant.type, s.quant.rounding,
                                                f"state {s.tensor!r}")
    return out
