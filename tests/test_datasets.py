"""Datasets: aeon's shipped classification sets, the user's .npz files, and the spec's checks."""
from __future__ import annotations

import numpy as np
import pytest

from hwgen.qat.data import NPZ_LAYOUT, aeon_sets, dataset_ref, load_dataset, ref_digest
from hwgen.spec import load_spec
from hwgen.types import HwgenError


@pytest.mark.parametrize("name, features, classes, train, test, lengths", [
    ("GunPoint", 1, 2, 50, 150, (150, 150)),
    ("PickupGestureWiimoteZ", 1, 10, 50, 50, (29, 361)),  # unequal lengths
    ("BasicMotions", 6, 4, 40, 40, (100, 100)),  # multivariate, labels are words
])
def test_aeon_sets_load_with_their_own_split(name, features, classes, train, test, lengths):
    data = load_dataset(f"aeon:{name}")
    assert (data.features, data.classes, len(data.train.x), len(data.test.x)) == (
        features, classes, train, test)
    assert (data.train.lengths.min(), data.train.lengths.max()) == lengths
    assert set(data.train.y) | set(data.test.y) == set(range(classes))
    assert len(data.labels) == classes and list(data.labels) == sorted(data.labels, key=_order)
    stacked = np.concatenate(data.train.x)
    assert np.abs(stacked.mean(axis=0)).max() < 1e-4  # standardized with train's statistics


def _order(label):
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def test_labels_that_are_numbers_keep_numeric_order():
    data = load_dataset("aeon:PickupGestureWiimoteZ")
    assert data.labels == tuple(str(k) for k in range(1, 11))  # "10" after "9", not after "1"


def test_japanese_vowels_is_the_aeon_set_under_its_old_name():
    a, b = load_dataset("japanese_vowels"), load_dataset("aeon:JapaneseVowels")
    assert a.classes == b.classes == 9 and a.features == 12
    assert all(np.array_equal(x, y) for x, y in zip(a.test.x, b.test.x))
    assert np.array_equal(a.test.y, b.test.y)


def test_every_listed_aeon_set_has_both_files():
    sets = aeon_sets()
    assert {"GunPoint", "JapaneseVowels", "PickupGestureWiimoteZ"} <= set(sets)


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_npz_dataset_variable_lengths_and_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5, 2))
    lengths = np.array([5, 3, 4, 2, 5, 1])
    x[np.arange(5)[None, :] >= lengths[:, None]] = np.nan  # padding may hold anything
    y = np.array([0, 1, 2, 0, 1, 2])
    split = np.array([0, 0, 0, 0, 1, 1])
    path = _write(tmp_path / "d.npz", x=x, lengths=lengths, y=y, split=split)
    data = load_dataset(dataset_ref({"file": "d.npz"}, tmp_path, "spec"))
    assert data.classes == 3 and data.features == 2
    assert [len(s) for s in data.train.x] == [5, 3, 4, 2] and [len(s) for s in data.test.x] == [5, 1]
    raw = np.concatenate([x[i, :lengths[i]] for i in range(4)])
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    assert np.array_equal(data.test.x[1], ((x[5, :1] - mean) / std).astype(np.float32))
    assert list(data.test.y) == [1, 2]
    assert path.is_file()


def test_npz_default_split_is_every_fifth_sequence(tmp_path):
    x = np.arange(10 * 3, dtype=np.float64).reshape(10, 3)  # univariate [N, T]
    _write(tmp_path / "u.npz", x=x, y=np.arange(10) % 2)
    data = load_dataset(dataset_ref({"file": str(tmp_path / "u.npz")}, tmp_path, "spec"))
    assert len(data.train.x) == 8 and len(data.test.x) == 2 and data.features == 1


def test_a_changed_file_changes_the_digest(tmp_path):
    path = _write(tmp_path / "d.npz", x=np.zeros((5, 2)), y=np.arange(5) % 2)
    ref = dataset_ref({"file": "d.npz"}, tmp_path, "spec")
    before = ref_digest(ref)
    _write(path, x=np.ones((5, 2)), y=np.arange(5) % 2)
    assert ref_digest(ref) != before and load_dataset(ref).train.x[0].shape == (2, 1)


@pytest.mark.parametrize("arrays, words", [
    (dict(y=np.zeros(4, int)), "no array 'x'"),
    (dict(x=np.zeros((4, 3))), "no array 'y'"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(3, int)), "array 'y' must hold 4"),
    (dict(x=np.zeros((4, 3)), y=np.array([0, -1, 0, 1])), "array 'y'"),
    # float y: regression targets, [N] or [N, K], finite
    (dict(x=np.zeros((4, 3)), y=np.array([0.5, np.nan, 0.0, 1.0])), "array 'y' holds NaN"),
    (dict(x=np.zeros((4, 3)), y=np.zeros((4, 2, 2))), "array 'y' must hold 4 float targets"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(3)), "array 'y' must hold 4 float targets"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(4, int), lengths=np.array([1, 2, 3, 4])),
     "array 'lengths' must hold 4 integers in 1..3"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(4, int), split=np.array([0, 0, 0, 2])), "array 'split'"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(4, int), split=np.zeros(4, int)),
     "at least one training and one test"),
    (dict(x=np.full((5, 3), np.inf), y=np.zeros(5, int)), "NaN or infinite"),
    (dict(x=np.array(["a", "b"]), y=np.zeros(2, int)), "array 'x' must be a float array"),
    (dict(x=np.zeros((4, 3)), y=np.zeros(4, int), extra=np.zeros(1)), "array 'extra'"),
])
def test_bad_npz_files_give_one_line_naming_the_array(tmp_path, arrays, words):
    _write(tmp_path / "bad.npz", **arrays)
    ref = dataset_ref({"file": "bad.npz"}, tmp_path, "spec")
    with pytest.raises(HwgenError) as err:
        load_dataset(ref)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert str(tmp_path / "bad.npz") in str(err.value)


def test_pickled_arrays_are_refused(tmp_path):
    x = np.empty(2, dtype=object)
    x[0], x[1] = np.zeros((3, 1)), np.zeros((2, 1))
    np.savez(tmp_path / "p.npz", x=x, y=np.zeros(2, int))
    with pytest.raises(HwgenError, match="pickled objects"):
        load_dataset(dataset_ref({"file": "p.npz"}, tmp_path, "spec"))


@pytest.mark.parametrize("value, words", [
    ("mnist", "is not one of japanese_vowels, pydoc_chars, aeon:NAME or {file: PATH}"),
    ("aeon:NoSuchSet", "aeon ships no set of that name"),
    ({"file": "missing.npz"}, "does not exist"),
    ({"path": "x.npz"}, "must be a name or {file: PATH}"),
    (3, "must be a name or {file: PATH}"),
])
def test_bad_dataset_values(tmp_path, value, words):
    with pytest.raises(HwgenError) as err:
        dataset_ref(value, tmp_path, "spec.yaml")
    assert words in str(err.value) and str(err.value).startswith("spec.yaml: ")


def test_aeon_regression_set_has_raw_and_standardized_targets():
    from aeon.datasets import load_from_ts_file

    from hwgen.qat.data import aeon_dir

    data = load_dataset("aeon:Covid3Month")
    assert (data.task, data.classes, data.features) == ("regress", 1, 1)
    _, raw_train = load_from_ts_file(str(aeon_dir() / "Covid3Month" / "Covid3Month_TRAIN.ts"))
    _, raw_test = load_from_ts_file(str(aeon_dir() / "Covid3Month" / "Covid3Month_TEST.ts"))
    raw_train = np.asarray(raw_train, dtype=np.float64)
    assert np.array_equal(data.test.targets[:, 0], np.asarray(raw_test, dtype=np.float64))
    assert data.target_mean[0] == raw_train.mean() and data.target_std[0] == raw_train.std()
    want = ((raw_train - raw_train.mean()) / raw_train.std()).astype(np.float32)
    assert data.train.y.dtype == np.float32 and np.array_equal(data.train.y[:, 0], want)


def test_npz_float_targets_make_a_regression_set(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.normal(3.0, 2.0, size=(10, 2))
    _write(tmp_path / "r.npz", x=rng.normal(size=(10, 4, 1)), y=y)
    data = load_dataset(dataset_ref({"file": "r.npz"}, tmp_path, "spec"))
    assert (data.task, data.classes) == ("regress", 2)
    train = y[np.arange(10) % 5 != 4]
    assert np.array_equal(data.target_mean, train.mean(axis=0))
    assert np.array_equal(data.test.targets, y[[4, 9]])
    one = load_dataset(dataset_ref({"file": "r.npz"}, tmp_path, "spec"))
    assert one is data  # cached
    _write(tmp_path / "s.npz", x=np.zeros((5, 3)), y=np.arange(5.0))
    assert load_dataset(dataset_ref({"file": "s.npz"}, tmp_path, "spec")).classes == 1


def test_npz_layout_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert NPZ_LAYOUT in readme


def _spec(tmp_path, dataset: str, input_size: int, classes: int):
    path = tmp_path / "m.yaml"
    path.write_text(f"dataset: {dataset}\nnet: {{input_size: {input_size}, hidden_size: 4, "
                    f"classes: {classes}}}\n")
    return path


def test_spec_checks_sizes_against_an_aeon_set(tmp_path):
    spec = load_spec(str(_spec(tmp_path, "aeon:GunPoint", 1, 2)))
    assert spec.dataset == "aeon:GunPoint"
    with pytest.raises(HwgenError, match=r"net.input_size is 12, dataset aeon:GunPoint has 1 "):
        load_spec(str(_spec(tmp_path, "aeon:GunPoint", 12, 2)))
    with pytest.raises(HwgenError, match=r"net.classes is 9, dataset aeon:GunPoint has 2 classes"):
        load_spec(str(_spec(tmp_path, "aeon:GunPoint", 1, 9)))


def test_spec_with_a_file_dataset_relative_to_the_spec(tmp_path):
    _write(tmp_path / "mine.npz", x=np.zeros((5, 4, 3)), y=np.arange(5) % 2)
    spec = load_spec(str(_spec(tmp_path, "{file: mine.npz}", 3, 2)))
    assert spec.dataset == "file:" + str((tmp_path / "mine.npz").resolve())
    h = spec.training_hash()
    _write(tmp_path / "mine.npz", x=np.ones((5, 4, 3)), y=np.arange(5) % 2)
    assert load_spec(str(tmp_path / "m.yaml")).training_hash() != h  # new data: retrain
