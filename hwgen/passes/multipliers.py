"""Which multiplier style (hwgen.cores MUL_DSP or MUL_LUT) each product of a design gets.

The model's `multipliers` (spec folding.multipliers: auto, lut or dsp) chooses per product from
its operands' widths as the core sees them (signed, an unsigned operand one bit wider); auto
builds a product from logic when its narrower operand has at most hwgen.cores.MUL_AUTO_LUT_MAX
bits, and the cell's and hidden stage's products always (hwgen.cores.elementwise_mul_style).
hwgen.codegen.rtl binds these styles and hwgen.passes.cycles times them, from here only.
"""
from __future__ import annotations

from hwgen.cores import (cell_mul_latency, cell_operands, elementwise_mul_style, mul_latency,
                         mul_slices, mul_style)


def signed_width(t) -> int:
    """Return the width of an IntType as a signed number (an unsigned one takes one more bit)."""
    return t.width + (0 if t.signed else 1)


def matvec_style(model, mv) -> int:
    """Return the MUL_STYLE of a matrix-vector unit (hwgen_mvu or hwgen_head's products)."""
    return mul_style(model.multipliers, mv.weight_type.width, signed_width(mv.in_type))


def matvec_slices(model, mv) -> int:
    """Return the adder-tree inputs per product of a matrix-vector unit (hwgen.cores.mul_slices)."""
    return mul_slices(matvec_style(model, mv), mv.weight_type.width, signed_width(mv.in_type))


def _cell_products(layer) -> tuple:
    cu = layer.cell
    return cell_operands(cu.f_type.width, cu.i_type.width, cu.g_type.width, cu.cell.type.width,
                         cu.cifg)


def cell_style(model, layer) -> int:
    """Return hwgen_cell's MUL_STYLE: logic only when both its products qualify."""
    return min(elementwise_mul_style(model.multipliers, a, b) for a, b in _cell_products(layer))


def cell_multiplier_latency(model, layer) -> int:
    """Return hwgen_cell's MUL_LATENCY (its slower product's)."""
    return cell_mul_latency(cell_style(model, layer), _cell_products(layer))


def _hidden_operands(layer) -> tuple:
    return layer.hidden.o_type.width + 1, layer.cell_tanh.out_type.width + 1


def hidden_style(model, layer) -> int:
    """Return hwgen_hidden's MUL_STYLE."""
    return elementwise_mul_style(model.multipliers, *_hidden_operands(layer))


def hidden_multiplier_latency(model, layer) -> int:
    """Return hwgen_hidden's MUL_LATENCY."""
    return mul_latency(hidden_style(model, layer), *_hidden_operands(layer))


def _gru_products(layer) -> tuple:
    """Return hwgen_gru_cell's operand widths: (r, hn), ((ONE - z, n), (z, h))."""
    from hwgen.cores import gru_cell_operands

    b, ns = layer.blend, layer.new_sum
    return gru_cell_operands(ns.r_type.width, ns.hn_type.width, b.one_minus_z_type.width,
                             b.n_type.width, b.z_type.width, b.out.type.width)


def gru_rh_style(model, layer) -> int:
    """Return hwgen_gru_cell's RH_MUL_STYLE (r * hn)."""
    return mul_style(model.multipliers, *_gru_products(layer)[0])


def gru_rh_latency(model, layer) -> int:
    """Return hwgen_gru_cell's RH_MUL_LATENCY."""
    return mul_latency(gru_rh_style(model, layer), *_gru_products(layer)[0])


def gru_blend_style(model, layer) -> int:
    """Return hwgen_gru_cell's B_MUL_STYLE: logic only when both blend products qualify."""
    return min(mul_style(model.multipliers, a, b) for a, b in _gru_products(layer)[1])


def gru_blend_latency(model, layer) -> int:
    """Return hwgen_gru_cell's B_MUL_LATENCY (the blend's slower product's)."""
    style = gru_blend_style(model, layer)
    return max(mul_latency(style, a, b) for a, b in _gru_products(layer)[1])
