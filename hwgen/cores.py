"""What the hand-written cores (templates/rtl/lib) promise: their cycles per vector and latencies.

hwgen.passes.cycles builds a design's cycle model from these; the core tests in rtl_tests/ check
them against measured cycles.
"""
from __future__ import annotations

from hwgen.types import HwgenError

# hwgen_mvu.sv's pipeline, documented at the top of that file: after the input register, a fold
# passes the operand registers (folded units only), the product registers, the adder tree's
# registers (one every REG_EVERY levels) and the accumulator/result register.
MVU_REG_EVERY = 2  # hwgen_mvu's default REG_EVERY: at most two adder levels per stage
LUT_LATENCY = 1  # hwgen_lut.sv: registered output, one code per cycle
# hwgen_head.sv: the weight read, the operand and the product registers, the score and the
# best-so-far register, each 1
HEAD_EXTRA_LATENCY = 4
HEAD_TREE_LEVELS = 2  # hwgen_head's default TREE_LEVELS: adder levels between two registers

# The recurrent engines' elementwise stages (LATENCY localparam at the top of each file): cycles
# from in_valid to out_valid; each takes a new vector in every cycle and never stalls.
REQUANT_PIPE_LATENCY = 2  # hwgen_requant.sv with PIPE: rounded value, saturated value
GATE_LATENCY = 1 + REQUANT_PIPE_LATENCY + LUT_LATENCY  # hwgen_gate.sv: sum, requantize, table
CELL_LATENCY = 1 + REQUANT_PIPE_LATENCY + 1  # hwgen_cell.sv: products, requantize, saturated sum
TANH_LATENCY = LUT_LATENCY  # tanh(c): hwgen_lut_vec.sv, one table read
HIDDEN_LATENCY = 1 + REQUANT_PIPE_LATENCY  # hwgen_hidden.sv: product, requantize


def mvu_folds(rows: int, cols: int, pe: int, simd: int) -> int:
    """Return the fold cycles per vector, (rows/pe) * (cols/simd); raise if the fold is inexact."""
    if min(rows, cols, pe, simd) < 1 or rows % pe or cols % simd:
        raise HwgenError(f"cannot fold a {rows}x{cols} matrix with PE={pe}, SIMD={simd}: "
                         "PE must divide the rows and SIMD the columns")
    return (rows // pe) * (cols // simd)


def mvu_tree_registers(simd: int, reg_every: int = MVU_REG_EVERY) -> int:
    """Return the pipeline registers of hwgen_mvu's adder tree over simd products."""
    if reg_every < 0:
        raise HwgenError(f"REG_EVERY={reg_every} is negative")
    levels = (simd - 1).bit_length()  # clog2(simd)
    return levels // reg_every if reg_every else 0


def mvu_cycles(rows: int, cols: int, pe: int, simd: int) -> int:
    """Return hwgen_mvu's cycles per vector (initiation interval) with no stalls: one fold a
    cycle, vectors overlapping in the pipeline."""
    return mvu_folds(rows, cols, pe, simd)


def mvu_latency(rows: int, cols: int, pe: int, simd: int,
                reg_every: int = MVU_REG_EVERY) -> int:
    """Return hwgen_mvu's cycles from an input transfer to its result's out_valid (no stalls).

    The folds, then the operand (folded units only), product, tree and accumulator registers.
    """
    folds = mvu_folds(rows, cols, pe, simd)
    return folds + (3 if folds > 1 else 2) + mvu_tree_registers(simd, reg_every)


def head_latency(classes: int, hidden: int, tree_levels: int = HEAD_TREE_LEVELS,
                 lut_mul_weight_width: int = 0) -> int:
    """Return hwgen_head's cycles from an input transfer to out_valid (no stalls).

    One class per cycle through the pipeline documented at the top of hwgen_head.sv: the
    classes, the adder tree's registers (ceil(clog2(inputs) / tree_levels)) and the fixed stages.
    The tree adds the hidden products, or with LUT_MUL (lut_mul_weight_width = W_W > 0) the
    ceil(W_W / 2) two-bit weight slices times x of every hidden unit.
    """
    if classes < 2 or hidden < 1 or tree_levels < 1 or lut_mul_weight_width < 0:
        raise HwgenError(f"no head with {classes} classes, {hidden} inputs, {tree_levels} adder "
                         f"levels per register and LUT_MUL weight width {lut_mul_weight_width}")
    inputs = hidden * max(1, -(-lut_mul_weight_width // 2))
    levels = (inputs - 1).bit_length()  # clog2(inputs)
    return classes + -(-levels // tree_levels) + HEAD_EXTRA_LATENCY


# The stream cores' LATENCY localparams (documented at the top of each file): the cycles from an
# element's input transfer to its output transfer with no stalls, each passing one element per
# cycle. hwgen_seq_buf counts from the s_tlast transfer to the first replayed element's transfer.
SEQ_BUF_LATENCY = 2  # hwgen_seq_buf.sv
ZIP_LATENCY = 1  # hwgen_stream_zip.sv
PICK_LAST_LATENCY = 1  # hwgen_pick_last.sv (hwgen_stream_bcast.sv passes elements through: 0)
