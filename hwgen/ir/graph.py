"""A lowered model: a stack of recurrent layers of stages plus an optional head; executes, dumps.

The stack is a flat tuple of directions (LayerIR for LSTM, RNNLayerIR for a plain RNN). Each has
the index of the stack layer it belongs to; a stack layer is one forward direction, optionally
followed by its reverse direction. Both directions of a layer read the same input; the next layer
reads their outputs concatenated on the feature axis (forward first), as Brevitas computes them.

Layers and the model check, when built, that their stages fit together (sizes, types, exact gate
sum ranges, the chain of layer types); a failure is a HwgenError naming the layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.gates import GATES, Gate, gate_rows
from hwgen.ir.stages import (ActLUT, Blend, CellUpdate, Embedding, GateSum, Head, HiddenNew,
                             HiddenOut, MatVec, NewSum, StateReg)
from hwgen.reference.gru import GRU_GATES, GRUGate
from hwgen.reference.kernels import argmax_first, as_int, lut, matvec, matvec_range, saturate
from hwgen.reference.lstm import Quantizer
from hwgen.types import HwgenError, IntType

MULTIPLIERS = ("auto", "lut", "dsp")  # how products are built (hwgen.passes.multipliers)


def _fail(layer: str, message: str) -> None:
    raise HwgenError(f"IR layer {layer!r}: {message}")


def _same(layer: str, what: str, got: IntType, want: IntType) -> None:
    """Raise unless a stage's type is the type its neighbour gives it."""
    if got != want:
        _fail(layer, f"{what} is {got.describe()}, expected {want.describe()}")


class _Rows:
    """What both layer kinds share: gate row blocks and the checks of their matrix-vector units
    and gate sums."""

    @property
    def units_per_cycle(self) -> int:
        """Return the lanes of the elementwise stages: units computed per cycle (divides H)."""
        return self.lanes or self.hidden_size

    def _check_lanes(self) -> None:
        if (not isinstance(self.lanes, int) or self.lanes < 0
                or (self.lanes and self.hidden_size % self.lanes)):
            _fail(self.name, f"lanes {self.lanes!r} must divide the hidden size "
                             f"{self.hidden_size}")

    def rows(self, gate: Gate) -> slice:
        """Return the rows of a gate in both matrix-vector units."""
        return gate_rows(self.x_mv.gates, gate, self.hidden_size)

    def block(self, gate: Gate) -> int:
        """Return the index of a gate's block of rows (its position in the gate order)."""
        return self.x_mv.gates.index(gate)

    def _check_matvecs(self, gates: tuple) -> None:
        """Check both matrix-vector units: gate blocks, shapes and input types."""
        for mv, cols in ((self.x_mv, self.input_size), (self.h_mv, self.hidden_size)):
            if mv.gates != gates:
                _fail(self.name, f"{mv.name} carries gates "
                                 f"{''.join(g.short for g in mv.gates)!r}, expected "
                                 f"{''.join(g.short for g in gates)!r}")
            if (mv.rows, mv.cols) != (len(gates) * self.hidden_size, cols):
                _fail(self.name, f"{mv.name} is {mv.rows}x{mv.cols}, expected "
                                 f"{len(gates) * self.hidden_size}x{cols}")
        _same(self.name, f"{self.h_mv.name} input", self.h_mv.in_type, self.state.h_type)

    def _check_sum(self, s: GateSum) -> None:
        """Check a gate sum against its rows: shifts align the scales, sum_type is exact."""
        rows, block = self.rows(s.gate), self.block(s.gate)
        lo, hi = 0, 0
        for mv, shift in ((self.x_mv, s.x_shift), (self.h_mv, s.h_shift)):
            w_type = mv.weight_types[block]
            if shift != w_type.exp + mv.in_type.exp - s.sum_type.exp:
                _fail(self.name, f"{s.name}: shift {shift} does not align {mv.name} "
                                 f"({w_type.describe()} x {mv.in_type.describe()}) to "
                                 f"{s.sum_type.describe()}")
            part_lo, part_hi = matvec_range(mv.weights[rows], mv.in_type)
            lo, hi = lo + (part_lo << shift), hi + (part_hi << shift)
        if s.bias is not None:
            if s.bias.shape != (self.hidden_size,):
                _fail(self.name, f"{s.name}: {len(s.bias)} biases for {self.hidden_size} rows")
            lo, hi = lo + s.bias, hi + s.bias
        if self.hidden_size and not s.sum_type.contains([lo.min(), hi.max()]):
            _fail(self.name, f"{s.name}: sum {s.sum_type.describe()} does not hold the exact "
                             f"range [{lo.min()}, {hi.max()}]")


@dataclass(frozen=True)
class LayerIR(_Rows):
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
    lanes: int = 0  # elementwise units per cycle (hwgen.passes.fold); 0: all hidden_size

    kind = "lstm"

    def __post_init__(self):
        self._check_lanes()
        gates = tuple(g for g in GATES if g in self.sums)
        if set(self.luts) != set(gates) or any(self.sums[g].gate is not g for g in gates):
            _fail(self.name, "every gate needs one gate sum and one table")
        if not {Gate.INPUT, Gate.CELL, Gate.OUTPUT} <= set(gates):
            _fail(self.name, "the input, cell and output gates are required")
        if self.cell.cifg != (Gate.FORGET not in gates):
            _fail(self.name, "the forget gate is there exactly when the cell is not CIFG")
        self._check_matvecs(gates)
        for g in gates:
            self._check_sum(self.sums[g])
            _same(self.name, f"{self.luts[g].name} input", self.luts[g].in_type,
                  self.sums[g].out.type)
            if self.luts[g].function != g.activation:
                _fail(self.name, f"{self.luts[g].name} is {self.luts[g].function}, expected "
                                 f"{g.activation}")
        acts = {g: self.luts[g].out_type for g in gates}
        cu = self.cell
        _same(self.name, f"{cu.name} i", cu.i_type, acts[Gate.INPUT])
        _same(self.name, f"{cu.name} f", cu.f_type, acts.get(Gate.FORGET, cu.i_type))
        _same(self.name, f"{cu.name} g", cu.g_type, acts[Gate.CELL])
        _same(self.name, f"{self.cell_tanh.name} input", self.cell_tanh.in_type, cu.cell.type)
        _same(self.name, f"{self.hidden.name} o", self.hidden.o_type, acts[Gate.OUTPUT])
        _same(self.name, f"{self.hidden.name} tanh", self.hidden.tanh_type,
              self.cell_tanh.out_type)
        _same(self.name, f"{self.state.name} h", self.state.h_type, self.hidden.out.type)
        if self.state.c_type != cu.cell.type:
            _fail(self.name, f"{self.state.name} c must be the cell state's type")

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        gates = [g for g in GATES if g in self.sums]
        return ([self.x_mv, self.h_mv] + [self.sums[g] for g in gates]
                + [self.luts[g] for g in gates] + [self.cell, self.cell_tanh, self.hidden,
                                                   self.state])


@dataclass(frozen=True)
class RNNLayerIR(_Rows):
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
    lanes: int = 0  # gate units per cycle (hwgen.passes.fold); 0: all hidden_size

    kind = "rnn"

    def __post_init__(self):
        self._check_lanes()
        if self.sum.gate is not Gate.CELL:
            _fail(self.name, f"{self.sum.name} must carry the cell gate")
        self._check_matvecs((Gate.CELL,))
        self._check_sum(self.sum)
        _same(self.name, f"{self.act.name} input", self.act.in_type, self.sum.out.type)
        _same(self.name, f"{self.act.name} output", self.act.out_type, self.state.h_type)
        if self.state.c_type is not None:
            _fail(self.name, f"{self.state.name}: a plain RNN has no cell state")

    @property
    def out_type(self):
        """Return the type of the hidden state (the layer's output)."""
        return self.act.out_type

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        return [self.x_mv, self.h_mv, self.sum, self.act, self.state]


@dataclass(frozen=True)
class GRULayerIR(_Rows):
    """One GRU layer (one direction), PyTorch's equations (hwgen.reference.gru) as stages.

    Both matrix-vector units carry the reset, update and new gates' rows. The reset and update
    gates are gate sums and sigmoid tables; the new gate is hidden_new (W_hn h + b_hn through
    hidden_acc), new_sum (W_in x + r * hn + b_in through new_acc) and its tanh table; blend
    gives h' = io((1 - z) * n + z * h).
    """

    name: str
    input_size: int
    hidden_size: int
    reverse: bool
    x_mv: MatVec
    h_mv: MatVec
    sums: dict  # GRUGate -> GateSum of the reset and update gates
    luts: dict  # GRUGate -> ActLUT of all three gates
    hidden_new: HiddenNew
    new_sum: NewSum
    blend: Blend
    state: StateReg  # c_type is None
    index: int = 0
    lanes: int = 0  # elementwise units per cycle (hwgen.passes.fold); 0: all hidden_size

    kind = "gru"

    def __post_init__(self):
        self._check_lanes()
        if set(self.sums) != set(GRU_GATES[:2]) or any(s.gate is not g
                                                        for g, s in self.sums.items()):
            _fail(self.name, "the reset and update gates need one gate sum each")
        if set(self.luts) != set(GRU_GATES):
            _fail(self.name, "every gate needs one table")
        self._check_matvecs(GRU_GATES)
        for g in GRU_GATES:
            if self.luts[g].function != g.activation:
                _fail(self.name, f"{self.luts[g].name} is {self.luts[g].function}, expected "
                                 f"{g.activation}")
        for g, s in self.sums.items():
            self._check_sum(s)
            _same(self.name, f"{self.luts[g].name} input", self.luts[g].in_type, s.out.type)
        self._check_new()
        b = self.blend
        _same(self.name, f"{b.name} z", b.z_type, self.luts[GRUGate.UPDATE].out_type)
        _same(self.name, f"{b.name} n", b.n_type, self.luts[GRUGate.NEW].out_type)
        _same(self.name, f"{self.state.name} h", self.state.h_type, b.out.type)
        if self.state.c_type is not None:
            _fail(self.name, f"{self.state.name}: a GRU has no cell state")

    def _part_range(self, mv: MatVec, shift: int) -> tuple:
        """Return per-row (lo, hi) of the new gate's rows of mv, shifted left by shift."""
        lo, hi = matvec_range(mv.weights[self.rows(GRUGate.NEW)], mv.in_type)
        return lo << shift, hi << shift

    def _check_exact(self, stage, lo, hi) -> None:
        """Check a stage's shift-aligned sum range (plus its bias) against its sum type."""
        if stage.bias is not None:
            if stage.bias.shape != (self.hidden_size,):
                _fail(self.name, f"{stage.name}: {len(stage.bias)} biases for "
                                 f"{self.hidden_size} rows")
            lo, hi = lo + stage.bias, hi + stage.bias
        if self.hidden_size and not stage.sum_type.contains([np.min(lo), np.max(hi)]):
            _fail(self.name, f"{stage.name}: sum {stage.sum_type.describe()} does not hold the "
                             f"exact range [{np.min(lo)}, {np.max(hi)}]")

    def _check_shift(self, stage, mv: MatVec, shift: int) -> None:
        w_type = mv.weight_types[self.block(GRUGate.NEW)]
        if shift != w_type.exp + mv.in_type.exp - stage.sum_type.exp:
            _fail(self.name, f"{stage.name}: shift {shift} does not align {mv.name} "
                             f"({w_type.describe()} x {mv.in_type.describe()}) to "
                             f"{stage.sum_type.describe()}")

    def _check_new(self) -> None:
        """Check the new gate's path: hidden_new, new_sum and the tanh table."""
        hn, ns = self.hidden_new, self.new_sum
        self._check_shift(hn, self.h_mv, hn.h_shift)
        self._check_exact(hn, *self._part_range(self.h_mv, hn.h_shift))
        self._check_shift(ns, self.x_mv, ns.x_shift)
        _same(self.name, f"{ns.name} r", ns.r_type, self.luts[GRUGate.RESET].out_type)
        _same(self.name, f"{ns.name} hn", ns.hn_type, hn.out.type)
        lo, hi = self._part_range(self.x_mv, ns.x_shift)
        rl, rh = ns.rh_range
        self._check_exact(ns, lo + (rl << ns.rh_shift), hi + (rh << ns.rh_shift))
        _same(self.name, f"{self.luts[GRUGate.NEW].name} input", self.luts[GRUGate.NEW].in_type,
              ns.out.type)

    @property
    def out_type(self):
        """Return the type of the hidden state (the layer's output)."""
        return self.state.h_type

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        return ([self.x_mv, self.h_mv] + [self.sums[g] for g in GRU_GATES[:2]]
                + [self.luts[g] for g in GRU_GATES[:2]]
                + [self.hidden_new, self.new_sum, self.luts[GRUGate.NEW], self.blend, self.state])


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


def in_size_0(model) -> int:
    """Return the input features of a model's first layer."""
    return model.layers[0].input_size


@dataclass(frozen=True)
class Preprocess:
    """How raw input features become the model's input: x = (raw - mean) / std per feature,
    in float64, then rounded to float32 (what the model was trained on) and quantized by the
    input quantizer. mean and std come from the training set (hwgen.qat.data).

    A regression model (task regress) also records its targets' statistics: a real target is
    output * target_std + target_mean per output (empty for a classifier)."""

    mean: tuple
    std: tuple
    target_mean: tuple = ()
    target_std: tuple = ()

    def __post_init__(self):
        for name in ("mean", "std", "target_mean", "target_std"):
            values = getattr(self, name)
            if not all(isinstance(v, (int, float, np.floating, np.integer))
                       and not isinstance(v, bool) for v in values):
                raise HwgenError(f"IR preprocess: {name} must hold numbers")
            object.__setattr__(self, name, tuple(float(v) for v in values))
        values = np.array(self.mean + self.std, dtype=np.float64)
        if len(self.mean) != len(self.std) or not self.mean:
            raise HwgenError(f"IR preprocess: {len(self.mean)} means for {len(self.std)} "
                             f"standard deviations")
        if not np.isfinite(values).all() or min(self.std) <= 0:
            raise HwgenError("IR preprocess: means and standard deviations must be finite and "
                             "the deviations positive")
        targets = np.array(self.target_mean + self.target_std, dtype=np.float64)
        if len(self.target_mean) != len(self.target_std) or not np.isfinite(targets).all() or (
                self.target_std and min(self.target_std) <= 0):
            raise HwgenError(f"IR preprocess: {len(self.target_mean)} target means for "
                             f"{len(self.target_std)} target deviations (finite, deviations "
                             f"positive)")

    def apply(self, raw) -> np.ndarray:
        """Return raw features [..., C] standardized as the model's input (float32)."""
        raw = np.asarray(raw, dtype=np.float64)
        mean, std = np.array(self.mean), np.array(self.std)
        return ((raw - mean) / std).astype(np.float32)

    def dump(self) -> str:
        targets = (f"; target = output * target_std + target_mean over {len(self.target_mean)} "
                   f"outputs, target_mean[0]={self.target_mean[0]!r} "
                   f"target_std[0]={self.target_std[0]!r}") if self.target_mean else ""
        return (f"preprocess: (raw - mean) / std over {len(self.mean)} features, "
                f"mean[0]={self.mean[0]!r} std[0]={self.std[0]!r}{targets}")


@dataclass(frozen=True)
class LoweredModel:
    """The lowered model: input quantizer, the stack's directions, optional head, and how raw
    features become its input (preprocess; None when the model came without training data).

    max_steps is the longest sequence the hardware buffers (reverse directions need the whole
    sequence before they start); 0 means the design needs no sequence buffer.
    """

    input: Quantizer
    layers: tuple
    head: Optional[Head]
    max_steps: int = 0
    states: tuple = ()  # StateInput of every direction that does not start at zero, in order
    batch_first: bool = False  # the layout of the exported graph's input: [B, T, I] when True
    preprocess: Optional[Preprocess] = None
    multipliers: str = "auto"  # folding.multipliers: auto, lut or dsp (hwgen.passes.multipliers)
    interleave: int = 1  # folding.interleave: sequences sharing the engine (hwgen.passes.fold)
    # token-id input: the table lookup in front of the first layer; input is then the token id's
    # quantizer (unsigned, scale 1) and each step carries one token id
    embed: Optional[Embedding] = None
    # stateful: every direction keeps h (and c) across tlast, so a long stream can be fed in
    # chunks; only a reset returns them to zero (hwgen.reference.stateful, execute_chunks)
    stateful: bool = False

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        if self.multipliers not in MULTIPLIERS:
            raise HwgenError(f"IR model: multipliers {self.multipliers!r} is not one of "
                             f"{', '.join(MULTIPLIERS)}")
        object.__setattr__(self, "states", tuple(self.states))
        if not isinstance(self.interleave, int) or self.interleave < 1:
            raise HwgenError(f"IR model: interleave {self.interleave!r} must be >= 1")
        if not self.layers:
            raise HwgenError("IR model: no recurrent layer")
        if not isinstance(self.max_steps, int) or self.max_steps < 0:
            raise HwgenError(f"IR model: max_steps {self.max_steps!r} must be >= 0")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise HwgenError(f"IR model: layer names {names} are not unique")
        stack = self.stack()
        if [d[0].index for d in stack] != list(range(len(stack))):
            raise HwgenError("IR model: stack layers must be numbered 0, 1, ... in order")
        in_type, in_size = self.input.type, self.layers[0].input_size
        if self.embed is not None:
            self._check_embed()
            in_type = self.embed.out.type
        for directions in stack:
            if [d.reverse for d in directions] not in ([False], [False, True]):
                _fail(directions[0].name, "a stack layer is a forward direction, optionally "
                                          "followed by a reverse one")
            for d in directions:
                _same(d.name, "input", d.x_mv.in_type, in_type)
                if d.input_size != in_size:
                    _fail(d.name, f"input size {d.input_size}, but {in_size} features feed it")
                _same(d.name, "output", d.state.h_type, directions[0].state.h_type)
            in_type, in_size = directions[0].state.h_type, sum(d.hidden_size for d in directions)
        if self.head is not None:
            mv = self.head.matvec
            if mv.cols != in_size:
                raise HwgenError(f"IR stage {self.head.name!r}: {mv.cols} columns for the "
                                 f"{in_size} features of the last layer")
            if mv.in_type != in_type:
                raise HwgenError(f"IR stage {self.head.name!r}: input {mv.in_type.describe()}, "
                                 f"expected {in_type.describe()}")
        targets = len(self.preprocess.target_mean) if self.preprocess is not None else 0
        if targets and (self.head is None or targets != self.head.matvec.rows):
            raise HwgenError(f"IR model: preprocess has {targets} target statistics, the head "
                             f"{self.head.matvec.rows if self.head else 0} outputs")
        if self.preprocess is not None and len(self.preprocess.mean) != in_size_0(self):
            raise HwgenError(f"IR model: preprocess over {len(self.preprocess.mean)} features, "
                             f"the model takes {in_size_0(self)}")
        if self.stateful and (self.bidirectional or self.states or self.interleave > 1):
            raise HwgenError("IR model: a stateful design has no reverse direction, no "
                             "initial-state inputs and no interleaving")
        if self.embed is not None and self.interleave > 1:
            raise HwgenError("IR model: a token-input design does not interleave")
        by_name = {layer.name: layer for layer in self.layers}
        for s in self.states:
            layer = by_name.get(s.layer)
            state = None if layer is None else {"h": layer.state.h_type,
                                                "c": layer.state.c_type}.get(s.part)
            if state is None or s.quant.type != state or s.count != layer.hidden_size:
                raise HwgenError(f"IR model: state input {s.tensor}[{s.row}] does not match "
                                 f"{s.layer}.{s.part}")

    def _check_embed(self) -> None:
        """Check the embedding against the input (token ids) and the first layer it feeds."""
        e = self.embed
        if self.input.type != e.token_type:
            raise HwgenError(f"IR model: input {self.input.type.describe()} is not the token id "
                             f"type {e.token_type.describe()} of a {e.vocab}-row embedding")
        if e.dim != self.layers[0].input_size:
            raise HwgenError(f"IR stage {e.name!r}: {e.dim} columns for the "
                             f"{self.layers[0].input_size} inputs of the first layer")
        if self.preprocess is not None:
            raise HwgenError("IR model: a token-input model has no feature preprocessing")

    @property
    def in_count(self) -> int:
        """Return the number of input codes per timestep (one token id with an embedding)."""
        return 1 if self.embed is not None else self.layers[0].input_size

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
    def per_step(self) -> bool:
        """Return whether the model has a head on every step (task per_step)."""
        return self.head is not None and self.head.per_step

    @property
    def out_kind(self) -> str:
        """Return what the output holds: "scores" (a head on the last step), "step_scores" (a
        head on every step) or "hidden"."""
        if self.head is None:
            return "hidden"
        return "step_scores" if self.head.per_step else "scores"

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
        """Return the embedding (if any), every stage of every layer, then the head."""
        out = [self.embed] if self.embed is not None else []
        out += [s for layer in self.layers for s in layer.stages()]
        return out + ([self.head] if self.head is not None else [])

    def dump(self) -> str:
        """Return a deterministic text description, one line per stage."""
        lines = [f"input: quant {self.input.type.describe()}/{self.input.rounding.value}"]
        if self.embed is not None:
            lines.append(self.embed.dump())
        if self.preprocess is not None:
            lines.append(self.preprocess.dump())
        if self.max_steps:
            lines.append(f"max_steps: {self.max_steps}")
        if self.multipliers != "auto":
            lines.append(f"multipliers: {self.multipliers}")
        if self.stateful:
            lines.append("stateful: h and c carry across tlast")
        lines += [s.dump() for s in self.states]
        for layer in self.layers:
            lines.append(f"layer {layer.name}: {layer.kind} stack={layer.index} "
                         f"I={layer.input_size} H={layer.hidden_size} "
                         f"reverse={int(layer.reverse)}"
                         + (f" lanes={layer.lanes}" if layer.units_per_cycle < layer.hidden_size
                            else ""))
            lines += [f"  {s.dump()}" for s in layer.stages()]
        if self.head is not None:
            lines.append(self.head.dump())
        return "\n".join(lines) + "\n"


def _gate_acts(layer: LayerIR, x_acc: np.ndarray, h_acc: np.ndarray) -> dict:
    """Return each gate's activation codes from the two matrix-vector results."""
    acts = {}
    for gate in layer.x_mv.gates:
        s = layer.sums[gate]
        rows = layer.rows(gate)
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


def gru_step(layer: GRULayerIR, x, h):
    """Return h' codes after one timestep of a GRU layer, computed stage by stage."""
    x_acc, h_acc = matvec(layer.x_mv.weights, x), matvec(layer.h_mv.weights, h)
    acts = {}
    for gate, s in layer.sums.items():
        rows = layer.rows(gate)
        total = (x_acc[..., rows] << s.x_shift) + (h_acc[..., rows] << s.h_shift)
        if s.bias is not None:
            total = total + s.bias
        acts[gate] = lut(layer.luts[gate].table, s.out.type, s.out.apply(total, s.sum_type.exp))
    rows, hn, ns, b = layer.rows(GRUGate.NEW), layer.hidden_new, layer.new_sum, layer.blend
    total = h_acc[..., rows] << hn.h_shift
    hn_codes = hn.out.apply(total + hn.bias if hn.bias is not None else total, hn.sum_type.exp)
    total = (x_acc[..., rows] << ns.x_shift) + ((acts[GRUGate.RESET] * hn_codes) << ns.rh_shift)
    total = total + ns.bias if ns.bias is not None else total
    n = lut(layer.luts[GRUGate.NEW].table, ns.out.type, ns.out.apply(total, ns.sum_type.exp))
    z = acts[GRUGate.UPDATE]
    total = (((b.one_code - (z << b.z_shift)) * n) << b.nz_shift) + ((z * as_int(h)) << b.zh_shift)
    return b.out.apply(total, b.sum_type.exp)


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
        elif layer.kind == "gru":
            h = gru_step(layer, x[t], h)
        else:
            h = rnn_step(layer, x[t], h)
        outputs[t] = h
    return outputs, h, c


def execute_head(head: Head, h) -> tuple:
    """Return (score codes [.., C], argmax class [..]) for hidden codes h [.., H]."""
    scores = matvec(head.matvec.weights, h) << head.mv_shift
    if head.bias is not None:
        scores = scores + head.bias
    return scores, argmax_first(scores)


def execute(model: LoweredModel, x_codes, states: dict = None) -> dict:
    """Return {"outputs", "h", "c"} of the last stack layer and, with a head, {"scores", "class"}:
    [B, C] and [B] from the last step, or with a per-step head [T, B, C] and [T, B].

    outputs concatenates the last stack layer's directions; h and c are its last direction's;
    final maps (direction name, "h" or "c") to every direction's final state codes.
    states maps (direction name, "h" or "c") to initial-state codes [B, H] for model.states
    (and, for a stateful model's chunks, any direction's: see execute_chunks).
    """
    states = states or {}
    missing = [(s.layer, s.part) for s in model.states if (s.layer, s.part) not in states]
    if missing:
        raise HwgenError(f"initial state {missing[0][0]}.{missing[0][1]} needs a value")
    outputs = as_int(x_codes)
    if model.embed is not None:  # x_codes [T, B, 1]: one token id per step
        outputs = model.embed.lookup(outputs[..., 0])
    final = {}
    for directions in model.stack():
        results = [execute_layer(layer, outputs, states.get((layer.name, "h")),
                                 states.get((layer.name, "c"))) for layer in directions]
        outputs = np.concatenate([r[0] for r in results], axis=-1)
        h, c = results[-1][1], results[-1][2]
        for layer, r in zip(directions, results):
            final.update({(layer.name, "h"): r[1], (layer.name, "c"): r[2]})
    result = {"outputs": outputs, "h": h, "c": c, "final": final}
    if model.head is not None:
        h = outputs if model.head.per_step else outputs[-1]
        result["scores"], result["class"] = execute_head(model.head, h)
    return result


def execute_chunks(model: LoweredModel, chunks: list, clear: list = None) -> list:
    """Return execute's result for each chunk [T_k, B, I] of a stream on a stateful model: each
    chunk starts from the states the previous one ended in, or from zero where clear[k] is set
    (default: the first chunk only; the hardware's rst)."""
    from hwgen.reference.stateful import carry_chunks

    if not model.stateful:
        raise HwgenError("IR model: chunks carry their state only in a stateful model")

    def run(chunk, state):
        result = execute(model, chunk, state)
        return result, result["final"]

    return carry_chunks(run, chunks, clear)


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
