"""The analytic cycle model of a lowered layer, matching hwgen_lstm_ctrl.sv's schedule.

A timestep, between two input transfers: the matrix-vector units' latency from the input transfer
(the slower unit's fold cycles + 1), the gate stage (1), tanh(c) (1), writing the state (1);
emitting h_t adds the output transfer (1). The head adds its own latency once per sequence.
"""
from __future__ import annotations

from hwgen.sim.cycles import mvu_folds, mvu_latency

GATE_STAGE = 1  # sum + requantize + registered table
TANH_STAGE = 1  # registered tanh(c) table
STATE_WRITE = 1  # the new h is registered; the controller is back to accepting input
HEAD_IN = 1  # the controller hands h_T to the head
HEAD_LATENCY = 3  # hwgen_head: fully parallel matrix-vector (2) + score/class register (1)


def lstm_step_cycles(layer, emit: bool) -> int:
    """Return cycles between input transfers of one layer with no stalls (emit: h_t on output)."""
    mv = max(mvu_latency(m.rows, m.cols, m.pe, m.simd) for m in (layer.x_mv, layer.h_mv))
    return mv + GATE_STAGE + TANH_STAGE + STATE_WRITE + (1 if emit else 0)


def mv_folds(layer) -> int:
    """Return the fold cycles of the slower matrix-vector unit."""
    return max(mvu_folds(m.rows, m.cols, m.pe, m.simd) for m in (layer.x_mv, layer.h_mv))


def head_cycles() -> int:
    """Return the cycles the head adds after a sequence's last step, up to its output transfer."""
    return HEAD_IN + HEAD_LATENCY
