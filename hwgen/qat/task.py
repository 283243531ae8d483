"""What each task (hwgen.spec.TASKS) trains for and how its outputs are scored.

- classify: cross-entropy on the class index; the figure is accuracy (the first highest score's
  class against the label).
- regress: mean square error on the standardized targets; the figures are MSE and MAE of the
  outputs de-standardized (output * target_std + target_mean, float64) against the raw targets,
  over every output of every sequence, in the targets' own units.
- per_step: the head on every step, regressing the step's standardized targets (next-value
  forecasting); mean square error over every true step (padding masked out); the figures are MSE
  and MAE as for regress, over every output of every true step of every sequence.
- next_token: the head on every step scores each token as the next one; cross-entropy over every
  true step; the figures, over every step of every test chunk, are bits per character (the mean
  of -log2 softmax(scores)[target], float64), perplexity (2 ** bpc) and next-token accuracy (the
  first highest score's token against the target).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def loss_function(task: str) -> nn.Module:
    """Return the training loss of a last-step task (per_step: see step_loss)."""
    return nn.MSELoss() if task == "regress" else nn.CrossEntropyLoss()


def step_loss(out, y, lengths):
    """Return the mean square error of per-step outputs out [B, T, K] against targets y
    [B, >= T, K] over each sequence's first lengths[b] steps."""
    y = y[:, :out.shape[1]]
    mask = (torch.arange(out.shape[1])[None, :] < lengths[:, None]).to(out.dtype)[..., None]
    return (((out - y) ** 2) * mask).sum() / (mask.sum() * out.shape[-1])


def token_loss(out, y, lengths):
    """Return the mean cross-entropy of per-step scores out [B, T, V] against token targets
    y [B, >= T] over each sequence's first lengths[b] steps."""
    y = y[:, :out.shape[1]]
    mask = torch.arange(out.shape[1])[None, :] < lengths[:, None]
    return nn.functional.cross_entropy(out[mask], y[mask])


def loss(task: str, out, y, lengths):
    """Return a batch's training loss: the task's loss of the model's outputs against y."""
    if task == "next_token":
        return token_loss(out, y, lengths)
    if task == "per_step":
        return step_loss(out, y, lengths)
    return loss_function(task)(out, y)


def true_steps(per_sequence, lengths) -> np.ndarray:
    """Return the rows [sum T_i, K] of every sequence's first T_i steps (arrays [>= T_i, K])."""
    return np.concatenate([np.asarray(v, dtype=np.float64)[:n]
                           for v, n in zip(per_sequence, lengths)])


def regression_metrics(outputs, targets, target_mean, target_std) -> dict:
    """Return {"mse", "mae"} of standardized outputs [N, K] against raw targets [N, K]."""
    pred = (np.asarray(outputs, dtype=np.float64) * np.asarray(target_std, dtype=np.float64)
            + np.asarray(target_mean, dtype=np.float64))
    err = pred - np.asarray(targets, dtype=np.float64)
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}


def token_metrics(scores, targets) -> dict:
    """Return {"bpc", "perplexity", "accuracy"} of scores [N, V] for the target tokens [N]."""
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    top = scores.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    nats = float(np.mean(log_sum - scores[np.arange(len(targets)), targets]))
    bpc = float(nats / np.log(2.0))
    return {"bpc": bpc, "perplexity": float(2.0 ** bpc),
            "accuracy": float(np.mean(np.argmax(scores, axis=1) == targets))}


def step_tokens(scores, seqs) -> dict:
    """Return token_metrics over every true step of seqs (per-sequence scores [>= T_i, V])."""
    targets = np.concatenate([np.asarray(y)[:n] for y, n in zip(seqs.y, seqs.lengths)])
    return token_metrics(true_steps(scores, seqs.lengths), targets)


def classes_accuracy(classes, labels) -> dict:
    """Return {"accuracy"}: the fraction of classes equal to labels."""
    return {"accuracy": float(np.mean(np.asarray(classes) == np.asarray(labels)))}


def metrics(scores, seqs, data) -> dict:
    """Return the task's figures of a model's float scores [N, K] on seqs (a SequenceSet of data,
    a hwgen.qat.data.Dataset)."""
    if data.task == "regress":
        return regression_metrics(scores, seqs.targets, data.target_mean, data.target_std)
    if data.task == "next_token":
        return step_tokens(scores, seqs)
    if data.task == "per_step":
        return regression_metrics(true_steps(scores, seqs.lengths),
                                  true_steps(seqs.targets, seqs.lengths), data.target_mean,
                                  data.target_std)
    return classes_accuracy(np.argmax(np.asarray(scores), axis=1), seqs.y)


def backend_metrics(task: str, values: list, classes: list, seqs, preprocess: dict) -> dict:
    """Return the task's figures of a backend's outputs: its classes (classify) or its
    dequantized outputs (regress: [K] per sequence; per_step: [T_i, K] per sequence;
    de-standardized with the checkpoint's preprocess; next_token: [T_i, V] scores)."""
    if task == "next_token":
        return step_tokens(values, seqs)
    if task == "per_step":
        return regression_metrics(true_steps(values, seqs.lengths),
                                  true_steps(seqs.targets, seqs.lengths),
                                  preprocess["target_mean"], preprocess["target_std"])
    if task == "regress":
        return regression_metrics(np.stack([np.asarray(v) for v in values]), seqs.targets,
                                  preprocess["target_mean"], preprocess["target_std"])
    return classes_accuracy(classes, seqs.y)


def checkpoint_metrics(ckpt: dict, which: str) -> dict:
    """Return a checkpoint's figures of its "float" or "quant" model (checkpoints from before
    tasks hold the accuracy only)."""
    return ckpt.get(f"{which}_metrics") or {"accuracy": ckpt[f"{which}_accuracy"]}


def shown(figures: dict | None) -> str:
    """Return figures as printed: "96.22 %" (accuracy), "MSE 0.0012, MAE 0.0301",
    "BPC 2.3456, perplexity 5.06, accuracy 45.12 %" (next_token), or "n/a"."""
    if not figures:
        return "n/a"
    if "bpc" in figures:
        return (f"BPC {figures['bpc']:.4f}, perplexity {figures['perplexity']:.3f}, "
                f"accuracy {100 * figures['accuracy']:.2f} %")
    if "accuracy" in figures:
        acc = figures["accuracy"]
        return "n/a" if acc is None else f"{100 * acc:.2f} %"
    return f"MSE {figures['mse']:.6g}, MAE {figures['mae']:.6g}"
