"""Datasets, read from disk only (no network): named sets that ship inside installed packages,
and the user's own .npz files.

A spec's `dataset` value names one of them; dataset_ref turns it into a canonical reference:
- "japanese_vowels" (the default): aeon's JapaneseVowels (9 speakers, 12 LPC channels, 7..29
  steps), kept under its historical name;
- "aeon:NAME": any classification or regression set shipped in the installed aeon package
  (aeon/datasets/data/NAME/NAME_TRAIN.ts and NAME_TEST.ts, its own split), univariate or
  multivariate, equal or unequal length. Class labels are numbered in sorted order (numerically
  when every label is a number); a regression set (its header says @targetLabel true) has one
  real target per sequence;
- "aeon:NAME" for a forecasting series aeon ships as NAME/NAME.csv (FORECAST_SETS: Airline, Lynx,
  ShampooSales): a per-step set (task per_step), next-value forecasting. The series s (its last
  column) is cut into every window of FORECAST_WINDOW steps, x = s[i:i+W] and target
  y_t = s[i+t+1] at every step t. The first FORECAST_TRAIN of the points are the training part: a
  window whose inputs and targets all lie in it is a training window; every window whose last
  target lies after it is a test window (its first steps may repeat training points, the figures
  count every step of every test window). Inputs and targets are standardized with the
  training windows' statistics (every step of every training window);
- "pydoc_chars": a character-level corpus, the standard library's pydoc help topics, as
  next-character chunks of token ids (task next_token; hwgen.qat.chars says how it is cut);
- "file:PATH" (a spec writes `dataset: {file: PATH}`, relative to the spec's folder): a .npz file
  laid out as NPZ_LAYOUT says.

Every sequence is standardized per feature with the training set's mean and standard deviation
(a feature that never varies keeps its values minus the mean). A regression set's targets are
standardized the same way, per output, with the training targets' statistics; the raw targets are
kept for metrics in the target's own units. Errors are one-line HwgenErrors
naming the file, the array and the problem.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.qat import chars
from hwgen.types import HwgenError, shown

#: Features per step, classes and task of the named datasets known without loading them.
SIZES = {"japanese_vowels": (12, 9, "classify"), chars.NAME: (1, chars.TOKENS, "next_token")}
#: aeon's shipped forecasting series (NAME/NAME.csv), read as per-step sets, and their windows.
FORECAST_SETS = ("Airline", "Lynx", "ShampooSales")
FORECAST_WINDOW = 12  # steps per window
FORECAST_TRAIN = 0.75  # the leading fraction of the points that trains
AEON = "aeon:"
FILE = "file:"
NPZ_LAYOUT = """\
x       float, [N, T] (one feature) or [N, T, C]: N sequences, padded at the end to T steps
lengths int [N], optional: the steps of each sequence (1..T; default: all T)
y       int [N]: class labels 0..K-1 (K = the largest label + 1): a classification set;
        or float [N] or [N, K]: K real-valued targets per sequence: a regression set
y_step  float [N, T] or [N, T, K], instead of y: K real-valued targets at every step (the
        same padded steps as x; values after a sequence's length are ignored): a per-step set
split   int or bool [N], optional: 1 (True) for a test sequence, 0 for a training one
        (default: every fifth sequence, index 4, 9, ..., is a test sequence)"""


@dataclass(frozen=True)
class SequenceSet:
    """Variable-length sequences: x[i] is float32 [T_i, features]; y[i] is the class index, or
    (regression) the standardized float32 targets [K], with targets[i] the raw float64 ones, or
    (per_step) y[i] the standardized float32 targets of every step [T_max, K] (zero after T_i),
    targets[i] the raw ones, or (next_token) x[i] the int64 token ids [T_i] and y[i] the next
    token of every step [T]."""

    x: list
    y: np.ndarray
    targets: np.ndarray | None = None

    @property
    def lengths(self) -> np.ndarray:
        """Return the length of every sequence."""
        return np.array([len(s) for s in self.x], dtype=np.int64)


@dataclass(frozen=True)
class Dataset:
    """A train/test split, standardized per feature with the training set's statistics (mean and
    std, float64: x = ((raw - mean) / std) rounded to float32)."""

    name: str
    train: SequenceSet
    test: SequenceSet
    mean: np.ndarray
    std: np.ndarray
    classes: int  # classes, or a regression set's outputs per sequence
    labels: tuple = ()  # the original label of every class index, when the source names them
    task: str = "classify"  # or "regress", "per_step", "next_token" (hwgen.spec.TASKS)
    target_mean: np.ndarray | None = None  # regression: the training targets' statistics
    target_std: np.ndarray | None = None

    @property
    def features(self) -> int:
        """Return the features per step (a token set: 1, the token id)."""
        first = self.train.x[0]
        return 1 if first.ndim == 1 else int(first.shape[1])


def aeon_dir() -> Path:
    """Return the folder of the datasets shipped in the installed aeon package."""
    import aeon.datasets

    return Path(aeon.datasets.__file__).parent / "data"


def aeon_sets() -> list[str]:
    """Return the names of aeon's shipped sets that have a NAME_TRAIN.ts and a NAME_TEST.ts."""
    root = aeon_dir()
    return sorted(d.name for d in root.iterdir()
                  if (d / f"{d.name}_TRAIN.ts").is_file() and (d / f"{d.name}_TEST.ts").is_file())


def dataset_ref(value, base: Path, where: str) -> str:
    """Return the canonical reference of a spec's dataset value (see the module docstring).

    base: the folder relative file paths start from; where: the spec, for error messages.
    """
    if isinstance(value, dict):
        if set(value) != {"file"} or not isinstance(value["file"], str) or not value["file"]:
            raise HwgenError(f"{where}: dataset must be a name or {{file: PATH}} "
                             f"(got keys {', '.join(map(str, value)) or 'none'})")
        path = Path(value["file"]).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise HwgenError(f"{where}: dataset file {shown(str(path))} does not exist")
        return FILE + str(path.resolve())
    if not isinstance(value, str):
        raise HwgenError(f"{where}: dataset must be a name or {{file: PATH}}")
    if value in SIZES:
        return value
    if value.startswith(AEON):
        name = value[len(AEON):]
        if name not in aeon_sets() and name not in FORECAST_SETS:
            raise HwgenError(f"{where}: dataset {shown(value)}: aeon ships no set of that name "
                             f"(it has: {', '.join(aeon_sets() + list(FORECAST_SETS))})")
        return value
    raise HwgenError(f"{where}: dataset {shown(value)} is not one of {', '.join(SIZES)}, "
                     f"aeon:NAME or {{file: PATH}}")


def ref_digest(ref: str) -> str:
    """Return what identifies a dataset's contents for caches: the name, or a file's digest."""
    if ref.startswith(FILE):
        return FILE + hashlib.sha256(Path(ref[len(FILE):]).read_bytes()).hexdigest()
    return ref


def _statistics(stacked: np.ndarray) -> tuple:
    """Return (mean, std) per column of stacked rows; a column that never varies gets std 1."""
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def _standardized(name: str, train: tuple, test: tuple, classes: int,
                  labels: tuple = ()) -> Dataset:
    """Return a Dataset of raw (sequences, labels) pairs, standardized with train's statistics;
    float labels [N, K] are regression targets (standardized too, the raw ones kept)."""
    mean, std = _statistics(np.concatenate(train[0]))

    def norm(xs):
        return [((s - mean) / std).astype(np.float32) for s in xs]

    if train[1].dtype.kind != "f":
        return Dataset(name, SequenceSet(norm(train[0]), train[1]),
                       SequenceSet(norm(test[0]), test[1]), mean, std, classes, labels)
    t_mean, t_std = _statistics(train[1])

    def part(xs, ys):
        return SequenceSet(norm(xs), ((ys - t_mean) / t_std).astype(np.float32), ys)

    return Dataset(name, part(*train), part(*test), mean, std, train[1].shape[1], (), "regress",
                   t_mean, t_std)


def _read_ts(path: Path):
    """Return (list of [T, C] float64 arrays, labels as strings) from an aeon .ts file."""
    from aeon.datasets import load_from_ts_file

    if not path.is_file():
        raise HwgenError(f"dataset file {path} is missing from the installed aeon package")
    try:
        series, labels = load_from_ts_file(str(path))
    except Exception as exc:  # aeon raises many types for a malformed file
        raise HwgenError(f"{path}: not readable as a .ts file ({type(exc).__name__})") from None
    xs = [np.ascontiguousarray(np.asarray(s, dtype=np.float64).T) for s in series]
    return xs, [str(label) for label in labels]


def _class_order(labels: list) -> tuple:
    """Return the distinct labels in class-index order: numeric order if all are numbers."""
    distinct = set(labels)
    try:
        return tuple(sorted(distinct, key=float))
    except ValueError:
        return tuple(sorted(distinct))


def _aeon_raw(name: str) -> tuple:
    """Return ((train sequences, train labels), (test ...), class order) of aeon's set NAME:
    raw float64 sequences [T, C] and class indices (regression: float64 targets [N, 1], no
    class order)."""
    folder = aeon_dir() / name
    train_x, train_l = _read_ts(folder / f"{name}_TRAIN.ts")
    test_x, test_l = _read_ts(folder / f"{name}_TEST.ts")
    if is_aeon_regression(name):
        def targets(labels):
            return np.array([float(v) for v in labels], dtype=np.float64)[:, None]

        return (train_x, targets(train_l)), (test_x, targets(test_l)), ()
    order = _class_order(train_l + test_l)
    index = {label: k for k, label in enumerate(order)}

    def ys(labels):
        return np.array([index[label] for label in labels], dtype=np.int64)

    return (train_x, ys(train_l)), (test_x, ys(test_l)), order


def is_aeon_regression(name: str) -> bool:
    """Return True if aeon's shipped set NAME is a regression set (@targetLabel true)."""
    header = (aeon_dir() / name / f"{name}_TRAIN.ts").read_text(errors="replace")[:4096].lower()
    return "@targetlabel true" in header


def _aeon(name: str) -> Dataset:
    """Return aeon's shipped set NAME (classification or regression) with its own split."""
    train, test, order = _aeon_raw(name)
    return _standardized(AEON + name, train, test, len(order), order)


def _series(name: str) -> np.ndarray:
    """Return the float64 values (last column) of aeon's shipped forecasting series NAME."""
    path = aeon_dir() / name / f"{name}.csv"
    if not path.is_file():
        raise HwgenError(f"dataset file {path} is missing from the installed aeon package")
    try:
        values = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=-1, dtype=np.float64)
    except ValueError as exc:
        raise HwgenError(f"{path}: not a readable series ({exc})") from None
    if values.ndim != 1 or not np.isfinite(values).all():
        raise HwgenError(f"{path}: its last column is not a series of numbers")
    return values


def forecast_windows(series: np.ndarray, window: int = FORECAST_WINDOW,
                     train: float = FORECAST_TRAIN) -> tuple:
    """Return ((train x, train y), (test x, test y)) of a series' next-value windows (raw
    float64: x [W, 1], y [W, 1]; see the module docstring for the split)."""
    n = len(series)
    split = int(n * train)
    starts = range(n - window)  # window i's last target is s[i + window]
    if split <= window:
        raise HwgenError(f"a series of {n} points has no training window of {window} steps")

    def part(chosen):
        return ([series[i:i + window, None] for i in chosen],
                np.stack([series[i + 1:i + window + 1, None] for i in chosen]))

    return (part([i for i in starts if i + window < split]),
            part([i for i in starts if i + window >= split]))


def _per_step(name: str, train: tuple, test: tuple) -> Dataset:
    """Return a per-step regression Dataset of raw (sequences [T_i, C], targets [N, T, K]),
    inputs and targets standardized with the training part's statistics (over each sequence's
    true steps)."""
    mean, std = _statistics(np.concatenate(train[0]))
    t_mean, t_std = _statistics(np.concatenate([y[:len(s)] for s, y in zip(*train)]))

    def part(xs, ys):
        norm = [((s - mean) / std).astype(np.float32) for s in xs]
        return SequenceSet(norm, ((ys - t_mean) / t_std).astype(np.float32), ys)

    return Dataset(name, part(*train), part(*test), mean, std, train[1].shape[-1], (),
                   "per_step", t_mean, t_std)


def _forecast(name: str) -> Dataset:
    """Return aeon's shipped forecasting series NAME as a per-step set of windows."""
    return _per_step(AEON + name, *forecast_windows(_series(name)))


def pydoc_chars() -> Dataset:
    """Return the pydoc topics' next-character chunks (hwgen.qat.chars): token ids in, the next
    token at every step as the target; labels are the vocabulary."""
    train, test = (SequenceSet(*chars.chunks(ids)) for ids in chars.streams())
    return Dataset(chars.NAME, train, test, np.zeros(1), np.ones(1), chars.TOKENS,
                   tuple(chars.VOCAB) + (chars.UNKNOWN_LABEL,), "next_token")


def japanese_vowels() -> Dataset:
    """Return JapaneseVowels (9 speakers, 12 LPC channels, 7..29 steps): 270 train, 370 test."""
    data = _aeon("JapaneseVowels")
    return Dataset("japanese_vowels", data.train, data.test, data.mean, data.std, data.classes,
                   data.labels)


def _npz_arrays(path: Path) -> dict:
    """Return the arrays of a .npz file (no pickled objects) or raise a one-line error."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise HwgenError(f"{path}: holds pickled objects; store x as a padded float array "
                             f"with lengths (see the README)") from None
        raise HwgenError(f"{path}: not a readable .npz file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise HwgenError(f"{path}: not a readable .npz file ({type(exc).__name__})") from None


def _npz_checked(path: Path, arrays: dict) -> tuple:
    """Return (x [N, T, C] float64, lengths [N], y [N], test mask [N]) of a user .npz file."""
    def bad(name, problem):
        return HwgenError(f"{path}: array {name!r} {problem}")

    unknown = set(arrays) - {"x", "y", "y_step", "lengths", "split"}
    if unknown:
        raise bad(sorted(unknown)[0], "is not part of the layout (x, y or y_step, lengths, "
                                      "split)")
    if "y" in arrays and "y_step" in arrays:
        raise bad("y_step", "and 'y' are both present: give y (a target per sequence) or y_step "
                            "(targets per step)")
    for name in ("x", "y"):
        if name not in arrays and not (name == "y" and "y_step" in arrays):
            raise HwgenError(f"{path}: no array {name!r} (layout: x, y or y_step, optional "
                             "lengths, split)")
    x = arrays["x"]
    if x.dtype.kind not in "fiu" or x.ndim not in (2, 3) or x.shape[0] < 2 or x.shape[1] < 1:
        raise bad("x", f"must be a float array [N, T] or [N, T, C] with N >= 2 "
                       f"(got {x.dtype} {list(x.shape)})")
    x = x.astype(np.float64).reshape(x.shape[0], x.shape[1], -1)
    n, steps = x.shape[:2]
    y = (_npz_step_targets(arrays["y_step"], n, steps, bad) if "y_step" in arrays
         else _npz_labels(arrays["y"], n, bad))
    lengths = arrays.get("lengths", np.full(n, steps))
    if lengths.shape != (n,) or lengths.dtype.kind not in "iu" or lengths.min() < 1 \
            or lengths.max() > steps:
        raise bad("lengths", f"must hold {n} integers in 1..{steps}")
    split = arrays.get("split", np.arange(n) % 5 == 4)
    if split.shape != (n,) or split.dtype.kind not in "biu" or not np.isin(split, (0, 1)).all():
        raise bad("split", f"must hold {n} values 0 (train) or 1 (test)")
    split = split.astype(bool)
    if split.all() or not split.any():
        raise bad("split", "must leave at least one training and one test sequence")
    valid = np.arange(steps)[None, :] < lengths[:, None]
    if not np.isfinite(x[valid]).all():
        raise bad("x", "holds NaN or infinite values inside a sequence")
    return x, lengths.astype(np.int64), y, split


def _npz_labels(y: np.ndarray, n: int, bad) -> np.ndarray:
    """Return a .npz file's y: int64 class labels [N], or float64 regression targets [N, K]."""
    if y.dtype.kind == "f":
        if y.ndim not in (1, 2) or y.shape[0] != n or y.size == 0:
            raise bad("y", f"must hold {n} float targets [N] or [N, K] (got {list(y.shape)})")
        if not np.isfinite(y).all():
            raise bad("y", "holds NaN or infinite targets")
        return y.astype(np.float64).reshape(n, -1)
    if y.shape != (n,) or y.dtype.kind not in "iu" or y.min() < 0:
        raise bad("y", f"must hold {n} integer class labels >= 0 or float targets "
                       f"(got {y.dtype} {list(y.shape)})")
    return y.astype(np.int64)


def _npz_step_targets(y: np.ndarray, n: int, steps: int, bad) -> np.ndarray:
    """Return a .npz file's y_step: float64 per-step targets [N, T, K]."""
    if y.dtype.kind != "f" or y.ndim not in (2, 3) or y.shape[:2] != (n, steps) or y.size == 0:
        raise bad("y_step", f"must hold float targets [{n}, {steps}] or [{n}, {steps}, K] "
                            f"(got {y.dtype} {list(y.shape)})")
    if not np.isfinite(y).all():
        raise bad("y_step", "holds NaN or infinite targets")
    return y.astype(np.float64).reshape(n, steps, -1)


def _file_raw(path: Path) -> tuple:
    """Return ((train sequences, labels), (test sequences, labels)) of a user .npz file."""
    x, lengths, y, test = _npz_checked(path, _npz_arrays(path))
    seqs = [x[i, :lengths[i]] for i in range(len(y))]

    def part(mask):
        idx = np.flatnonzero(mask)
        return [seqs[i] for i in idx], y[idx]

    return part(~test), part(test)


def _file(path: Path) -> Dataset:
    """Return the user's .npz dataset (see NPZ_LAYOUT)."""
    train, test = _file_raw(path)
    if train[1].ndim == 3:  # y_step: targets per step
        return _per_step(FILE + str(path), train, test)
    classes = 0 if train[1].dtype.kind == "f" else int(max(train[1].max(), test[1].max())) + 1
    return _standardized(FILE + str(path), train, test, classes)


def raw_sequences(ref: str, part: str = "test") -> list:
    """Return the raw (unstandardized, float64) sequences [T, C] of a dataset's "train" or "test"
    part, as its files hold them: what `hwgen quantize-input` takes."""
    if part not in ("train", "test"):
        raise HwgenError(f"part {part!r} is not train or test")
    if ref.startswith(FILE):
        split = _file_raw(Path(ref[len(FILE):]))
    elif ref == chars.NAME:
        split = tuple(chars.chunks(ids) for ids in chars.streams())
    elif ref.removeprefix(AEON) in FORECAST_SETS:
        split = forecast_windows(_series(ref.removeprefix(AEON)))
    else:
        name = "JapaneseVowels" if ref == "japanese_vowels" else ref.removeprefix(AEON)
        split = _aeon_raw(name)
    return list(split[0 if part == "train" else 1][0])


@functools.lru_cache(maxsize=4)
def _load(ref: str, digest: str) -> Dataset:
    """Return a dataset by reference (digest: what identifies its contents, for the cache)."""
    del digest
    if ref == "japanese_vowels":
        return japanese_vowels()
    if ref == chars.NAME:
        return pydoc_chars()
    if ref.removeprefix(AEON) in FORECAST_SETS:
        return _forecast(ref[len(AEON):])
    if ref.startswith(AEON):
        return _aeon(ref[len(AEON):])
    if ref.startswith(FILE):
        return _file(Path(ref[len(FILE):]))
    raise HwgenError(f"unknown dataset {ref!r}")


def load_dataset(ref: str) -> Dataset:
    """Return the dataset a canonical reference (dataset_ref) names."""
    return _load(ref, ref_digest(ref))


def preprocess_of(data: Dataset) -> dict:
    """Return the standardization of a dataset as checkpoints keep it: {"mean", "std"} lists and,
    for a regression set, the targets' {"target_mean", "target_std"} lists (raw target =
    standardized output * target_std + target_mean); for a token set only the vocabulary
    (token id -> character) as {"vocab"}: token ids go in unchanged."""
    if data.task == "next_token":
        return {"vocab": list(data.labels)}
    out = {"mean": [float(v) for v in data.mean], "std": [float(v) for v in data.std]}
    if data.task in ("regress", "per_step"):
        out.update(target_mean=[float(v) for v in data.target_mean],
                   target_std=[float(v) for v in data.target_std])
    return out


#: How the checks name each task's kind of dataset.
KIND = {"classify": "a classification set", "regress": "a regression set",
        "per_step": "a per-step set", "next_token": "a character corpus"}


def sizes(ref: str) -> tuple:
    """Return (features per step, classes or outputs, task) of a dataset, without loading the
    named ones."""
    if ref in SIZES:
        return SIZES[ref]
    data = load_dataset(ref)
    return data.features, data.classes, data.task


def check_sizes(spec, data: Dataset | None = None) -> None:
    """Raise HwgenError if the spec's task, net.input_size or net.classes does not match the
    dataset (the loaded data, else what sizes() says)."""
    features, classes, task = sizes(spec.dataset) if data is None else (
        data.features, data.classes, data.task)
    shown_name = spec.dataset.removeprefix(FILE)
    if spec.task != task:
        raise HwgenError(f"{spec.path}: task is {spec.task}, dataset {shown_name} is "
                         f"{KIND[task]} (task: {task})")
    if task == "next_token":
        if spec.net.classes != classes:
            raise HwgenError(f"{spec.path}: net.classes is {spec.net.classes}, dataset "
                             f"{shown_name} has {classes} tokens (task next_token: one score "
                             f"per token)")
        return
    if spec.net.input_size != features:
        raise HwgenError(f"{spec.path}: net.input_size is {spec.net.input_size}, dataset "
                         f"{shown_name} has {features} features per step")
    if spec.net.classes != classes:
        what = {"classify": "classes", "regress": "targets per sequence",
                "per_step": "targets per step"}[task]
        raise HwgenError(f"{spec.path}: net.classes is {spec.net.classes}, dataset "
                         f"{shown_name} has {classes} {what}")


def pad_batch(xs: list) -> tuple:
    """Return (float32 [B, T_max, C] zero-padded at the end, int64 lengths); token sequences
    (int [T_i]) give int64 token ids [B, T_max], padded with token 0."""
    lengths = np.array([len(s) for s in xs], dtype=np.int64)
    if xs[0].ndim == 1:
        out = np.zeros((len(xs), int(lengths.max())), dtype=np.int64)
    else:
        out = np.zeros((len(xs), int(lengths.max()), xs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(xs):
        out[i, :len(s)] = s
    return out, lengths
