"""The analytic cycle model of a generated design, matching the cores' schedules.

One direction engine (hwgen_lstm_ctrl.sv and its datapath) takes x_t, and step_latency(layer) = D
cycles later offers h_t: the matrix-vector units' latency (the slower unit's,
hwgen.cores.mvu_latency: its F folds + 5 pipeline stages + its adder-tree registers; 4 + tree
registers when fully parallel), then the elementwise stages one after the other (their latencies
in hwgen/cores.py: the gate stage; LSTM only: the cell update, tanh(c), the hidden requantizer),
each over the layer's lanes (H/L units per cycle add H/L cycles when L < H, and one for the
registered chunk select of the gate, cell and hidden stages: lane_latency).
The adder trees and the cell's and hidden's products depend on each product's multiplier style
(hwgen.passes.multipliers).
then writing the state (1). An
engine that emits h_t takes its next input one cycle after h_t has left (period D + 1); the engine
that carries the head takes it D cycles after the previous one and, after the last step, hands h_T
to the head (1) whose scores come head_latency(classes, hidden) later (hwgen_head: one class per
cycle through a pipeline).

A token-input model's hwgen_embed (in front of the first engine) is one more such stage: it
offers a row EMBED_LATENCY after taking a token and takes the next one the cycle after it left.

A per-step head (hwgen_head_stream after the last engine, which then emits h_t) is one more stage
of the chain: it takes an element when empty, offers its scores head_latency later and takes the
next element one cycle after they have left (period head_latency + 1), as an emitting engine does.

A stack (hwgen/codegen/rtl.py) chains engines; engines hold one element, so a slow engine stalls
the one feeding it. A bidirectional layer broadcasts its input to its forward engine and into a
sequence buffer, each taking an element when it can (the buffer takes the last one as soon as it
is offered); the reverse engine starts SEQ_BUF_LATENCY after that and runs unstalled; both
directions' outputs are buffered and joined by a zip. For one sequence entering an idle design
with the output always ready, transfer_times gives every transfer exactly by max-plus recurrences
over the elements (each crosses a link at max(producer's offer, consumer's ready)); the sequence
buffers never stall such a sequence, so they split the design into chains evaluated one by one.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwgen.cores import (EMBED_LATENCY, GATE_LATENCY, PICK_LAST_LATENCY, SEQ_BUF_LATENCY,
                         TANH_LATENCY, ZIP_LATENCY, cell_latency, head_latency, hidden_latency,
                         lane_latency, mvu_folds, mvu_latency)
from hwgen.passes.multipliers import (cell_multiplier_latency, hidden_multiplier_latency,
                                      matvec_slices)
from hwgen.types import HwgenError

STATE_WRITE = 1  # the new h is registered; the controller is back to accepting input
HEAD_IN = 1  # the controller hands h_T to the head


def mv_folds(layer) -> int:
    """Return the fold cycles of the slower matrix-vector unit."""
    return max(mvu_folds(m.rows, m.cols, m.pe, m.simd) for m in (layer.x_mv, layer.h_mv))


def step_latency(model, layer) -> int:
    """Return D: cycles from an engine's input transfer until it offers h_t (LSTM or RNN)."""
    mv = max(mvu_latency(m.rows, m.cols, m.pe, m.simd, slices=matvec_slices(model, m))
             for m in (layer.x_mv, layer.h_mv))
    return mv + elementwise_latency(model, layer) + STATE_WRITE


def elementwise_latency(model, layer) -> int:
    """Return the cycles of an engine's elementwise stages, run one after the other, each over
    the layer's lanes (hwgen.cores.lane_latency)."""
    def laned(latency: int, reg_select: bool = True) -> int:
        return lane_latency(latency, layer.hidden_size, layer.units_per_cycle, reg_select)

    if layer.kind == "gru":
        return gru_elementwise_latency(model, layer)
    if layer.kind == "lstm":
        return (laned(GATE_LATENCY) + laned(cell_latency(cell_multiplier_latency(model, layer)))
                + laned(TANH_LATENCY, reg_select=False)  # hwgen_lut_vec: combinational select
                + laned(hidden_latency(hidden_multiplier_latency(model, layer))))
    return laned(GATE_LATENCY)  # a plain RNN's gate table gives h


def lstm_step_cycles(model, layer, emit: bool) -> int:
    """Return cycles between input transfers of one engine with no stalls (emit: h_t on output)."""
    return step_latency(model, layer) + (1 if emit else 0)


def model_head_latency(model) -> int:
    """Return the latency of the model's hwgen_head (in transfer -> out_valid), from its sizes
    and its products' style."""
    mv = model.head.matvec
    return head_latency(mv.rows, mv.cols, slices=matvec_slices(model, mv))


def head_cycles(model) -> int:
    """Return the cycles the head adds after a sequence's last step, up to its output transfer."""
    return HEAD_IN + model_head_latency(model)


@dataclass(frozen=True)
class _Engine:
    """An engine in a chain: D, and whether it emits h_t (False: it carries the head)."""

    latency: int
    emits: bool


def _chain(first: int, engines: list, steps: int) -> tuple:
    """Return (o, t): o[i][j] / t[i][j] the cycle element j is offered on / crosses link i.

    The links are source -> engines... (-> sink). The source offers element 0 at `first` and
    element j one cycle after element j-1 left; link i feeds engines[i]; an emitting last engine
    feeds an always-ready sink through one more link.
    """
    n = len(engines)
    links = n + (1 if n == 0 or engines[-1].emits else 0)
    o = [[0] * steps for _ in range(links)]
    t = [[0] * steps for _ in range(links)]
    for j in range(steps):
        for i in range(links):
            o[i][j] = (first if j == 0 else t[0][j - 1] + 1) if i == 0 else (
                t[i - 1][j] + engines[i - 1].latency)
            ready = o[i][j]
            if j > 0 and i < n:
                eng = engines[i]
                ready = t[i + 1][j - 1] + 1 if eng.emits else t[i][j - 1] + eng.latency
            t[i][j] = max(o[i][j], ready)
    return o, t


def _bidirectional_first(model, offered: int, taken: int, fwd, rev, steps: int) -> int:
    """Return the cycle a bidirectional layer's zip offers its first output element.

    The input's last element is offered to the layer at `offered` (the reverse direction's
    buffer takes it then) and taken by the forward engine at `taken`.
    """
    rev_start = offered + SEQ_BUF_LATENCY
    rev_d = step_latency(model, rev)
    rev_done = rev_start + (steps - 1) * (rev_d + 1) + rev_d
    fwd_done = taken + step_latency(model, fwd)
    return max(rev_done, fwd_done) + SEQ_BUF_LATENCY + ZIP_LATENCY


def _emits_last(model) -> bool:
    """Return whether the last stack layer's engine emits h_t (no head, or a per-step head)."""
    return model.head is None or model.head.per_step


def transfer_times(model, steps: int) -> tuple:
    """Return (input transfer cycles [steps], output transfer cycle) of one sequence, from 0.

    The output transfer is the head's scores (a per-step head's: the last step's), or without
    head the last output element's.
    """
    if steps < 1:
        raise HwgenError(f"a sequence has at least one step, not {steps}")
    stack = model.stack()
    first, inputs, engines = 0, None, []
    if model.embed is not None:  # hwgen_embed holds one row, as an emitting engine does
        engines.append(_Engine(EMBED_LATENCY, emits=True))
    for k, directions in enumerate(stack):
        last = k == len(stack) - 1
        fwd = directions[0]
        engines.append(_Engine(step_latency(model, fwd), emits=len(directions) == 2 or not last or
                               _emits_last(model)))
        if len(directions) == 1:
            continue
        o, t = _chain(first, engines, steps)  # ends in the forward engine's output buffer
        inputs = inputs or t[0]
        first = _bidirectional_first(model, o[-2][-1], t[-2][-1], fwd, directions[1], steps)
        engines = []
    if model.per_step:
        engines.append(_Engine(model_head_latency(model), emits=True))
    _, t = _chain(first, engines, steps)
    inputs = inputs or t[0]
    if _emits_last(model):
        return inputs, t[-1][-1]
    if engines and not engines[-1].emits:
        return inputs, t[-1][-1] + engines[-1].latency + model_head_latency(model)
    return inputs, t[-1][-1] + PICK_LAST_LATENCY + model_head_latency(model)


def sequence_cycles(model, steps: int) -> int:
    """Return the cycles from a sequence's first input transfer to its output transfer.

    For one sequence of `steps` elements entering an idle design, fed with no stalls, its output
    always ready; the output is the head's scores, or the last output element. Interleaved
    designs: the same for a group of N sequences (ilv_transfer_times), to the group's last output.
    """
    if model.interleave > 1:
        inputs, outputs = ilv_transfer_times(model, steps)
        return outputs[-1] - inputs[0]
    inputs, output = transfer_times(model, steps)
    return output - inputs[0]


def per_step_cycles(model) -> int:
    """Return the cycles between input transfers once the slowest engine fed by it sets the pace.

    The engines up to the first bidirectional layer (whose forward engine is the last of them)
    take one element each in turn, so the slowest one sets the input's pace. Interleaved
    designs: the cycles between two steps of one sequence (ilv_period; N steps pass in them).
    """
    if model.interleave > 1:
        return ilv_period(model)
    periods = [EMBED_LATENCY + 1] if model.embed is not None else []
    stack = model.stack()
    for k, directions in enumerate(stack):
        emits = len(directions) == 2 or k < len(stack) - 1 or _emits_last(model)
        periods.append(lstm_step_cycles(model, directions[0], emit=emits))
        if len(directions) == 2:
            break
    if model.per_step and not model.bidirectional:
        periods.append(model_head_latency(model) + 1)  # hwgen_head_stream's cycles per element
    return max(periods)


def cycle_parameters(model) -> dict:
    """Return the cycle model's parameters and figures for design.json (JSON-ready)."""
    layers = [{"name": layer.name, "kind": layer.kind, "stack": layer.index,
               "reverse": layer.reverse, "folds": mv_folds(layer),
               "step_latency": step_latency(model, layer)} for layer in model.layers]
    head = model.head is not None
    return {
        "per_step": per_step_cycles(model),
        "head": head_cycles(model) if head else 0,
        "layers": layers,
        "seq_buf_latency": SEQ_BUF_LATENCY, "zip_latency": ZIP_LATENCY,
        "pick_last_latency": PICK_LAST_LATENCY,
        "head_latency": model_head_latency(model) if head else 0,
        "max_steps_latency": sequence_cycles(model, model.max_steps) if model.max_steps else 0,
        **({"interleave": model.interleave, "ilv_gap": ilv_gap(model, model.layers[0])}
           if model.interleave > 1 else {}),
    }


def gru_elementwise_latency(model, layer) -> int:
    """Return a GRU engine's elementwise cycles: hwgen_gru_cell's LATENCY over the layer's lanes."""
    from hwgen.cores import gru_cell_latency
    from hwgen.passes.multipliers import gru_blend_latency, gru_rh_latency

    return gru_cell_latency(gru_rh_latency(model, layer), gru_blend_latency(model, layer),
                            layer.hidden_size, layer.units_per_cycle)


# Interleaved designs (folding.interleave = N > 1, hwgen_lstm_ilv_ctrl.sv): N sequences share one
# engine, issued round-robin to its matrix-vector units at least ilv_gap cycles apart; each slot's
# step takes the plain engine's stages one after the other.


def ilv_gap(model, layer) -> int:
    """Return the issue interval P of an interleaved engine: the least that lets every stage take
    each vector and keeps each stage's result until the next stage has read it.

    The matrix-vector units take a vector every F folds; the faster unit's result must stay (until
    its next result) while the gate reads it, H/L cycles after the slower unit's; a stage over
    H/L > 1 lanes holds its result H/L cycles less than P (hwgen_lanes) and the next stage reads
    it for H/L cycles.
    """
    beats = layer.hidden_size // layer.units_per_cycle
    lat = [mvu_latency(m.rows, m.cols, m.pe, m.simd, slices=matvec_slices(model, m))
           for m in (layer.x_mv, layer.h_mv)]
    return max(mv_folds(layer), max(lat) - min(lat) + beats, 2 * beats if beats > 1 else 1)


def ilv_transfer_times(model, steps, groups: int = 1) -> tuple:
    """Return (input transfer cycles, output transfer cycles) of groups of N interleaved
    sequences entering an idle design at cycle 0 back to back, fed with no stalls, the output
    always ready: `groups` groups of `steps` steps, or steps a list of each group's steps. Inputs
    in stream order, outputs in the order they leave (one per input without a head, one per
    sequence with it)."""
    lengths = list(steps) if isinstance(steps, (list, tuple)) else [steps] * groups
    if not lengths or min(lengths) < 1:
        raise HwgenError(f"an interleaved run has groups of at least one step, not {lengths}")
    layer, n = model.layers[0], model.interleave
    gap, done = ilv_gap(model, layer), step_latency(model, layer) - STATE_WRITE
    head = model.head is not None
    head_lat = model_head_latency(model) if head else 0
    free, head_free, prev = [0] * n, 0, None  # each slot's earliest issue; the head's next take
    inputs, outputs = [], []
    for length in lengths:
        for t in range(length):
            for s in range(n):
                i = free[s] if prev is None else max(prev + gap, free[s])
                inputs.append(i)
                prev, hd = i, i + done  # hidden_done: h is registered
                if not head:  # h leaves the next cycle; the slot is free the cycle after
                    outputs.append(hd + 1)
                    free[s] = hd + 2
                elif t < length - 1:
                    free[s] = hd + 1
                else:  # the head takes h_T when it holds no vector, the slot is free then
                    take = max(hd + 1, head_free)
                    outputs.append(take + head_lat)
                    head_free, free[s] = take + head_lat + 1, take + 1
    return inputs, outputs


def ilv_period(model) -> int:
    """Return the steady-state cycles between two steps of one slot (N steps of the group)."""
    layer = model.layers[0]
    recurrence = lstm_step_cycles(model, layer, emit=model.head is None)
    return max(model.interleave * ilv_gap(model, layer), recurrence)
