"""task: regress: the spec key checked against the dataset, training, metrics and the hardware."""
from __future__ import annotations

import numpy as np
import pytest

from hwgen.spec import load_spec
from hwgen.types import HwgenError
from tests.hwgen_cli import run_hwgen


def _spec(tmp_path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, line", [
    ("dataset: aeon:GunPoint\ntask: regress\nnet: {input_size: 1, classes: 2}\n",
     "task is regress, dataset aeon:GunPoint is a classification set (task: classify)"),
    ("dataset: aeon:Covid3Month\nnet: {input_size: 1, classes: 2}\n",
     "task is classify, dataset aeon:Covid3Month is a regression set (task: regress)"),
    ("dataset: aeon:Covid3Month\ntask: regress\nnet: {input_size: 1, classes: 2}\n",
     "net.classes is 2, dataset aeon:Covid3Month has 1 targets per sequence"),
    ("dataset: aeon:GunPoint\nnet: {input_size: 1, classes: 1}\n",
     "net.classes must be at least 2 for task classify, got 1"),
    ("task: forecast\n", "task must be one of classify, regress, got 'forecast'"),
    ("task: [regress]\n", "task must be one of classify, regress"),
])
def test_task_checked_against_the_dataset(tmp_path, text, line):
    path = _spec(tmp_path, text)
    with pytest.raises(HwgenError) as err:
        load_spec(str(path))
    assert str(err.value).startswith(f"{path}: {line}") and "\n" not in str(err.value)


def test_task_error_is_one_line_and_exit_2(tmp_path):
    path = _spec(tmp_path, "dataset: aeon:GunPoint\ntask: regress\nnet: {input_size: 1, "
                           "classes: 2}\n")
    done = run_hwgen("train", str(path), cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "task is regress, dataset aeon:GunPoint" in lines[0]


def test_npz_task_follows_y(tmp_path):
    np.savez(tmp_path / "r.npz", x=np.zeros((6, 3, 2)), y=np.linspace(0, 1, 12).reshape(6, 2))
    ok = load_spec(str(_spec(tmp_path, "dataset: {file: r.npz}\ntask: regress\n"
                                       "net: {input_size: 2, classes: 2}\n")))
    assert ok.task == "regress" and ok.to_dict()["task"] == "regress"
    with pytest.raises(HwgenError, match="task is classify, dataset .*r.npz is a regression"):
        load_spec(str(_spec(tmp_path, "dataset: {file: r.npz}\nnet: {input_size: 2, "
                                      "classes: 2}\n")))


def test_classify_keeps_its_training_hash(tmp_path):
    """Checkpoints trained before `task:` existed stay valid: classify adds nothing to the hash."""
    plain = load_spec(str(_spec(tmp_path, "net: {hidden_size: 4}\n")))
    explicit = load_spec(str(_spec(tmp_path, "task: classify\nnet: {hidden_size: 4}\n")))
    assert plain.training_hash() == explicit.training_hash()
