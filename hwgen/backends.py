"""A graph's input on a generated design: what `hwgen run --backend rtl|hls` computes.

The simulators take integer codes and a design folder; this module, above them and the ONNX
reader, checks a float input against the graph, quantizes it as the design's input quantizer does
and returns the outputs as run_reference lays them out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hwgen.onnx.execute import check_input
from hwgen.onnx.graph import load_model
from hwgen.sim.design import backend_output, load_design, quantize_inputs, state_codes
from hwgen.sim.hls_run import run_hls
from hwgen.sim.rtl_run import run_rtl
from hwgen.types import HwgenError


def backend_inputs(model, x_float, design_dir) -> tuple:
    """Return (design, per-sequence input codes) for running a graph's input on a generated design.

    model is a QONNX path or ModelWrapper (it checks x_float's shape); design_dir holds a
    design.json generated from it. Each batch element of x_float is one sequence.
    """
    if isinstance(model, (str, Path)):
        model = load_model(model)
    x = check_input(model, x_float)
    design = load_design(design_dir)
    if "embed" in design.raw and x.ndim == 2:  # token ids [.., ..]: one id per step
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] != design.x_count:
        raise HwgenError(f"input shape {list(x.shape)} does not fit the design's "
                         f"{design.x_count} inputs per step")
    codes = quantize_inputs(x if design.batch_first else np.swapaxes(x, 0, 1), design)
    return design, list(codes)


def run_backend_rtl(model, x_float, rtl_dir, build_dir=None, compile_opt: str = "-O1",
                    states=None) -> np.ndarray:
    """Return what run_reference returns for the graph (same layout, float32), computed in RTL.

    states gives the graph's initial-state inputs by name, as run_reference takes them.
    """
    design, codes = backend_inputs(model, x_float, rtl_dir)
    init = state_codes(design, states, len(codes))
    result = run_rtl(rtl_dir, codes, build_dir, compile_opt=compile_opt, states=init)
    return backend_output(design, result.outputs)


def run_backend_hls(model, x_float, hls_dir, build_dir=None, states=None) -> np.ndarray:
    """Return what run_reference returns for the graph (same layout, float32), computed in C sim.

    states gives the graph's initial-state inputs by name, as run_reference takes them.
    """
    design, codes = backend_inputs(model, x_float, hls_dir)
    init = state_codes(design, states, len(codes))
    return backend_output(design, run_hls(hls_dir, codes, build_dir, init).outputs)
