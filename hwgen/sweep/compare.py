"""`hwgen compare`: what post-training quantization costs, per bit width, without building hardware.

For every width the spec's quantizers (`--vary`, default all but the bias) are set to it, the one
float model is calibrated and then fine-tuned, and the table gets four accuracies next to each
other: the float model, PyTorch's dynamic quantization of it (int8, the usual CPU baseline, and with
weights at the width), the calibrated fixed-point model and the fine-tuned one. Points are ordinary
post-training checkpoints under FOLDER/points/NAME (`hwgen build` takes their model.onnx), reused
while their spec is unchanged. FOLDER gets compare.md, compare.csv and compare.json. For a
regression model (task regress) the accuracy columns are empty and a second table gives each
model's MSE and MAE (columns mse_float, mae_float, ..., mse_finetuned, mae_finetuned). For a
language model (task next_token) the accuracy columns are next-character accuracies, a second
table gives each model's bits per character and perplexity on the test chunks, each chunk from
zero state (columns bpc_MODEL, ppl_MODEL), and a third the BPC with the state carried from chunk
to chunk (hwgen.qat.train.stateful_metrics) of the float, PyTorch dynamic int8 and fine-tuned
models (stateful_bpc_MODEL). PyTorch's dynamic quantization keeps the embedding table in float.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.spec import PTQ, load_spec
from hwgen.sweep.points import Point, point_spec, quantizers
from hwgen.sweep.report import pct
from hwgen.types import HwgenError

DEFAULT_FINETUNE_EPOCHS = 10
COLUMNS = ("bits", "acc_float", "acc_torch_int8", "acc_torch_weights", "acc_calibrated",
           "acc_finetuned")
HEADER = ("bits", "float %", "torch dynamic int8 %", "torch dynamic, weights at bits %",
          "calibrated fixed-point %", "fine-tuned fixed-point %")
#: The models of a regression model's columns (mse_MODEL, mae_MODEL) and their header.
METRIC_MODELS = ("float", "torch_int8", "torch_weights", "calibrated", "finetuned")
METRIC_COLUMNS = tuple(f"{k}_{m}" for m in METRIC_MODELS for k in ("mse", "mae"))
METRIC_HEADER = ("bits", "float MSE / MAE", "torch dynamic int8", "torch dynamic, weights at bits",
                 "calibrated fixed-point", "fine-tuned fixed-point")
#: A language model's columns: BPC and perplexity per model, stateful BPC of some of them.
TOKEN_COLUMNS = tuple(f"{k}_{m}" for m in METRIC_MODELS for k in ("bpc", "ppl"))
STATEFUL_MODELS = ("float", "torch_int8", "finetuned")
STATEFUL_COLUMNS = tuple(f"stateful_bpc_{m}" for m in STATEFUL_MODELS)
TOKEN_HEADER = ("bits", "float BPC / perplexity", "torch dynamic int8",
                "torch dynamic, weights at bits", "hwgen PTQ (calibrated)",
                "hwgen QAT (fine-tuned)")
STATEFUL_HEADER = ("bits", "float BPC", "torch dynamic int8 BPC", "hwgen QAT (fine-tuned) BPC")


def task_metrics(ckpt: dict) -> dict:
    """Return a regression checkpoint's METRIC_COLUMNS (None where a model is missing); none for
    a classifier."""
    from hwgen.qat.task import checkpoint_metrics

    if ckpt.get("task", "classify") == "classify":
        return {}
    figures = {"float": checkpoint_metrics(ckpt, "float"), **ckpt["ptq"]["metrics"]}
    if ckpt["task"] == "next_token":
        return {f"{k}_{m}": None if figures[m] is None else figures[m][key]
                for m in METRIC_MODELS for k, key in (("bpc", "bpc"), ("ppl", "perplexity"))}
    return {f"{k}_{m}": None if figures[m] is None else figures[m][k]
            for m in METRIC_MODELS for k in ("mse", "mae")}


def stateful_columns(spec, ckpt: dict) -> dict:
    """Return a language model's STATEFUL_COLUMNS: the test chunks run with carried state by the
    checkpoint's float model, PyTorch's dynamic int8 quantization of it, and its fixed-point
    model (None where there is no such model); none for other tasks."""
    from hwgen.flow import quant_model
    from hwgen.qat.data import load_dataset
    from hwgen.qat.model import build_float
    from hwgen.qat.ptq import torch_dynamic
    from hwgen.qat.train import stateful_metrics

    if spec.task != "next_token":
        return {}
    data = load_dataset(spec.dataset)
    float_model = build_float(spec)
    float_model.load_state_dict(ckpt["float"])
    models = {"float": float_model.eval(), "torch_int8": torch_dynamic(float_model),
              "finetuned": quant_model(spec, ckpt)}
    return {f"stateful_bpc_{m}": None if model is None else stateful_metrics(model, data)["bpc"]
            for m, model in models.items()}


def _number(value, digits: int = 4) -> str:
    """Return a figure as the tables show it ("–" where missing)."""
    return "–" if value is None else f"{value:.{digits}f}"


def _tokens_md(rows: list[dict]) -> list[str]:
    """Return compare.md's BPC / perplexity and stateful BPC tables (none but for next_token)."""
    if not any("bpc_float" in r for r in rows):
        return []

    def cell(r, m):
        return "–" if r[f"bpc_{m}"] is None else f"{r[f'bpc_{m}']:.4f} / {r[f'ppl_{m}']:.3f}"

    return ["", "Bits per character / perplexity over every test step, each chunk from zero "
            "state:", "", "| " + " | ".join(TOKEN_HEADER) + " |", "|" + "---|" * len(TOKEN_HEADER),
            *("| " + " | ".join([str(r["bits"])] + [cell(r, m) for m in METRIC_MODELS]) + " |"
              for r in rows),
            "", "Bits per character with the state carried from chunk to chunk:", "",
            "| " + " | ".join(STATEFUL_HEADER) + " |", "|" + "---|" * len(STATEFUL_HEADER),
            *("| " + " | ".join([str(r["bits"])] + [_number(r[c]) for c in STATEFUL_COLUMNS])
              + " |" for r in rows)]


def _metrics_md(rows: list[dict]) -> list[str]:
    """Return compare.md's table of MSE / MAE per width (none for a classifier)."""
    if not any("mse_float" in r for r in rows):
        return _tokens_md(rows)

    def cell(r, m):
        mse, mae = r[f"mse_{m}"], r[f"mae_{m}"]
        return "–" if mse is None else f"{mse:.6g} / {mae:.6g}"

    return ["", "Regression (outputs de-standardised, in the targets' units), MSE / MAE:", "",
            "| " + " | ".join(METRIC_HEADER) + " |", "|" + "---|" * len(METRIC_HEADER),
            *("| " + " | ".join([str(r["bits"])] + [cell(r, m) for m in METRIC_MODELS]) + " |"
              for r in rows)]


def _markdown(rows: list[dict], meta: dict) -> str:
    """Return compare.md: a title, what was done and the table."""
    lines = [f"# Post-training quantization: {meta['model']}", "",
             f"Float model: {meta['float_source']}. Widths applied to: {meta['vary']} "
             f"({', '.join(meta['quantizers'])}). Calibration: {meta['calibration']} on "
             f"{meta['batches']} training batches; fine-tuning: {meta['finetune_epochs']} QAT "
             f"epochs. PyTorch's dynamic quantization keeps 8-bit dynamic activations and float "
             f"arithmetic between layers; its weights go no wider than 8 bits."
             + (" Accuracies are next-character accuracies." if meta.get("task") == "next_token"
                else ""), "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        lines.append("| " + " | ".join([str(r["bits"])] + [pct(r[k]) for k in COLUMNS[1:]])
                     + " |")
    lines += _metrics_md(rows)
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    columns = COLUMNS + (METRIC_COLUMNS if any("mse_float" in r for r in rows) else ())
    if any("bpc_float" in r for r in rows):
        columns += TOKEN_COLUMNS + STATEFUL_COLUMNS
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r[k] is None else r[k] for k in columns])
    return buf.getvalue()


def compare(model: str, bits: tuple = (4, 5, 6, 7, 8), vary: str = "all",
            finetune_epochs: int | None = None, out: str | None = None) -> dict:
    """Run (or reuse) the comparison of a model at each width; write the table files."""
    from hwgen.flow import BUILD_DIR, out_dir, step_float, step_train
    from hwgen.sweep.run import ptq_accuracies

    base = load_spec(model)
    names = quantizers(vary)
    ptq = base.ptq or PTQ()
    epochs = finetune_epochs
    if epochs is None:
        epochs = ptq.finetune_epochs or DEFAULT_FINETUNE_EPOCHS
    if epochs < 1:
        raise HwgenError(f"--finetune-epochs {epochs}: give at least 1 (the table compares "
                         f"with fine-tuning)")
    folder = Path(out or BUILD_DIR / "compare" / out_dir(base).name).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    source = base.float_checkpoint()
    if source is None:
        source = step_float(base, folder / "float.pt")
    ptq = dataclasses.replace(ptq, float_checkpoint=str(source.resolve()))
    base = dataclasses.replace(base, ptq=ptq)
    rows = []
    for b in bits:
        spec = point_spec(base, Point(vary=vary, bits=b, seed=base.train.seed), folder,
                          finetune_epochs=epochs)
        say(f"{spec.name}: {vary} at {b} bits")
        ckpt = step_train(spec)
        rows.append({"bits": b, "acc_float": ckpt["float_accuracy"], **ptq_accuracies(ckpt),
                     **task_metrics(ckpt), **stateful_columns(spec, ckpt),
                     "checkpoint": str(Path(spec.out) / "checkpoint.pt")})
    meta = {"model": base.name, "task": base.task, "vary": vary, "quantizers": list(names),
            "float_source": str(source), "calibration": ptq.calibration
            + (f" ({ptq.percentile:g}th)" if ptq.calibration == "percentile" else ""),
            "batches": ptq.batches, "finetune_epochs": epochs}
    paths = {"md": folder / "compare.md", "csv": folder / "compare.csv",
             "json": folder / "compare.json"}
    texts = {"md": _markdown(rows, meta), "csv": _csv(rows),
             "json": json.dumps({"meta": meta, "rows": rows}, indent=2, sort_keys=True) + "\n"}
    for kind, text in texts.items():
        write_atomic(paths[kind], lambda tmp: tmp.write_bytes(text.encode()))
    print(paths["md"].read_text(), end="")
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['json']}")
    return {"rows": rows, "meta": meta, "paths": paths}
