"""A lowered model: LSTM layers of stages plus an optional head; it executes and dumps as text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hwgen.gates import GATES, Gate
from hwgen.ir.stages import ActLUT, CellUpdate, GateSum, Head, HiddenOut, MatVec, StateReg
from hwgen.reference.kernels import argmax_first, as_int, lut, matvec, saturate
from hwgen.reference.lstm import Quantizer


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

    def stages(self) -> list:
        """Return every stage in dataflow order."""
        gates = [g for g in GATES if g in self.sums]
        return ([self.x_mv, self.h_mv] + [self.sums[g] for g in gates]
                + [self.luts[g] for g in gates] + [self.cell, self.cell_tanh, self.hidden,
                                                   self.state])


@dataclass(frozen=True)
class LoweredModel:
    """The lowered model: input quantizer, layers, optional head."""

    input: Quantizer
    layers: tuple
    head: Optional[Head]

    def stages(self) -> list:
        """Return every stage of every layer, then the head."""
        out = [s for layer in self.layers for s in layer.stages()]
        return out + ([self.head] if self.head is not None else [])

    def dump(self) -> str:
        """Return a deterministic text description, one line per stage."""
        lines = [f"input: quant {self.input.type.describe()}/{self.input.rounding.value}"]
        for layer in self.layers:
            lines.append(f"layer {layer.name}: I={layer.input_size} H={layer.hidden_size} "
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


def execute_layer(layer: LayerIR, x):
    """Return (outputs [T, B, H], h_T, c_T) for input codes x [T, B, I]."""
    x = as_int(x)
    batch = x.shape[1]
    h = np.zeros((batch, layer.hidden_size), dtype=np.int64)
    c = np.zeros((batch, layer.hidden_size), dtype=np.int64)
    outputs = np.zeros((x.shape[0], batch, layer.hidden_size), dtype=np.int64)
    order = range(x.shape[0] - 1, -1, -1) if layer.reverse else range(x.shape[0])
    for t in order:
        h, c = step(layer, x[t], h, c)
        outputs[t] = h
    return outputs, h, c


def execute_head(head: Head, h) -> tuple:
    """Return (score codes, argmax class) for final hidden codes h [B, H]."""
    scores = matvec(head.matvec.weights, h) << head.mv_shift
    if head.bias is not None:
        scores = scores + head.bias
    return scores, argmax_first(scores)


def execute(model: LoweredModel, x_codes) -> dict:
    """Return {"outputs", "h", "c"} of the last layer and, with a head, {"scores", "class"}."""
    outputs = as_int(x_codes)
    for layer in model.layers:
        outputs, h, c = execute_layer(layer, outputs)
    result = {"outputs": outputs, "h": h, "c": c}
    if model.head is not None:
        result["scores"], result["class"] = execute_head(model.head, outputs[-1])
    return result
