"""What both backends share about a design: its ports, state word, gate rows and design.json.

Neither backend imports the other; both take from here the stream formats of the top
(ports), the packed initial-state word (state_description), the rows of the stacked
matrix-vector units each gate reads (gate_rows) and design.json (design_description), which the
simulation runners read.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwgen.ir.graph import LoweredModel
from hwgen.passes.cycles import cycle_parameters
from hwgen.types import IntType


def port(t: IntType, count: int, kind: str = "") -> dict:
    """Return the description of a stream of `count` codes of type t per transfer."""
    return {"count": count, "type": t.describe(), "kind": kind}


def ports(model: LoweredModel) -> dict:
    """Return the top's stream formats: "x" (input), "out" (output) and the class index width."""
    return {"x": port(model.input.type, model.in_count),
            "out": port(model.out_type, model.out_count, model.out_kind),
            "class_width": model.class_type.width}


@dataclass(frozen=True)
class GateRows:
    """One gate of a direction: its sum and table stages and the rows [first, end) of both
    stacked matrix-vector units it reads."""

    sum: object  # GateSum
    lut: object  # ActLUT
    first: int
    end: int


def gate_rows(layer) -> list:
    """Return the GateRows of a direction's gates, in the matrix units' row order (the rows
    come from the IR's layer.rows, hwgen.gates.gate_rows; a plain RNN has one gate)."""
    if layer.kind == "rnn":
        return [GateRows(layer.sum, layer.act, 0, layer.hidden_size)]
    return [GateRows(layer.sums[g], layer.luts[g], layer.rows(g).start, layer.rows(g).stop)
            for g in layer.x_mv.gates]


def state_description(model: LoweredModel) -> dict:
    """Return the packed state word of one sequence: its width and slices, in model.states order.

    Slice k holds `count` codes of its type; element e sits at bit offset + e * width, LSB first.
    """
    slices, offset = [], 0
    for s in model.states:
        bits = s.quant.type.width * s.count
        slices.append({"tensor": s.tensor, "row": s.row, "layer": s.layer, "part": s.part,
                       **s.quant.type.to_dict(), "rounding": s.quant.rounding.value,
                       "count": s.count, "offset": offset})
        offset += bits
    return {"width": offset, "codes": sum(s.count for s in model.states), "slices": slices}


def design_description(model: LoweredModel) -> dict:
    """Return design.json: the stream formats, the sequence-buffer depth, the cycle model and,
    when the IR records it, how raw features become input codes (preprocess)."""
    desc = {
        "top": "hwgen_top",
        "input": {**model.input.type.to_dict(), "count": model.in_count,
                  "rounding": model.input.rounding.value},
        "output": {**model.out_type.to_dict(), "count": model.out_count,
                   "kind": model.out_kind},
        "class_width": model.class_type.width,
        "batch_first": model.batch_first,
        "max_steps": model.max_steps,
        "cycles": cycle_parameters(model),
    }
    if model.states:
        desc["state"] = state_description(model)
    if model.stateful:
        desc["stateful"] = ("h and c carry across tlast into the next sequence (a chunk of one "
                            "stream); rst returns them to zero")
    if model.embed is not None:
        desc["embed"] = {"vocab": model.embed.vocab, "dim": model.embed.dim,
                         "how": "each input element is one token id in 0..vocab-1 (hwgen_embed "
                                "looks up its row of io codes)"}
    if model.preprocess is not None:
        desc["preprocess"] = {
            "mean": list(model.preprocess.mean), "std": list(model.preprocess.std),
            "how": "x = float32((raw - mean) / std), per feature in float64; then the input "
                   "quantizer: code = clamp(round(x / 2**exp)) with the input's rounding",
        }
        if model.preprocess.target_mean:  # task regress
            desc["preprocess"].update(
                target_mean=list(model.preprocess.target_mean),
                target_std=list(model.preprocess.target_std),
                target_how="target = code * 2**output.exp * target_std + target_mean, per output")
    return desc


__all__ = ["port", "ports", "GateRows", "gate_rows", "state_description", "design_description"]
