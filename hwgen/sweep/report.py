"""Turn the rows of a bit-width sweep into the files of its folder.

A sweep folder holds:

- results.csv   one line per point; columns in COLUMNS order, then any extra keys sorted; None -> ""
- results.json  {"meta": meta, "rows": rows}, sorted keys, indent 2
- results.md    a table for a person (device cost: the ECP5 LUT4, EBR and MULT18 as shares of the
                device, summed, as `hwgen search` counts it), the Pareto front of accuracy over
                LUT and DSP together (pareto_front) and the failed points; for a regression model
                (rows with mse_int) a second table of MSE and MAE per width
- accuracy_vs_bits.png  test accuracy over bit width (integer and fake-quantized, float baseline)
- accuracy_vs_luts.png  integer accuracy over LUTs, each point labelled with its width; the
                Pareto front over LUT and DSP marked

Rows are written sorted by bit width. Plots and the Pareto front use only points whose status is
"done": a point that failed later in its flow (say, in RTL simulation) is not a design to pick. The
float baseline is the mean acc_float of all rows, since training comes before anything can fail.
Every file is written to a temporary name in the folder and moved into place, so an interrupted run
leaves either the old file or the new one, never half of one. For the same rows and meta, every
file comes out byte-identical (the PNGs carry no software or date stamp).
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hwgen.locks import write_bytes_atomic

# The CSV column order; documented above and relied on by readers of results.csv.
COLUMNS = (
    "point", "vary", "bits", "seed", "status",
    "acc_float", "acc_quant", "acc_int", "mismatches", "rtl_mismatches",
    "LUT", "FF", "DSP", "BRAM", "ecp5_LUT4", "ecp5_FF", "ecp5_EBR", "ecp5_MULT18",
    "device_cost", "fmax_mhz", "cycles_per_step", "cycles_per_step_sim", "cycles_per_sequence", "cycles_per_sequence_sim",
    "seconds",
)

#: Columns of a post-training (spec section ptq) sweep, between float and fake-quant in results.md:
#: PyTorch's dynamic quantization of the float model (int8; weights at the point's widths), then
#: the calibrated fixed-point model and the fine-tuned one (MISSING without fine-tuning epochs).
PTQ_COLUMNS = ("acc_torch_int8", "acc_torch_weights", "acc_calibrated", "acc_finetuned")
PTQ_HEADER = ("torch int8 %", "torch W-bit %", "calibrated %", "fine-tuned %")

FIGSIZE = (7.0, 4.5)  # inches; with DPI this fixes the PNG at 840 x 540 pixels
DPI = 120
MISSING = "–"
_PNG_METADATA = {"Software": None}  # no version stamp: same rows -> same bytes


def _value(row: dict, key: str):
    """Return row[key] as a number, or None when absent, None or NaN."""
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _row_order(row: dict) -> tuple:
    """Return the sort key that orders rows by bit width (rows without one last), then by point."""
    bits = row.get("bits")
    return (bits is None, bits if bits is not None else 0, str(row.get("point", "")))


def _sorted_rows(rows: list[dict]) -> list[dict]:
    """Return the rows sorted by bit width, then point id."""
    return sorted(rows, key=_row_order)


def _done(rows: list[dict]) -> list[dict]:
    """Return the rows whose point finished its whole flow."""
    return [r for r in rows if r.get("status") == "done"]


PARETO_COSTS = ("LUT", "DSP")  # the costs the Pareto front weighs together


def pareto_front(rows: list[dict], costs: tuple = PARETO_COSTS, y: str = "acc_int") -> list[dict]:
    """Return the rows no other row dominates, sorted by costs, then y descending, bits, point.

    A row is dominated when another is no worse in y (>=) and in every cost (<=) and better in
    one of them: so a point with fewer LUTs but more DSPs does not dominate, whatever its
    accuracy. Rows with y or a cost missing are ignored. Rows with the same y and costs do not
    dominate one another, so all of them are on the front when one is; the order makes the
    result independent of the input order.
    """
    measured = [r for r in rows
                if _value(r, y) is not None and all(_value(r, c) is not None for c in costs)]

    def dominates(a: dict, b: dict) -> bool:
        no_worse = a[y] >= b[y] and all(a[c] <= b[c] for c in costs)
        return no_worse and (a[y] > b[y] or any(a[c] < b[c] for c in costs))

    front = [r for r in measured if not any(dominates(o, r) for o in measured)]
    return sorted(front, key=lambda r: (*(r[c] for c in costs), -r[y], *_row_order(r)))


def _columns(rows: list[dict]) -> list[str]:
    """Return COLUMNS followed by any other keys the rows carry, sorted."""
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    return [*COLUMNS, *extra]


def _csv_text(rows: list[dict]) -> str:
    """Return results.csv: a header line, then one line per row, None as an empty cell."""
    columns = _columns(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buf.getvalue()


def _json_text(rows: list[dict], meta: dict) -> str:
    """Return results.json: {"meta": meta, "rows": rows}, deterministic."""
    return json.dumps({"meta": meta, "rows": rows}, indent=2, sort_keys=True, default=str) + "\n"


def pct(v) -> str:
    """Return a 0..1 fraction as a percentage with 2 decimals, or MISSING."""
    return MISSING if v is None else f"{100 * v:.2f}"


def _num(v, fmt: str = "") -> str:
    """Return a number formatted with fmt, or MISSING."""
    return MISSING if v is None else format(v, fmt)


def _pair(a, b, fmt: str = "") -> str:
    """Return "a / b" for a model figure and its simulated counterpart."""
    return f"{_num(a, fmt)} / {_num(b, fmt)}"


MD_HEADER = ("bits", "float %", "fake-quant %", "integer %", "mismatches (ref / RTL)", "LUT", "FF",
             "DSP", "BRAM", "ECP5 LUT4", "EBR", "MULT18", "device cost", "Fmax MHz",
             "cycles/step (model / sim)", "cycles/sequence (model / sim)", "time s")


def _md_cells(r: dict, ptq: bool = False) -> list[str]:
    """Return the Markdown table cells of one row, in MD_HEADER order (PTQ columns after float)."""
    v = {k: _value(r, k) for k in COLUMNS}
    extra = [pct(_value(r, k)) for k in PTQ_COLUMNS] if ptq else []
    return [_num(v["bits"]), pct(v["acc_float"]), *extra, pct(v["acc_quant"]), pct(v["acc_int"]),
            _pair(v["mismatches"], v["rtl_mismatches"]), _num(v["LUT"]), _num(v["FF"]),
            _num(v["DSP"]), _num(v["BRAM"], "g"), _num(v["ecp5_LUT4"]), _num(v["ecp5_EBR"]),
            _num(v["ecp5_MULT18"]), _num(v["device_cost"], ".3f"), _num(v["fmax_mhz"], ".1f"),
            _pair(v["cycles_per_step"], v["cycles_per_step_sim"]),
            _pair(v["cycles_per_sequence"], v["cycles_per_sequence_sim"], ".1f"),
            _num(v["seconds"], ".1f")]


def _point_name(r: dict) -> str:
    """Return how a point is named in prose: its id and width."""
    return f"{r.get('point')} ({_num(r.get('bits'))} bits)"


def _md_text(rows: list[dict], meta: dict) -> str:
    """Return results.md: title, table, Pareto front, mismatches and failed points."""
    ptq = any(k in r for r in rows for k in PTQ_COLUMNS)
    header = [MD_HEADER[0], MD_HEADER[1], *(PTQ_HEADER if ptq else ()), *MD_HEADER[2:]]
    lines = [f"# Bit-width sweep: {meta.get('model', '?')}, varying {meta.get('vary', '?')}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cells(r, ptq)) + " |" for r in rows]
    lines += _metrics_md(rows)
    front = pareto_front(_done(rows))
    names = ", ".join(_point_name(r) for r in front) if front else "none (no LUT and DSP figures)"
    lines += ["", f"On the Pareto front of integer accuracy over LUT and DSP together (no other "
              f"point as accurate with no more LUTs and no more DSPs): {names}."]
    bad = [r for r in rows if (_value(r, "mismatches") or 0) or (_value(r, "rtl_mismatches") or 0)]
    if bad:
        lines += ["", "**Not bit-exact** (mismatches must be 0): "
                  + ", ".join(_point_name(r) for r in bad) + "."]
    failed = [r for r in rows if r.get("status") != "done"]
    if failed:
        lines += ["", "Failed points:", ""]
        lines += [f"- {_point_name(r)}: {str(r.get('status')).removeprefix('failed: ')}"
                  for r in failed]
    return "\n".join(lines) + "\n"


#: A regression sweep's figures (hwgen.sweep.run.task_metrics) and their results.md header.
METRIC_COLUMNS = ("mse_float", "mse_quant", "mse_int", "mae_float", "mae_quant", "mae_int")
METRIC_HEADER = ("bits", "float MSE", "fake-quant MSE", "integer MSE", "float MAE",
                 "fake-quant MAE", "integer MAE")


def _metrics_md(rows: list[dict]) -> list[str]:
    """Return results.md's table of MSE and MAE per width (none for a classifier's rows, whose
    accuracy columns above are then empty)."""
    if not any("mse_int" in r for r in rows):
        return []
    return ["", "Regression (outputs de-standardised, in the targets' units):", "",
            "| " + " | ".join(METRIC_HEADER) + " |", "|" + "---|" * len(METRIC_HEADER),
            *("| " + " | ".join([_num(r.get("bits")),
                                 *(_num(_value(r, k), ".6g") for k in METRIC_COLUMNS)]) + " |"
              for r in rows)]


def _new_axes(title: str):
    """Return a fixed-size Figure with one Axes, not tied to pyplot, and that Axes."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    ax.margins(x=0.06, y=0.1)  # room for the width labels under the lowest and rightmost points
    return fig, ax


def _float_baseline(ax, rows: list[dict]) -> None:
    """Draw the mean float accuracy of all rows (failed ones too) as a dashed horizontal line."""
    floats = [v for r in rows if (v := _value(r, "acc_float")) is not None]
    if not floats:
        return
    mean = 100 * sum(floats) / len(floats)
    ax.axhline(mean, color="grey", linestyle="--", linewidth=1.2,
               label=f"float baseline ({mean:.2f} %)")


def _note(ax, text: str) -> None:
    """Write a centred note on an Axes that has nothing to plot."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=12,
            color="grey")


def _title(meta: dict, what: str) -> str:
    """Return a plot title naming the model and what varies."""
    return f"{meta.get('model', '?')}: {what} (varying {meta.get('vary', '?')})"


def bits_figure(rows: list[dict], meta: dict) -> Figure:
    """Return the accuracy-over-bit-width Figure of the done rows."""
    fig, ax = _new_axes(_title(meta, "test accuracy vs bit width"))
    ax.set_xlabel("bit width")
    ax.set_ylabel("test accuracy (%)")
    done = _sorted_rows(_done(rows))
    ints = [(r["bits"], 100 * r["acc_int"]) for r in done if _value(r, "acc_int") is not None]
    quants = [(r["bits"], 100 * r["acc_quant"]) for r in done if _value(r, "acc_quant") is not None]
    if not ints and not quants:
        _note(ax, "no accuracy figures")
        return fig
    if ints:
        ax.plot(*zip(*ints), "o-", color="tab:blue", markersize=7, label="integer (bit-exact)")
    if quants:
        ax.plot(*zip(*quants), "x", color="tab:orange", markersize=9, markeredgewidth=2,
                linestyle="none", label="fake-quantized (PyTorch)")
    _float_baseline(ax, rows)
    ax.set_xticks(sorted({b for b, _ in ints + quants}))
    ax.legend(loc="best")  # the corner that hides the fewest points
    return fig


def luts_figure(rows: list[dict], meta: dict) -> Figure:
    """Return the integer-accuracy-over-LUTs Figure of the done rows, with the Pareto front over
    LUT and DSP (pareto_front) marked."""
    fig, ax = _new_axes(_title(meta, "integer accuracy vs LUTs"))
    ax.set_xlabel("LUTs (Yosys synth_xilinx)")
    ax.set_ylabel("integer accuracy (%)")
    done = _sorted_rows(_done(rows))
    points = [r for r in done if _value(r, "LUT") is not None and _value(r, "acc_int") is not None]
    if not points:
        _note(ax, "no resource figures")
        return fig
    ax.plot([r["LUT"] for r in points], [100 * r["acc_int"] for r in points], "o",
            color="tab:blue", markersize=6, label="sweep point")
    for r in points:
        ax.annotate(f"{r['bits']} b", (r["LUT"], 100 * r["acc_int"]), textcoords="offset points",
                    xytext=(5, -12), fontsize=9)
    # the front over LUT and DSP together: in this LUT plane it need not be a staircase, so its
    # points are only marked
    front = pareto_front(points)
    ax.plot([r["LUT"] for r in front], [100 * r["acc_int"] for r in front], linestyle="none",
            color="tab:red", marker="D", markersize=9, markerfacecolor="none",
            markeredgewidth=1.8, label="Pareto front")
    _float_baseline(ax, rows)
    ax.legend(loc="best")  # the corner that hides the fewest points
    return fig


def png_bytes(fig: Figure) -> bytes:
    """Return the PNG of a Figure, without a software stamp."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return buf.getvalue()


def write_results(folder: Path, rows: list[dict], meta: dict) -> dict[str, Path]:
    """Write the sweep's CSV, JSON, Markdown and plots into folder; return their paths by kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = _sorted_rows(rows)
    texts = {"csv": ("results.csv", _csv_text(rows)),
             "json": ("results.json", _json_text(rows, meta)),
             "md": ("results.md", _md_text(rows, meta))}
    paths = {kind: write_bytes_atomic(folder / name, text.encode())
             for kind, (name, text) in texts.items()}
    paths["bits_plot"] = write_bytes_atomic(folder / "accuracy_vs_bits.png",
                                       png_bytes(bits_figure(rows, meta)))
    paths["luts_plot"] = write_bytes_atomic(folder / "accuracy_vs_luts.png",
                                       png_bytes(luts_figure(rows, meta)))
    return paths
