"""Seeded training: a float baseline first, then quantization-aware fine-tuning started from it;
evaluation of the test set, and (per-step models on consecutive chunks) with carried state."""
from __future__ import annotations

import random
import sys

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from hwgen.qat.data import SequenceSet, pad_batch
from hwgen.qat.task import loss, metrics


def seed_everything(seed: int) -> np.random.Generator:
    """Seed torch, numpy and random; return a numpy generator for batch order."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def _tensors(seqs: SequenceSet, index: np.ndarray):
    """Return (x, lengths, y) tensors of the sequences at index, zero-padded at the end."""
    x, lengths = pad_batch([seqs.x[i] for i in index])
    return torch.from_numpy(x), torch.from_numpy(lengths), torch.from_numpy(seqs.y[index])


def batches(order: np.ndarray, lengths: np.ndarray, batch_size: int, by_length: bool,
            rng: np.random.Generator = None) -> list:
    """Return the index batches of sequences taken in `order`.

    by_length puts only sequences of one length in a batch (no padding at all): a reverse direction
    must start at each sequence's true last step. rng, when given, shuffles those batches.
    """
    if not by_length:
        return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]
    out = []
    for length in np.unique(lengths):
        group = order[lengths[order] == length]
        out += [group[k:k + batch_size] for k in range(0, len(group), batch_size)]
    if rng is not None:
        out = [out[k] for k in rng.permutation(len(out))]
    return out


def fit(model: nn.Module, seqs: SequenceSet, epochs: int, lr: float, batch_size: int,
        rng: np.random.Generator, desc: str, by_length: bool = False,
        task: str = "classify") -> None:
    """Train model with Adam and the task's loss (cross-entropy, or mean square error for
    regress), showing one progress bar over the epochs.

    by_length batches equal-length sequences only (needed by bidirectional models).
    """
    if epochs == 0:
        return
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    bar = tqdm(range(epochs), desc=desc, unit="epoch", file=sys.stderr, dynamic_ncols=True)
    for _ in bar:
        model.train()
        order = rng.permutation(len(seqs.x))
        total, count = 0.0, 0
        for index in batches(order, seqs.lengths, batch_size, by_length, rng):
            x, lengths, y = _tensors(seqs, index)
            batch_loss = loss(task, model(x, lengths), y, lengths)
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            total, count = total + batch_loss.item() * len(y), count + len(y)
        sched.step()
        bar.set_postfix(loss=f"{total / count:.4f}")


@torch.no_grad()
def outputs(model: nn.Module, seqs: SequenceSet, batch_size: int = 128,
            by_length: bool = False) -> np.ndarray:
    """Return the model's float32 outputs [N, K] (scores) of every sequence, or of a per-step
    model [N, T_max, K] (zero after each sequence's end) (eval mode)."""
    model.eval()
    out = None
    for index in batches(np.arange(len(seqs.x)), seqs.lengths, batch_size, by_length):
        x, lengths, _ = _tensors(seqs, index)
        got = model(x, lengths).numpy()
        if out is None:
            steps = (int(seqs.lengths.max()),) if got.ndim == 3 else ()
            out = np.zeros((len(seqs.x), *steps, got.shape[-1]), dtype=got.dtype)
        if got.ndim == 3:
            got = got * (np.arange(got.shape[1])[None, :, None] < lengths.numpy()[:, None, None])
            out[index, :got.shape[1]] = got
        else:
            out[index] = got
    return out


def predict(model: nn.Module, seqs: SequenceSet, batch_size: int = 128,
            by_length: bool = False) -> np.ndarray:
    """Return the predicted class of every sequence (eval mode)."""
    return np.argmax(outputs(model, seqs, batch_size, by_length), axis=-1).astype(np.int64)


def evaluate(model: nn.Module, data, by_length: bool = False) -> dict:
    """Return the task's figures of model on data's test set (hwgen.qat.task.metrics)."""
    return metrics(outputs(model, data.test, by_length=by_length), data.test, data)


def accuracy(preds: np.ndarray, labels: np.ndarray) -> float:
    """Return the fraction of correct predictions."""
    return float(np.mean(np.asarray(preds) == np.asarray(labels)))


#: Runs the test stream is cut into for stateful evaluation, each started from zero state.
STATEFUL_LANES = 16


def _rows(states, count: int):
    """Return the first count batch rows of recurrent states (tensors, tuples or lists)."""
    if isinstance(states, (tuple, list)):
        return type(states)(_rows(s, count) for s in states)
    return states[..., :count, :]


@torch.no_grad()
def stateful_outputs(model: nn.Module, seqs: SequenceSet,
                     lanes: int = STATEFUL_LANES) -> np.ndarray:
    """Return a per-step model's float32 scores [N, T, K] of consecutive chunks (seqs, each
    continuing the one before, all of one length) with the recurrent state carried from chunk
    to chunk (model.forward_state): the chunks are dealt into `lanes` contiguous runs (run b:
    chunks b*R .. b*R+R-1, R = ceil(N / lanes)) run side by side, each from zero state."""
    model.eval()
    count = len(seqs.x)
    run = -(-count // lanes)
    states, out = None, None
    for r in range(run):
        index = np.array([b * run + r for b in range(lanes) if b * run + r < count])
        if states is not None:
            states = _rows(states, len(index))
        x, _ = pad_batch([seqs.x[i] for i in index])
        scores, states = model.forward_state(torch.from_numpy(x), states)
        if out is None:
            out = np.zeros((count, *scores.shape[1:]), dtype=np.float32)
        out[index] = scores.numpy()
    return out


def stateful_metrics(model: nn.Module, data) -> dict:
    """Return the task's figures of model on data's test chunks run with carried state."""
    return metrics(stateful_outputs(model, data.test), data.test, data)
