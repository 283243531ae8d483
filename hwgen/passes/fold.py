"""Fold a lowered model: how many rows (PE) and columns (SIMD) each matrix-vector unit computes per
cycle, how many units (lanes) the elementwise stages compute per cycle, and the sequence-buffer
depth of designs with a reverse direction.

Lanes (folding.lanes): the gate, cell, tanh(c) and hidden stages compute L units per cycle over
H/L cycles; L must divide the hidden size H. 0 (auto) gives H when the h matrix-vector unit is
fully parallel (one fold), else the largest divisor of H that is at most max(1, PE_h / GATES),
PE_h the h unit's rows per cycle: the units whose gate rows the h unit finishes per cycle.

Interleave (folding.interleave): N sequences share one engine, entering round-robin (step t of
sequence 0, 1, ..., N-1, then step t+1; hwgen_lstm_ilv_ctrl.sv). N = 1 is the plain design; N > 1
is built for one-layer, one-direction LSTM designs whose state starts at zero, with no head or a
head on the last step.
"""
from __future__ import annotations

from dataclasses import replace

from hwgen.cores import mvu_folds
from hwgen.ir.graph import LoweredModel
from hwgen.ir.stages import MatVec
from hwgen.types import HwgenError


def check_folding(rows: int, cols: int, pe: int, simd: int, where: str) -> tuple:
    """Return (pe, simd) with 0 meaning fully parallel, or raise HwgenError if they do not divide."""
    pe, simd = pe or rows, simd or cols
    if rows % pe:
        raise HwgenError(f"{where}: PE={pe} does not divide the {rows} gate rows")
    if cols % simd:
        raise HwgenError(f"{where}: SIMD={simd} does not divide the {cols} columns")
    return pe, simd


def check_lanes(hidden: int, lanes: int, where: str) -> None:
    """Raise HwgenError unless lanes (0: auto) divides the hidden size."""
    if lanes < 0 or (lanes and hidden % lanes):
        raise HwgenError(f"{where}: folding.lanes={lanes} does not divide the hidden size {hidden}")


def auto_lanes(hidden: int, gates: int, pe: int, folds: int) -> int:
    """Return the auto lane count (module doc) of a layer whose h unit has PE pe and folds folds."""
    if folds == 1:
        return hidden
    most = max(1, pe // gates)
    return max(d for d in range(1, min(most, hidden) + 1) if hidden % d == 0)


def _lanes(layer, lanes: int) -> int:
    """Return a folded layer's lanes: lanes if given (checked), else auto_lanes."""
    check_lanes(layer.hidden_size, lanes, f"layer {layer.name}")
    if lanes:
        return lanes
    mv = layer.h_mv
    return auto_lanes(layer.hidden_size, len(mv.gates), mv.pe, mvu_folds(mv.rows, mv.cols,
                                                                         mv.pe, mv.simd))


def check_interleave(ir: LoweredModel, interleave: int) -> None:
    """Raise HwgenError unless ir can share its engine among `interleave` sequences."""
    if not isinstance(interleave, int) or interleave < 1:
        raise HwgenError(f"folding.interleave={interleave!r}: expected an integer >= 1")
    if interleave == 1:
        return
    layer = ir.layers[0]
    if len(ir.layers) != 1 or layer.kind != "lstm" or ir.states or ir.per_step:
        raise HwgenError(f"folding.interleave={interleave}: only one-layer, one-direction LSTM "
                         "designs without initial states or a per-step head can interleave")


def _fold(mv: MatVec, pe: int, simd: int) -> MatVec:
    pe, simd = check_folding(mv.rows, mv.cols, pe, simd, mv.name)
    return replace(mv, pe=pe, simd=simd)


def fold(ir: LoweredModel, pe: int = 0, simd: int = 0, max_steps: int = 0,
         multipliers: str | None = None, lanes: int = 0,
         interleave: int = 1, stateful: bool | None = None) -> LoweredModel:
    """Return ir with every layer's matrix-vector units folded by pe and simd (0: fully parallel)
    and its elementwise stages by lanes (0: auto, see the module doc).

    The head stays fully parallel. max_steps is the longest sequence the hardware buffers: a
    design with a reverse direction needs at least 1; without one it becomes 0. multipliers
    (auto, lut or dsp; None: ir's own) is how the design builds its products
    (hwgen.passes.multipliers). interleave: the sequences sharing the engine (module doc).
    stateful (None: ir's own) makes every direction keep its state across tlast
    (LoweredModel.stateful).
    """
    check_interleave(ir, interleave)
    layers = [replace(layer, x_mv=_fold(layer.x_mv, pe, simd), h_mv=_fold(layer.h_mv, pe, simd))
              for layer in ir.layers]
    layers = tuple(replace(layer, lanes=_lanes(layer, lanes)) for layer in layers)
    if ir.bidirectional and max_steps < 1:
        raise HwgenError("the graph has a reverse direction: give the longest sequence the "
                         "hardware must buffer (max_steps)")
    return replace(ir, layers=layers, max_steps=max_steps if ir.bidirectional else 0,
                   multipliers=ir.multipliers if multipliers is None else multipliers,
                   interleave=interleave,
                   stateful=ir.stateful if stateful is None else bool(stateful))
