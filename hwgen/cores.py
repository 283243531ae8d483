"""What the hand-written cores (templates/rtl/lib) promise: their cycles per vector and latencies.

hwgen.passes.cycles builds a design's cycle model from these; the core tests in rtl_tests/ check
them against measured cycles.
"""
from __future__ import annotations

from hwgen.types import HwgenError

# hwgen_mvu.sv's pipeline, documented at the top of that file: after the input register, a fold
# passes the operand registers (folded units only), the product registers, the adder tree's
# registers (one every REG_EVERY levels) and the accumulator/result register.
MVU_REG_EVERY = 1  # hwgen_mvu's default REG_EVERY: one adder level per stage
LUT_LATENCY = 1  # hwgen_lut.sv: registered output, one code per cycle
# hwgen_head.sv: the weight read, the operand and the product registers, the score and the
# best-so-far register, each 1
HEAD_EXTRA_LATENCY = 4
HEAD_TREE_LEVELS = 2  # hwgen_head's default TREE_LEVELS: adder levels between two registers

# Multiplier styles (the MUL_STYLE parameter of hwgen_mul, hwgen_mvu, hwgen_head, hwgen_cell and
# hwgen_hidden): the inferred `*` (a multiplier block), or products in logic from hwgen_mul_pp's
# two-bit slices of the narrower operand.
MUL_DSP, MUL_LUT = 0, 1
MUL_STYLES = {"dsp": MUL_DSP, "lut": MUL_LUT}
MUL_AUTO_LUT_MAX = 4  # auto: products in logic when the narrower operand has at most this many bits


def mul_style(choice: str, a_width: int, b_width: int) -> int:
    """Return the MUL_STYLE of an a_width x b_width product (signed widths, as the core sees
    them) under the spec's folding.multipliers choice (auto, lut or dsp)."""
    if choice == "auto":
        return MUL_LUT if min(a_width, b_width) <= MUL_AUTO_LUT_MAX else MUL_DSP
    if choice not in MUL_STYLES:
        raise HwgenError(f"multipliers {choice!r}: expected auto, lut or dsp")
    return MUL_STYLES[choice]


def elementwise_mul_style(choice: str, a_width: int, b_width: int) -> int:
    """Return the MUL_STYLE of a product of the elementwise stages (hwgen_cell, hwgen_hidden):
    as mul_style, except that auto always builds it from logic. Yosys maps `*` to an ECP5
    MULT18X18D without its registers, whose 3.9 ns alone is more than half of a 150 MHz cycle;
    these stages have few products (LANES per stage)."""
    return MUL_LUT if choice == "auto" else mul_style(choice, a_width, b_width)


def mul_slices(style: int, a_width: int, b_width: int) -> int:
    """Return the adder-tree inputs one product gives (hwgen_mul_pp's K with MUL_LUT, else 1)."""
    if style not in (MUL_DSP, MUL_LUT) or min(a_width, b_width) < 1:
        raise HwgenError(f"no {a_width}x{b_width} product with MUL_STYLE={style}")
    return (min(a_width, b_width) + 1) // 2 if style == MUL_LUT else 1


def mul_latency(style: int, a_width: int, b_width: int) -> int:
    """Return hwgen_mul's MIN_LATENCY: the product register, then with MUL_LUT one register per
    two adder levels of the tree over its slices (and one after the last)."""
    levels = (mul_slices(style, a_width, b_width) - 1).bit_length()  # clog2(slices)
    return 1 + -(-levels // 2)


def cell_operands(f_width: int, i_width: int, g_width: int, c_width: int, cifg: bool) -> tuple:
    """Return hwgen_cell's signed operand widths ((f, c), (i, g)) of its two products: each its
    own width plus one; under CIFG f = ONE - i needs max(i, f) + 2 bits."""
    f = max(i_width, f_width) + 2 if cifg else f_width + 1
    return (f, c_width + 1), (i_width + 1, g_width + 1)


def cell_mul_latency(style: int, products: tuple) -> int:
    """Return hwgen_cell's MUL_LATENCY: the slower of its two products (cell_operands)."""
    return max(mul_latency(style, a, b) for a, b in products)


def cell_latency(mul: int) -> int:
    """Return hwgen_cell's LATENCY with MUL_LATENCY mul: products, requantize (2), saturated sum."""
    return mul + REQUANT_PIPE_LATENCY + 1


def hidden_latency(mul: int) -> int:
    """Return hwgen_hidden's LATENCY with MUL_LATENCY mul: the product, requantize (2)."""
    return mul + REQUANT_PIPE_LATENCY


# The recurrent engines' elementwise stages (LATENCY localparam at the top of each file): cycles
# from in_valid to out_valid; each takes a new vector in every cycle and never stalls.
REQUANT_PIPE_LATENCY = 2  # hwgen_requant.sv with PIPE: rounded value, saturated value
# hwgen_gate.sv: x + h, + bias, requantize, table
GATE_LATENCY = 2 + REQUANT_PIPE_LATENCY + LUT_LATENCY
TANH_LATENCY = LUT_LATENCY  # tanh(c): hwgen_lut_vec.sv, one table read


def lane_latency(latency: int, units: int, lanes: int, reg_select: bool = False) -> int:
    """Return the LATENCY of an elementwise stage of fully parallel latency `latency` whose units
    run through `lanes` lanes (hwgen_lanes.sv): unchanged with one beat, else one beat per cycle
    then the result register (latency + units / lanes), and one cycle more when the stage
    registers its chunk select (reg_select: hwgen_lane_shift with REG, as hwgen_gate, hwgen_cell
    and hwgen_hidden do); the next vector may start units / lanes cycles after this one."""
    if lanes < 1 or units % lanes:
        raise HwgenError(f"{lanes} lanes do not divide {units} units")
    beats = units // lanes
    return latency if beats == 1 else latency + beats + (1 if reg_select else 0)


def mvu_folds(rows: int, cols: int, pe: int, simd: int) -> int:
    """Return the fold cycles per vector, (rows/pe) * (cols/simd); raise if the fold is inexact."""
    if min(rows, cols, pe, simd) < 1 or rows % pe or cols % simd:
        raise HwgenError(f"cannot fold a {rows}x{cols} matrix with PE={pe}, SIMD={simd}: "
                         "PE must divide the rows and SIMD the columns")
    return (rows // pe) * (cols // simd)


def mvu_tree_registers(simd: int, reg_every: int = MVU_REG_EVERY, slices: int = 1) -> int:
    """Return the pipeline registers of hwgen_mvu's adder tree over simd products of slices
    partial products each (mul_slices)."""
    if reg_every < 0:
        raise HwgenError(f"REG_EVERY={reg_every} is negative")
    levels = (simd * slices - 1).bit_length()  # clog2(tree inputs)
    return levels // reg_every if reg_every else 0


def mvu_cycles(rows: int, cols: int, pe: int, simd: int) -> int:
    """Return hwgen_mvu's cycles per vector (initiation interval) with no stalls: one fold a
    cycle, vectors overlapping in the pipeline."""
    return mvu_folds(rows, cols, pe, simd)


def mvu_latency(rows: int, cols: int, pe: int, simd: int,
                reg_every: int = MVU_REG_EVERY, slices: int = 1) -> int:
    """Return hwgen_mvu's cycles from an input transfer to its result's out_valid (no stalls).

    The folds, then the ROM read and operand registers (folded units only), the product, tree,
    accumulator and result registers;
    slices: the partial products per product (mul_slices of its MUL_STYLE and widths).
    """
    folds = mvu_folds(rows, cols, pe, simd)
    return folds + (5 if folds > 1 else 3) + mvu_tree_registers(simd, reg_every, slices)


def head_latency(classes: int, hidden: int, tree_levels: int = HEAD_TREE_LEVELS,
                 slices: int = 1) -> int:
    """Return hwgen_head's cycles from an input transfer to out_valid (no stalls).

    One class per cycle through the pipeline documented at the top of hwgen_head.sv: the
    classes, the adder tree's registers (ceil(clog2(inputs) / tree_levels)) and the fixed stages.
    The tree adds hidden * slices inputs: slices partial products per product (mul_slices).
    """
    if classes < 1 or hidden < 1 or tree_levels < 1 or slices < 1:
        raise HwgenError(f"no head with {classes} classes, {hidden} inputs, {tree_levels} adder "
                         f"levels per register and {slices} slices per product")
    inputs = hidden * slices
    levels = (inputs - 1).bit_length()  # clog2(inputs)
    return classes + -(-levels // tree_levels) + HEAD_EXTRA_LATENCY


# The stream cores' LATENCY localparams (documented at the top of each file): the cycles from an
# element's input transfer to its output transfer with no stalls, each passing one element per
# cycle. hwgen_seq_buf counts from the s_tlast transfer to the first replayed element's transfer.
SEQ_BUF_LATENCY = 2  # hwgen_seq_buf.sv
ZIP_LATENCY = 1  # hwgen_stream_zip.sv
PICK_LAST_LATENCY = 1  # hwgen_pick_last.sv (hwgen_stream_bcast.sv passes elements through: 0)
EMBED_LATENCY = 1  # hwgen_embed.sv: registered ROM read; next token the cycle after a row left


# hwgen_gru_cell.sv (GRU engines): r and z (hwgen_gate), r * hn, the new gate (hwgen_gate), the
# blend's two products, their sum (1) and the io requantizer. Operands are widened by one bit
# (signed), except ONE - z, which has its own exact signed width.


def gru_cell_operands(r_width: int, hn_width: int, omz_width: int, n_width: int, z_width: int,
                      h_width: int) -> tuple:
    """Return hwgen_gru_cell's signed operand widths: (r, hn), then the blend's
    ((ONE - z, n), (z, h))."""
    return (r_width + 1, hn_width + 1), ((omz_width, n_width + 1), (z_width + 1, h_width + 1))


def gru_cell_latency(rh_mul: int, blend_mul: int, units: int, lanes: int) -> int:
    """Return hwgen_gru_cell's LATENCY with RH_MUL_LATENCY rh_mul, B_MUL_LATENCY blend_mul and
    `lanes` lanes over `units` units: r (hn runs beside it), r * hn, the new gate, the blend (its
    products, sum and io requantizer), each over the lanes (lane_latency; the gates register
    their chunk select, hwgen_gate)."""
    stages = ((GATE_LATENCY, True), (rh_mul, False), (GATE_LATENCY, True),
              (blend_mul + 1 + REQUANT_PIPE_LATENCY, False))
    return sum(lane_latency(latency, units, lanes, reg) for latency, reg in stages)
