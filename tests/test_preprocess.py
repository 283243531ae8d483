"""Input preprocessing: the IR records the training set's standardization, design.json publishes
it, and `hwgen quantize-input` turns raw features into exactly the codes the flow feeds."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hwgen.codegen.rtl import emit_rtl
from hwgen.ir.graph import Preprocess
from hwgen.ir.store import load_ir, save_ir
from hwgen.qat.data import load_dataset, preprocess_of, raw_sequences
from hwgen.sim.design import load_design, quantize_inputs
from hwgen.types import HwgenError
from ir_fixtures import load_fixture
from test_cli_errors import assert_one_error_line, hwgen_inprocess  # noqa: F401  (a fixture)


@pytest.fixture(scope="module")
def vowels():
    return load_dataset("japanese_vowels")


@pytest.fixture(scope="module")
def design(vowels, tmp_path_factory):
    """The lstm_head fixture (12 inputs, as JapaneseVowels) with JapaneseVowels' standardization,
    saved, loaded back and emitted."""
    pre = preprocess_of(vowels)
    ir = dataclasses.replace(load_fixture("lstm_head"), preprocess=Preprocess(pre["mean"],
                                                                              pre["std"]))
    folder = tmp_path_factory.mktemp("pre")
    save_ir(ir, folder / "ir")
    back = load_ir(folder / "ir")
    assert back.preprocess == ir.preprocess and back.dump() == ir.dump()
    emit_rtl(back, folder, "m")
    return folder


def test_design_json_publishes_the_standardization(design, vowels):
    pre = json.loads((design / "rtl" / "design.json").read_text())["preprocess"]
    assert pre["mean"] == [float(v) for v in vowels.mean]
    assert pre["std"] == [float(v) for v in vowels.std]


def test_quantize_input_gives_the_codes_the_flow_feeds(design, vowels, tmp_path, hwgen_inprocess):
    raw = raw_sequences("japanese_vowels", "test")
    assert len(raw) == len(vowels.test.x) == 370
    want_design = load_design(design / "rtl")
    for k in (0, 7, 369):
        np.save(tmp_path / "raw.npy", raw[k])
        run = hwgen_inprocess("quantize-input", design, tmp_path / "raw.npy", tmp_path / "c.npy")
        assert run.returncode == 0, run.stderr
        codes = np.load(tmp_path / "c.npy")
        assert codes.dtype == np.int64
        assert np.array_equal(codes, quantize_inputs(vowels.test.x[k], want_design)), k
    # a batch [N, T, C] of equal-length raw sequences, from the rtl/ folder itself
    same = [s for s in raw if len(s) == len(raw[0])][:4]
    np.save(tmp_path / "batch.npy", np.stack(same))
    run = hwgen_inprocess("quantize-input", design / "rtl", tmp_path / "batch.npy",
                          tmp_path / "b.npy")
    assert run.returncode == 0, run.stderr
    index = [i for i, s in enumerate(raw) if len(s) == len(raw[0])][:4]
    want = np.stack([quantize_inputs(vowels.test.x[i], want_design) for i in index])
    assert np.array_equal(np.load(tmp_path / "b.npy"), want)


def test_quantize_input_refuses_bad_input(design, tmp_path, hwgen_inprocess):
    np.save(tmp_path / "wide.npy", np.zeros((3, 13)))
    assert_one_error_line(hwgen_inprocess("quantize-input", design, tmp_path / "wide.npy",
                                          tmp_path / "o.npy"), "raw input", "[3, 13]")
    assert_one_error_line(hwgen_inprocess("quantize-input", tmp_path, tmp_path / "wide.npy",
                                          tmp_path / "o.npy"), str(tmp_path), "design.json")
    bare = tmp_path / "bare"
    emit_rtl(load_fixture("lstm_head"), bare, "m")  # from a QONNX file alone: no preprocess
    np.save(tmp_path / "ok.npy", np.zeros((3, 12)))
    assert_one_error_line(hwgen_inprocess("quantize-input", bare, tmp_path / "ok.npy",
                                          tmp_path / "o.npy"), "records no preprocessing")
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("mean, std, words", [
    ([0.0, 1.0], [1.0], "2 means for 1 standard deviations"),
    ([0.0], [0.0], "deviations positive"),
    ([float("nan")], [1.0], "finite"),
    (["a"], [1.0], "mean must hold numbers"),
    ([], [], "0 means"),
])
def test_preprocess_checks_itself(mean, std, words):
    with pytest.raises(HwgenError, match=words):
        Preprocess(mean, std)


def test_the_ir_refuses_a_preprocess_of_another_width():
    with pytest.raises(HwgenError, match="preprocess over 3 features, the model takes 12"):
        dataclasses.replace(load_fixture("lstm_head"), preprocess=Preprocess([0.0] * 3, [1.0] * 3))
