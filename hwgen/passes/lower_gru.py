"""Lower one GRU layer's integer parameters (hwgen.reference.gru.GRUParams) to dataflow stages.

Each stage's shifts align its terms to the finest scale among them, as the reference sums them;
each sum type is the exact range of its aligned terms.
"""
from __future__ import annotations

import numpy as np

from hwgen.ir.graph import GRULayerIR
from hwgen.ir.stages import ActLUT, Blend, GateSum, HiddenNew, MatVec, NewSum, StateReg
from hwgen.reference.gru import GRU_GATES, GRUGate, GRUParams
from hwgen.reference.kernels import align, matvec_range
from hwgen.reference.lstm import gate_sum_exp
from hwgen.types import IntType, signed_type_for_range


def _matvec(name: str, p: GRUParams, part: str, in_type: IntType) -> MatVec:
    """Return the fully parallel matrix-vector stage of the x ('wx') or h ('wh') part of the
    three gates, stacked in gate order, each block keeping its own exact type."""
    weights = np.concatenate([getattr(p.gate(g), part) for g in GRU_GATES], axis=0)
    types = tuple(getattr(p.gate(g), f"{part}_type") for g in GRU_GATES)
    lo, hi = matvec_range(weights, in_type)
    return MatVec(name, GRU_GATES, weights, types, in_type,
                  signed_type_for_range(int(lo.min()), int(hi.max())), int(weights.shape[0]),
                  int(weights.shape[1]))


def _sum_type(lo, hi, bias, exp: int) -> IntType:
    """Return the exact signed type of per-row ranges [lo, hi] plus an aligned bias (or None)."""
    if bias is not None:
        lo, hi = lo + bias, hi + bias
    return signed_type_for_range(int(np.min(lo, initial=0)), int(np.max(hi, initial=0)), exp)


def _gate_sum(name: str, p: GRUParams, gate: GRUGate) -> GateSum:
    """Return the reset or update gate's sum stage."""
    g = p.gate(gate)
    exp = gate_sum_exp(p, g)
    x_shift = g.wx_type.exp + p.x_type.exp - exp
    h_shift = g.wh_type.exp + p.out.type.exp - exp
    xl, xh = matvec_range(g.wx, p.x_type)
    hl, hh = matvec_range(g.wh, p.out.type)
    bias = align(g.bias, g.bias_type.exp, exp) if g.bias is not None else None
    return GateSum(name, gate, x_shift, h_shift, bias,
                   _sum_type((xl << x_shift) + (hl << h_shift), (xh << x_shift) + (hh << h_shift),
                             bias, exp), g.acc)


def _hidden_new(name: str, p: GRUParams) -> HiddenNew:
    """Return hn = hidden_acc(W_hn h + b_hn) as a stage."""
    g = p.gate(GRUGate.NEW)
    exps = [g.wh_type.exp + p.out.type.exp]
    if p.hidden_bias is not None:
        exps.append(p.hidden_bias_type.exp)
    exp = min(exps)
    bias = align(p.hidden_bias, p.hidden_bias_type.exp, exp) if p.hidden_bias is not None else None
    lo, hi = matvec_range(g.wh, p.out.type)
    shift = exps[0] - exp
    return HiddenNew(name, shift, bias, _sum_type(lo << shift, hi << shift, bias, exp),
                     p.hidden_acc)


def _new_sum(name: str, p: GRUParams) -> NewSum:
    """Return new_acc(W_in x + r * hn + b_in) as a stage."""
    g = p.gate(GRUGate.NEW)
    r_type, hn_type = p.gate(GRUGate.RESET).act.type, p.hidden_acc.type
    exps = [g.wx_type.exp + p.x_type.exp, r_type.exp + hn_type.exp]
    if g.bias is not None:
        exps.append(g.bias_type.exp)
    exp = min(exps)
    x_shift, rh_shift = exps[0] - exp, exps[1] - exp
    bias = align(g.bias, g.bias_type.exp, exp) if g.bias is not None else None
    xl, xh = matvec_range(g.wx, p.x_type)
    corners = [a * b for a in (r_type.min, r_type.max) for b in (hn_type.min, hn_type.max)]
    lo = (xl << x_shift) + (min(corners) << rh_shift)
    hi = (xh << x_shift) + (max(corners) << rh_shift)
    return NewSum(name, r_type, hn_type, x_shift, rh_shift, bias, _sum_type(lo, hi, bias, exp),
                  g.acc)


def _blend(name: str, p: GRUParams) -> Blend:
    """Return h' = io((1 - z) * n + z * h) as a stage; 1 is exact at min(z's exponent, 0)."""
    z_type, n_type = p.gate(GRUGate.UPDATE).act.type, p.gate(GRUGate.NEW).act.type
    one_exp = min(z_type.exp, 0)
    exps = [one_exp + n_type.exp, z_type.exp + p.out.type.exp]
    exp = min(exps)
    probe = Blend(name, z_type, n_type, 1 << -one_exp, z_type.exp - one_exp, exps[0] - exp,
                  exps[1] - exp, IntType(64, True, exp), p.out)
    lo, hi = probe.exact_range()
    return Blend(name, z_type, n_type, probe.one_code, probe.z_shift, probe.nz_shift,
                 probe.zh_shift, signed_type_for_range(lo, hi, exp), p.out)


def lower_gru(p: GRUParams, name: str, index: int = 0) -> GRULayerIR:
    """Return the fully parallel GRULayerIR of a GRU layer (hwgen.passes.fold folds it).

    index is the stack layer the direction belongs to.
    """
    x_mv = _matvec(f"{name}.x_mv", p, "wx", p.x_type)
    h_mv = _matvec(f"{name}.h_mv", p, "wh", p.out.type)
    sums = {g: _gate_sum(f"{name}.sum_{g.short}", p, g) for g in GRU_GATES[:2]}
    luts = {g: ActLUT(f"{name}.act_{g.short}", g.activation, p.gate(g).table, p.gate(g).acc.type,
                      p.gate(g).act.type) for g in GRU_GATES}
    return GRULayerIR(name, p.input_size, p.hidden_size, p.reverse, x_mv, h_mv, sums, luts,
                      _hidden_new(f"{name}.hidden_new", p), _new_sum(f"{name}.new_sum", p),
                      _blend(f"{name}.blend", p), StateReg(f"{name}.state", p.out.type, None),
                      index)
