"""design.json: what a generated rtl or hls folder says about its design.

Both backends write it, in the same format; hwgen.sim.design reads it. It holds the stream
formats, the sequence-buffer depth, the cycle model and the slices of the initial-state word.
"""
from __future__ import annotations

from hwgen.ir.graph import LoweredModel
from hwgen.passes.cycles import cycle_parameters
from hwgen.types import IntType


def out_type(model: LoweredModel) -> IntType:
    """Return the type of the design's output elements: scores, or the last layer's h."""
    if model.head is not None:
        return model.head.score_type
    return model.stack()[-1][0].state.h_type


def state_description(model: LoweredModel) -> dict:
    """Return the packed state word of one sequence: its width and slices, in model.states order.

    Slice k holds `count` codes of its type; element e sits at bit offset + e * width, LSB first.
    """
    slices, offset = [], 0
    for s in model.states:
        slices.append({"tensor": s.tensor, "row": s.row, "layer": s.layer, "part": s.part,
                       **s.quant.type.to_dict(), "rounding": s.quant.rounding.value,
                       "count": s.count, "offset": offset})
        offset += s.quant.type.width * s.count
    return {"width": offset, "codes": sum(s.count for s in model.states), "slices": slices}


def design_description(model: LoweredModel, ctx: dict, batch_first: bool) -> dict:
    """Return design.json: the stream formats, the sequence-buffer depth and the cycle model."""
    desc = {
        "top": "hwgen_top",
        "input": {**model.input.type.to_dict(), "count": ctx["x"]["count"],
                  "rounding": model.input.rounding.value},
        "output": {**out_type(model).to_dict(), "count": ctx["out"]["count"],
                   "kind": ctx["out"]["kind"]},
        "class_width": ctx["class_width"],
        "batch_first": batch_first,
        "max_steps": model.max_steps,
        "cycles": cycle_parameters(model),
    }
    if model.states:
        desc["state"] = state_description(model)
    return desc
