"""Fold a lowered model: how many rows (PE) and columns (SIMD) each matrix-vector unit computes per
cycle, and the sequence-buffer depth of designs with a reverse direction."""
from __future__ import annotations

from dataclasses import replace

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


def _fold(mv: MatVec, pe: int, simd: int) -> MatVec:
    pe, simd = check_folding(mv.rows, mv.cols, pe, simd, mv.name)
    return replace(mv, pe=pe, simd=simd)


def fold(ir: LoweredModel, pe: int = 0, simd: int = 0, max_steps: int = 0,
         multipliers: str | None = None) -> LoweredModel:
    """Return ir with every layer's matrix-vector units folded by pe and simd (0: fully parallel).

    The head stays fully parallel. max_steps is the longest sequence the hardware buffers: a
    design with a reverse direction needs at least 1; without one it becomes 0. multipliers
    (auto, lut or dsp; None: ir's own) is how the design builds its products
    (hwgen.passes.multipliers).
    """
    layers = tuple(replace(layer, x_mv=_fold(layer.x_mv, pe, simd),
                           h_mv=_fold(layer.h_mv, pe, simd)) for layer in ir.layers)
    if ir.bidirectional and max_steps < 1:
        raise HwgenError("the graph has a reverse direction: give the longest sequence the "
                         "hardware must buffer (max_steps)")
    return replace(ir, layers=layers, max_steps=max_steps if ir.bidirectional else 0,
                   multipliers=ir.multipliers if multipliers is None else multipliers)
