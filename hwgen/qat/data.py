"""Datasets, read from files that ship inside installed packages (no network)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.types import HwgenError

#: Features per step and classes of every dataset, known without loading it.
SIZES = {"japanese_vowels": (12, 9)}


@dataclass(frozen=True)
class SequenceSet:
    """Variable-length sequences: x[i] is float32 [T_i, features]; y[i] is the class index."""

    x: list
    y: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """Return the length of every sequence."""
        return np.array([len(s) for s in self.x], dtype=np.int64)


@dataclass(frozen=True)
class Dataset:
    """A train/test split, standardized per feature with the training set's statistics."""

    name: str
    train: SequenceSet
    test: SequenceSet
    mean: np.ndarray
    std: np.ndarray
    classes: int


def _ts_file(name: str) -> Path:
    """Return the path of a .ts file shipped in aeon's package data."""
    import aeon.datasets

    path = Path(aeon.datasets.__file__).parent / "data" / "JapaneseVowels" / name
    if not path.is_file():
        raise HwgenError(f"dataset file {path} is missing from the installed aeon package")
    return path


def _read(name: str):
    """Return (list of [T, C] float arrays, integer labels from 0) from an aeon .ts file."""
    from aeon.datasets import load_from_ts_file

    series, labels = load_from_ts_file(str(_ts_file(name)))
    xs = [np.ascontiguousarray(np.asarray(s, dtype=np.float64).T) for s in series]
    ys = np.array([int(label) - 1 for label in labels], dtype=np.int64)
    return xs, ys


def japanese_vowels() -> Dataset:
    """Return JapaneseVowels (9 speakers, 12 LPC channels, 7..29 steps): 270 train, 370 test."""
    train_x, train_y = _read("JapaneseVowels_TRAIN.ts")
    test_x, test_y = _read("JapaneseVowels_TEST.ts")
    stacked = np.concatenate(train_x)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)

    def norm(xs):
        return [((s - mean) / std).astype(np.float32) for s in xs]

    return Dataset("japanese_vowels", SequenceSet(norm(train_x), train_y),
                   SequenceSet(norm(test_x), test_y), mean.astype(np.float32),
                   std.astype(np.float32), SIZES["japanese_vowels"][1])


def load_dataset(name: str) -> Dataset:
    """Return the named dataset."""
    if name == "japanese_vowels":
        return japanese_vowels()
    raise HwgenError(f"unknown dataset {name!r}")


def check_sizes(spec, data: Dataset | None = None) -> None:
    """Raise HwgenError if the spec's net.input_size or net.classes does not match the dataset
    (the loaded data, else the sizes its name promises in SIZES: no loading)."""
    features, classes = SIZES[spec.dataset]
    if data is not None:
        features, classes = data.train.x[0].shape[1], data.classes
    if spec.net.input_size != features:
        raise HwgenError(f"{spec.path}: net.input_size is {spec.net.input_size}, dataset "
                         f"{spec.dataset} has {features} features per step")
    if spec.net.classes != classes:
        raise HwgenError(f"{spec.path}: net.classes is {spec.net.classes}, dataset "
                         f"{spec.dataset} has {classes} classes")


def pad_batch(xs: list) -> tuple:
    """Return (float32 [B, T_max, C] zero-padded at the end, int64 lengths)."""
    lengths = np.array([len(s) for s in xs], dtype=np.int64)
    out = np.zeros((len(xs), int(lengths.max()), xs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(xs):
        out[i, :len(s)] = s
    return out, lengths
