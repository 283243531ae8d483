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

# The stream cores' LATENCY localparams (documented at the top of each file): the cycles from an
# element's input transfer to its output transfer with no stalls, each passing one element per
# cycle. hwgen_seq_buf counts from the s_tlast transfer to the first replayed element's transfer.
SEQ_BUF_LATENCY = 2  # hwgen_seq_buf.sv
ZIP_LATENCY = 1  # hwgen_stream_zip.sv
PICK_LAST_LATENCY = 1  # hwgen_pick_last.sv (hwgen_stream_bcast.sv passes elements through: 0)
