"""The cost model: a design's resources per stage and target, and its cycles, from the IR alone.

cost(model, target) returns, in milliseconds and without running a tool, what Yosys gives for the
design hwgen.codegen.rtl emits from a folded LoweredModel:
  xilinx (synth_xilinx, hwgen.sim.synth.resources): LUT, FF, DSP, BRAM (36 Kb tiles);
  ecp5 (synth_ecp5, hwgen.sim.synth.ecp5_resources): LUT4, FF, MULT18, EBR;
  generic (an ASIC estimate, hwgen.sim.synth.generic_resources): GATES (NAND2 equivalents of the
  logic gates) and FF (D flip-flops), with no multiplier or RAM blocks;
and the cycle model's cycles per step and latency (hwgen.passes.cycles), in ns at a clock.

On the FPGA targets, multiplier blocks and block RAM are counted exactly, by the rules Yosys
follows on the cores (measured on Yosys, see the README's cost model section):
- a product with a variable weight (a folded unit's ROM word, the head's row) in MUL_STYLE 0 is
  one DSP48E1 when its product has at least XILINX_DSP_MIN_Y bits, one MULT18X18D on ECP5 (every
  operand width hwgen uses fits one block); in MUL_STYLE 1 it is logic;
- a fully parallel unit's weights are constants: in MUL_STYLE 0 Yosys merges equal products
  (one per column and weight value) and builds no block for a weight that is 0 or a power of
  two, or a negative one down to NEG_SHIFT_MAX in magnitude (shifts and negations);
- a folded unit's ROM of F words of PE*SIMD*W_W bits is block RAM from hwgen_mvu's BLOCK_MIN
  words on (rom_blocks), logic below.
One deviation is known: with constant weights in MUL_STYLE 0, synth_xilinx maps every merged
product as above and then removes one or two DSP48E1 in later passes (which ones, and why, is not
known yet), so the Xilinx DSP count of such a unit can be one or two above Yosys's.
On generic, every product that is not a shift, and every ROM, is logic.
LUT (GATES) and FF are estimates: per stage, features counted from the cores' structure
(partial-product bits of logic products, adder bits, ROM and table bits, lane shift-register
bits, register bits, core instances) times per-target coefficients fitted on the calibration
designs (hwgen.cost_calibrate, minimax on relative errors) and stored in
models/cost_calibration.json.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from hwgen.cores import MUL_DSP, MUL_LUT, cell_operands, mul_slices, mvu_folds
from hwgen.passes.multipliers import (cell_style, hidden_style, matvec_style, signed_width)
from hwgen.sim.synth import NAND2_EQ_FF
from hwgen.types import HwgenError

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "models" / "cost_calibration.json"
TARGETS = {"xilinx": ("LUT", "FF", "DSP", "BRAM"), "ecp5": ("LUT4", "FF", "MULT18", "EBR"),
           "generic": ("GATES", "FF")}
BLOCK_TARGETS = ("xilinx", "ecp5")  # the targets with multiplier blocks and block RAM
# The features LUT and FF estimates are linear in (cost_features's keys, per target).
FEATURES = ("pp_bits", "add_bits", "soft_mul_bits", "rom_bits", "table_bits", "sel_bits",
            "reg_bits", "const_reg_bits", "dsp_reg_bits", "cores")
# The features each estimate may use: logic (and fabric registers, which stand for the muxes
# and enables around them; a leave-one-out check preferred them) for LUTs, registers (and the
# lane shift registers, sel_bits) for FFs.
FIT_FEATURES = {"LUT": ("pp_bits", "add_bits", "soft_mul_bits", "rom_bits", "table_bits",
                        "sel_bits", "reg_bits", "const_reg_bits", "cores"),
                "FF": ("reg_bits", "const_reg_bits", "dsp_reg_bits", "sel_bits", "cores")}
# generic's FF estimate also uses the logic products' and adders' bits: the flip-flops left after
# ABC (which drops the registers of logic it simplifies away) follow them; a leave-one-out check
# on the calibration designs gave a largest error of 10 % with them, 38 % without.
TARGET_FIT_FEATURES = {"generic": {"LUT": FIT_FEATURES["LUT"],
                                   "FF": FIT_FEATURES["FF"] + ("pp_bits", "add_bits")}}
XILINX_DSP_MIN_Y = 9  # synth_xilinx maps a product to a DSP48E1 from 9 product bits on
BLOCK_MIN = 64  # hwgen_mvu: ROM words from which the ROM is block RAM (rom_style "block")
# ROMs and tables are counted in pieces of 2 ** LUT_INPUTS words (generic: pieces of 4 words,
# a 4:1 mux's worth of gates)
LUT_INPUTS = {"xilinx": 6, "ecp5": 4, "generic": 2}


def fit_features(target: str) -> dict:
    """Return {"LUT" (LUT, LUT4 or GATES), "FF": the features its estimate may use} of target."""
    return TARGET_FIT_FEATURES.get(target, FIT_FEATURES)


def clog2(n: int) -> int:
    return max(0, (n - 1).bit_length())


# --- exact counts: multiplier blocks and block RAM ---------------------------------------------


def var_blocks(target: str, a: int, b: int) -> int:
    """Return the multiplier blocks of one a x b signed product with variable operands in
    MUL_STYLE 0 (a, b <= 18: one block or none; generic: none)."""
    if target not in BLOCK_TARGETS:
        return 0
    if max(a, b) > 18:
        raise HwgenError(f"cost model: no rule for a {a}x{b} product (operands above 18 bits)")
    if target == "xilinx":
        return int(a + b >= XILINX_DSP_MIN_Y and min(a, b) >= 2)
    return int(min(a, b) >= 2)


def is_shift(weight: int) -> bool:
    """Return True for a weight that is 0 or a power of two, either sign: a shift, no product."""
    w = abs(int(weight))
    return w & (w - 1) == 0


def const_width(weight: int) -> int:
    """Return a constant weight's signed width."""
    w = int(weight)
    return (w if w > 0 else ~w).bit_length() + 1


def const_blocks(target: str, weight: int, x_width: int) -> int:
    """Return the multiplier blocks of a constant weight times an x_width-bit signed input."""
    return 0 if is_shift(weight) else var_blocks(target, const_width(weight), x_width)


def _const_adds(weight: int) -> int:
    """Return the adders of a constant product built from shifts: the weight's two's-complement
    one bits (in its signed width) but one."""
    w = int(weight)
    return bin(w & ((1 << const_width(w)) - 1)).count("1") - 1


def has_rom_blocks(target: str, folds: int) -> bool:
    """Return True when a folded unit's ROM of folds words is block RAM on target."""
    return target in BLOCK_TARGETS and folds >= BLOCK_MIN


def rom_blocks(target: str, depth: int, width: int) -> float:
    """Return the block RAM of a ROM of depth words of width bits: 36 Kb tiles (xilinx, a RAMB18
    counts 0.5) or DP16KD blocks (ecp5)."""
    if target == "xilinx":
        per36 = 72 if depth <= 512 else 36 if depth <= 1024 else 36 * 1024 // depth
        full, rest = divmod(width, per36)
        return full + (0.5 if 0 < rest <= per36 // 2 else 1.0 if rest else 0.0)
    per = 36 if depth <= 512 else max(1, 18 * 1024 // depth)
    return math.ceil(width / per)


# --- per-stage features ------------------------------------------------------------------------


def _blank(cores: int = 1) -> dict:
    """Return zero features of a stage made of `cores` core instances (each has its own valid
    pipeline, counters and handshake: the "cores" feature)."""
    return {k: 0.0 for k in FEATURES} | {"cores": float(cores), "DSP": 0, "BLOCKS": 0.0}


def _slices(w: int, width: int) -> tuple:
    """Return (nonzero two-bit slices, slices needing an adder, the set of distinct products
    its slices register: "x", "3x" or "-x", shifts aside) of weight w in hwgen_mul_pp."""
    code = int(w) & ((1 << width) - 1)
    nonzero = adders = 0
    kinds = set()
    top = (width + 1) // 2 - 1
    for c in range(top + 1):
        two = 2 * c + 1 < width
        pair = (code >> 2 * c) & (3 if two else 1)
        nonzero += pair != 0
        adders += pair == 3
        if pair:
            kinds.add("-x" if c == top and (pair >= 2 or not two) else
                      "3x" if pair == 3 else "x")
    return nonzero, adders, kinds


def _tree_regs(terms: int, tw: int, every: int = 2) -> float:
    """Return the register bits of an adder tree over terms inputs registered every `every`
    levels."""
    levels = clog2(max(1, terms))
    return sum(math.ceil(terms / 2 ** j) * tw for j in range(every, levels + 1, every))


def _matvec_const(target: str, mv, style: int, f: dict) -> None:
    """Features of a fully parallel unit: constant weights (Yosys folds them)."""
    ww, xw = mv.weight_type.width, signed_width(mv.in_type)
    pw = ww + xw
    w = np.asarray(mv.weights)
    # Product registers with equal inputs merge: per column, one per distinct product (shifts
    # of one product are the same register bits).
    kinds = 0
    if style == MUL_LUT:
        per = np.vectorize(lambda v: _slices(v, ww)[0])(w) if w.size else w
        extra = int(sum(_slices(v, ww)[1] for v in w.reshape(-1)))
        f["add_bits"] += extra * pw
        for c in range(mv.cols):
            kinds += len(set().union(*(_slices(v, ww)[2] for v in set(w[:, c].tolist()))))
    else:
        per = (w != 0).astype(int)
        pairs = {(c, int(v)) for c in range(mv.cols) for v in w[:, c] if v}
        blocks = sum(const_blocks(target, v, xw) for _, v in pairs)
        f["DSP"] += blocks
        f["dsp_reg_bits"] += blocks * pw  # the product registers of the merged products
        if target in BLOCK_TARGETS:
            kinds = len({(c, v > 0) for c, v in pairs if not const_blocks(target, v, xw)})
        else:  # generic: a merged product that is not a shift is logic with its own register
            soft = [v for _, v in pairs if not is_shift(v)]
            f["add_bits"] += sum(_const_adds(v) * pw for v in soft)
            kinds = len({(c, v > 0) for c, v in pairs if is_shift(v)}) + len(soft)
    terms = per.sum(axis=1)
    tw = min(pw + clog2(max(1, int(terms.max(initial=1)))), mv.acc_type.width)
    f["add_bits"] += float(np.maximum(terms - 1, 0).sum()) * tw
    # a fully parallel unit's registers: what Yosys keeps of them depends on the weights
    f["const_reg_bits"] += (mv.cols * mv.in_type.width + kinds * pw
                            + sum(_tree_regs(int(t), tw) for t in terms)
                            + mv.rows * mv.acc_type.width)


def _matvec_folded(target: str, mv, style: int, folds: int, f: dict, hold: bool) -> None:
    """Features of a folded unit: variable weights from a ROM; hold: it keeps a result register
    beside the row folds' register (hwgen_mvu's HOLD: every engine but the one-sequence LSTM
    engine)."""
    ww, xw = mv.weight_type.width, signed_width(mv.in_type)
    pw, k = ww + xw, mul_slices(style, ww, xw)
    products, nl = mv.pe * mv.simd, mv.simd * k
    tw = min(pw + clog2(nl), mv.acc_type.width)
    word = products * ww
    blocks = var_blocks(target, ww, xw) if style == MUL_DSP else 0
    if style == MUL_LUT:
        f["pp_bits"] += products * k * pw
    else:
        f["DSP"] += products * blocks
        f["soft_mul_bits"] += 0 if blocks else products * ww * xw
    f["dsp_reg_bits" if blocks else "reg_bits"] += mv.pe * nl * pw
    sf, nf = mv.cols // mv.simd, mv.rows // mv.pe
    f["add_bits"] += mv.pe * (nl - 1) * tw + (mv.pe * mv.acc_type.width if sf > 1 else 0)
    if has_rom_blocks(target, folds):
        f["BLOCKS"] += rom_blocks(target, folds, word)
    else:
        f["rom_bits"] += word * math.ceil(folds / 2 ** LUT_INPUTS[target])
    # the weight word's registers: the operand register and, for a ROM in logic, its read
    # register (a block RAM has its own); a multiplier block takes both (Xilinx: B1REG, B2REG)
    rom_regs = word * (1 if has_rom_blocks(target, folds) else 2)
    f["dsp_reg_bits" if blocks else "reg_bits"] += rom_regs
    f["reg_bits"] += (mv.cols * mv.in_type.width + 2 * mv.simd * mv.in_type.width
                      + mv.pe * _tree_regs(nl, tw) + mv.pe * mv.acc_type.width
                      + mv.rows * mv.acc_type.width * (2 if hold and nf > 1 else 1))


def matvec_features(target: str, model, mv, hold: bool = True) -> dict:
    """Return the features of one matrix-vector unit (hwgen_mvu); hold: with its result register
    (HOLD), as every engine but the one-sequence LSTM engine has it."""
    f = _blank()
    style = matvec_style(model, mv)
    folds = mvu_folds(mv.rows, mv.cols, mv.pe, mv.simd)
    if folds == 1:
        _matvec_const(target, mv, style, f)
    else:
        _matvec_folded(target, mv, style, folds, f, hold)
    return f


def _mul(target: str, style: int, a: int, b: int, n: int, f: dict) -> None:
    """Add n products a x b (variable operands) in style: blocks, or partial products."""
    blocks = var_blocks(target, a, b) if style == MUL_DSP else 0
    if blocks:
        f["DSP"] += n * blocks
    elif style == MUL_DSP:
        f["soft_mul_bits"] += n * a * b
    else:
        f["pp_bits"] += n * mul_slices(MUL_LUT, a, b) * (a + b)
        f["add_bits"] += n * max(0, mul_slices(MUL_LUT, a, b) - 1) * (a + b)
    f["dsp_reg_bits" if blocks else "reg_bits"] += n * (a + b)


def _table(target: str, depth: int, width: int, copies: int) -> float:
    """Return the table bits of copies of a depth x width constant table, in LUT-sized pieces."""
    return copies * width * math.ceil(depth / 2 ** LUT_INPUTS[target])


def _lanes(layer, bits: int) -> float:
    """Return the lane-shift bits of an input of H elements of `bits` bits: hwgen_lane_shift
    holds every chunk but the first (0 unfolded)."""
    return float((layer.hidden_size - layer.units_per_cycle) * bits)


def gate_features(target: str, layer, s, lut) -> dict:
    """Return the features of one hwgen_gate: sum, requantizer and table in every lane."""
    f = _blank()
    lanes, h = layer.units_per_cycle, layer.hidden_size
    ax, ah = layer.x_mv.acc_type.width, layer.h_mv.acc_type.width
    sw, aw, act = s.sum_type.width, s.out.type.width, lut.out_type.width
    f["add_bits"] += lanes * (2 * sw + sw + aw)  # two sums, the rounding add, the clamp
    f["table_bits"] += _table(target, len(lut.table), act, lanes)
    f["sel_bits"] += _lanes(layer, ax + ah)  # the biases are a constant table per chunk
    if lanes < h:
        f["table_bits"] += _table(target, h // lanes, sw, lanes)
    f["reg_bits"] += lanes * (sw + 2 * aw + act) + (h * act if lanes < h else 0)
    return f


def cell_features(target: str, model, layer) -> dict:
    """Return the features of hwgen_cell, tanh(c) (hwgen_lut_vec) and hwgen_hidden."""
    f = _blank(3)
    cu, hid, tanh = layer.cell, layer.hidden, layer.cell_tanh
    lanes, h, cw = layer.units_per_cycle, layer.hidden_size, cu.cell.type.width
    for a, b in cell_operands(cu.f_type.width, cu.i_type.width, cu.g_type.width, cw, cu.cifg):
        _mul(target, cell_style(model, layer), a, b, lanes, f)
        f["add_bits"] += lanes * (a + b + cw)
    _mul(target, hidden_style(model, layer), hid.o_type.width + 1, tanh.out_type.width + 1,
         lanes, f)
    hw = hid.out.type.width
    f["add_bits"] += lanes * (2 * cw + hid.o_type.width + tanh.out_type.width + 2 + hw)
    f["table_bits"] += _table(target, len(tanh.table), tanh.out_type.width, lanes)
    acts = cu.i_type.width + cu.f_type.width + cu.g_type.width
    f["sel_bits"] += _lanes(layer, acts + 2 * cw + hid.o_type.width + tanh.out_type.width)
    f["reg_bits"] += lanes * (4 * cw + tanh.out_type.width + 2 * hw) + h * (2 * cw + hw)
    if lanes < h:
        f["reg_bits"] += h * (cw + tanh.out_type.width + hw)
    return f


def engine_features(target: str, layer) -> dict:
    """Return the controller's features: its core, the state registers."""
    f = _blank()
    c = layer.state.c_type.width if layer.state.c_type is not None else 0
    f["reg_bits"] += layer.hidden_size * (layer.state.h_type.width + c)
    return f


def head_features(target: str, model) -> dict:
    """Return the features of hwgen_head: H products per class, the row ROM, the argmax."""
    f = _blank()
    hd = model.head
    mv = hd.matvec
    style = matvec_style(model, mv)
    ww, xw = mv.weight_type.width, signed_width(mv.in_type)
    k = mul_slices(style, ww, xw)
    if style == MUL_LUT:
        f["pp_bits"] += mv.cols * k * (ww + xw)
    else:
        _mul(target, MUL_DSP, ww, xw, mv.cols, f)
    tw = min(ww + xw + clog2(mv.cols * k), mv.acc_type.width)
    sw = hd.score_type.width
    f["add_bits"] += (mv.cols * k - 1) * tw + 2 * sw
    f["rom_bits"] += mv.cols * ww * math.ceil(mv.rows / 2 ** LUT_INPUTS[target])
    products = mv.cols * k * (ww + xw) if style == MUL_LUT else 0  # _mul counted the others
    f["reg_bits"] += (2 * mv.cols * mv.in_type.width + 2 * mv.cols * ww + products
                      + _tree_regs(mv.cols * k, tw) + (mv.rows + 2) * sw)
    return f


def embed_features(target: str, model) -> dict:
    """Return the features of hwgen_embed: its VOCAB x D*E_W table as ROM bits (counted as logic:
    no calibration design has one, so whether Yosys maps it to block RAM is not modelled) and
    its output register."""
    f = _blank()
    emb = model.embed
    width = emb.dim * emb.out.type.width
    f["rom_bits"] += width * math.ceil(emb.vocab / 2 ** LUT_INPUTS[target])
    f["reg_bits"] += width + 2
    return f


def stage_features(target: str, model) -> dict:
    """Return {stage name: features} of a folded LoweredModel on a target."""
    if target not in TARGETS:
        raise HwgenError(f"cost model: unknown target {target!r} (targets: {', '.join(TARGETS)})")
    out = {} if model.embed is None else {"embed": embed_features(target, model)}
    for layer in model.layers:
        n = layer.name
        out[f"{n}.ctrl"] = engine_features(target, layer)
        hold = layer.kind != "lstm" or model.interleave > 1  # hwgen_lstm_engine's HOLD
        out[f"{n}.x_mv"] = matvec_features(target, model, layer.x_mv, hold)
        out[f"{n}.h_mv"] = matvec_features(target, model, layer.h_mv, hold)
        if layer.kind == "lstm":
            for g, s in layer.sums.items():
                out[f"{n}.gate_{g.short}"] = gate_features(target, layer, s, layer.luts[g])
            out[f"{n}.cell"] = cell_features(target, model, layer)
        else:
            out[f"{n}.gate"] = gate_features(target, layer, layer.sum, layer.act)
    if model.head is not None:
        out["head"] = head_features(target, model)
    return out


# --- coefficients and the estimate ------------------------------------------------------------


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict:
    data = json.loads(Path(path).read_text())
    return data.get("coefficients") or {}


def coefficients(path: Path = CALIBRATION) -> dict:
    """Return the fitted coefficients {target: {resource: {feature: value}}} in path."""
    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"{path}: no calibration (run `hwgen cost-calibrate`)")
    coef = _load(str(path), path.stat().st_mtime)
    if not coef:
        raise HwgenError(f"{path}: no fitted coefficients (run `hwgen cost-calibrate --fit`)")
    return coef


def estimate(features: dict, target: str, coef: dict) -> dict:
    """Return one stage's (or a design's summed) resources from its features."""
    keys = TARGETS[target]
    c = coef[target]
    out = {k: sum(c[k].get(f, 0.0) * features[f] for f in FEATURES) for k in keys[:2]}
    if target in BLOCK_TARGETS:
        out[keys[2]], out[keys[3]] = int(features["DSP"]), features["BLOCKS"]
    return out


def total_features(stages: dict) -> dict:
    """Return the sum of the stages' features."""
    total = _blank(0)
    for f in stages.values():
        for k in total:
            total[k] += f[k]
    return total


def cost(model, target: str = "xilinx", clock_mhz: float | None = None,
         coef: dict | None = None) -> dict:
    """Return the model's cost on target: {"target", "stages": {name: resources}, "total":
    resources (LUT and FF rounded), "cycles_per_step", "latency_cycles" (a 1-step sequence's
    and per step) and, with clock_mhz, "ns_per_step"}."""
    from hwgen.passes.cycles import per_step_cycles, sequence_cycles

    coef = coef or coefficients()
    stages = stage_features(target, model)
    per = {name: estimate(f, target, coef) for name, f in stages.items()}
    total = estimate(total_features(stages), target, coef)
    lut, ff = TARGETS[target][:2]
    total[lut], total[ff] = round(total[lut]), round(total[ff])
    out = {"target": target, "stages": per, "total": total,
           "cycles_per_step": per_step_cycles(model),
           "latency_cycles": {"first_step": sequence_cycles(model, 1),
                              "per_step": per_step_cycles(model)}}
    if clock_mhz:
        out["ns_per_step"] = round(out["cycles_per_step"] * 1000.0 / clock_mhz, 3)
        out["latency_ns"] = {k: round(v * 1000.0 / clock_mhz, 3)
                             for k, v in out["latency_cycles"].items()}
    return out


TITLES = {"generic": "generic (cost model; an ASIC estimate: GATES in NAND2 equivalents, FF in D "
                     "flip-flops, from no Liberty timing or area file)"}


def format_cost(c: dict) -> str:
    """Return a cost as a text table: one row per stage, then the total and the cycles (generic:
    and the total area in NAND2 equivalents)."""
    keys = TARGETS[c["target"]]
    rows = [(name, r) for name, r in c["stages"].items()] + [("total", c["total"])]
    title = TITLES.get(c["target"], f"{c['target']} (cost model)")
    lines = [title, f"{'stage':<16}" + "".join(f"{k:>10}" for k in keys)]
    for name, r in rows:
        lines.append(f"{name:<16}" + "".join(f"{r[k]:>10.0f}" if k in keys[:2] else
                                            f"{r[k]:>10g}" for k in keys))
    line = f"cycles/step {c['cycles_per_step']}, first-step latency " \
           f"{c['latency_cycles']['first_step']} cycles"
    if "ns_per_step" in c:
        line += f"; {c['ns_per_step']:g} ns/step, first step {c['latency_ns']['first_step']:g} ns"
    if c["target"] not in BLOCK_TARGETS:
        lines.append(f"area estimate {area_nand2(c['total']):.0f} NAND2 equivalents (GATES + "
                     f"{NAND2_EQ_FF:.2f} per FF)")
    return "\n".join(lines + [line, ""])


def area_nand2(total: dict) -> float:
    """Return a generic total's area in NAND2 equivalents: its gates and its flip-flops'."""
    return total["GATES"] + NAND2_EQ_FF * total["FF"]
