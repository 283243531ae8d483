"""hwgen.spec: the shipped specs load; every bad spec file is one HwgenError naming file and key."""
from dataclasses import replace

import pytest

from hwgen.spec import MODELS_DIR, load_spec
from hwgen.types import HwgenError

LSTM4B = (MODELS_DIR / "lstm4b.yaml").read_text()


@pytest.mark.parametrize("name, weight, head", [("lstm4b", 4, 4), ("lstm8b", 8, 8)])
def test_shipped_specs_load(name, weight, head):
    spec = load_spec(name)
    assert spec.name == name and spec.dataset == "japanese_vowels"
    assert (spec.bits.weight, spec.bits.head, spec.bits.bias) == (weight, head, 16)
    assert (spec.net.input_size, spec.net.hidden_size, spec.net.classes) == (12, 32, 9)
    assert load_spec(str(MODELS_DIR / f"{name}.yaml")) == spec


def test_stack_specs_load():
    bi2, rnn = load_spec("lstm_bi2"), load_spec("rnn4b")
    assert (bi2.net.num_layers, bi2.net.bidirectional, bi2.net.cell) == (2, True, "lstm")
    assert bi2.folding.max_steps >= 29  # JapaneseVowels' longest test sequence
    assert (rnn.net.cell, rnn.net.nonlinearity, rnn.net.bidirectional) == ("rnn", "tanh", False)


def _write(tmp_path, text: str, name: str = "model.yaml"):
    """Return the path of a spec file holding text."""
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_fill_missing_sections(tmp_path):
    spec = load_spec(str(_write(tmp_path, "net:\n  hidden_size: 8\n")))
    assert spec.net.hidden_size == 8 and spec.bits.weight == 8 and spec.folding.pe == 0
    assert spec.folding.multipliers == "auto"
    assert spec.folding.lanes == 0
    assert spec.folding.clock_mhz == 100.0
    assert load_spec(str(_write(tmp_path, "folding:\n  clock_mhz: 150\n"))).folding.clock_mhz \
        == 150.0


@pytest.mark.parametrize("choice", ["auto", "lut", "dsp"])
def test_multipliers_choice_is_read(tmp_path, choice):
    spec = load_spec(str(_write(tmp_path, f"folding:\n  multipliers: {choice}\n")))
    assert spec.folding.multipliers == choice


# Each case: spec text and the key the one-line message must name.
BAD = {
    "unknown_top_key": ("net:\n  hidden_size: 8\nfoldng:\n  pe: 2\n", "foldng"),
    "unknown_bits_key": ("bits:\n  weight: 4\n  wieght: 3\n", "bits.wieght"),
    "unknown_train_key": ("train:\n  epochs: 3\n", "train.epochs"),
    "unknown_net_key": ("net:\n  layers: 1\n", "net.layers"),
    "unknown_folding_key": ("folding:\n  pes: 2\n", "folding.pes"),
    "bits_string": ("bits:\n  weight: four\n", "bits.weight"),
    "sweep_bits_scalar": ("sweep:\n  bits: 4\n", "sweep.bits"),
    "sweep_bits_repeated": ("sweep:\n  bits: [4, 4]\n", "sweep.bits"),
    "sweep_bits_too_narrow": ("sweep:\n  bits: [1, 4]\n", "sweep.bits"),
    "sweep_vary_number": ("sweep:\n  vary: 3\n", "sweep.vary"),
    "unknown_sweep_key": ("sweep:\n  width: [4]\n", "sweep.width"),
    "bits_float": ("bits:\n  io: 8.0\n", "bits.io"),
    "bits_bool": ("bits:\n  tanh: true\n", "bits.tanh"),
    "bits_too_wide": ("bits:\n  weight: 40\n", "bits.weight"),
    "bits_too_narrow": ("bits:\n  sigmoid: 1\n", "bits.sigmoid"),
    "bits_negative": ("bits:\n  head: -4\n", "bits.head"),
    "section_not_mapping": ("bits: 8\n", "bits"),
    "nine_layers": ("net:\n  num_layers: 9\n", "net.num_layers"),
    "cell_unknown": ("net:\n  cell: mingru\n", "net.cell"),
    "bidirectional_string": ("net:\n  bidirectional: yes please\n", "net.bidirectional"),
    "bias_number": ("net:\n  bias: 1\n", "net.bias"),
    "rnn_cifg": ("net:\n  cell: rnn\n  cifg: true\n", "net.cifg"),
    "lstm_relu": ("net:\n  nonlinearity: relu\n", "net.nonlinearity"),
    "shared_w_unidirectional": ("net:\n  shared_input_hidden_weights: true\n",
                                "net.shared_input_hidden_weights"),
    "max_steps_zero": ("folding:\n  max_steps: 0\n", "folding.max_steps"),
    "multipliers_unknown": ("folding:\n  multipliers: dsp48\n", "folding.multipliers"),
    "multipliers_number": ("folding:\n  multipliers: 1\n", "folding.multipliers"),
    "lanes_not_dividing_hidden": ("net:\n  hidden_size: 8\nfolding:\n  lanes: 3\n",
                                  "folding.lanes=3"),
    "lanes_negative": ("folding:\n  lanes: -2\n", "folding.lanes"),
    "clock_zero": ("folding:\n  clock_mhz: 0\n", "folding.clock_mhz"),
    "clock_too_high": ("folding:\n  clock_mhz: 5000\n",
                       "folding.clock_mhz must be a positive number up to 1000, got 5000"),
    "clock_text": ("folding:\n  clock_mhz: fast\n", "folding.clock_mhz"),
    "lr_zero": ("train:\n  lr: 0\n", "train.lr"),
    "unknown_dataset": ("dataset: mnist\n", "dataset 'mnist'"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_spec_names_file_and_key(tmp_path, case):
    text, key = BAD[case]
    path = _write(tmp_path, text)
    with pytest.raises(HwgenError) as info:
        load_spec(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: ") and key in message and "\n" not in message


@pytest.mark.parametrize("text, detail", [
    ("bits:\n  weight: [4, 8\n", "line 3"),
    ("net: {hidden_size: 8\n", "line 2"),
    ("bits:\n\tweight: 4\n", "line 2"),
], ids=["open_list", "open_map", "tab"])
def test_invalid_yaml_names_file_and_line(tmp_path, text, detail):
    path = _write(tmp_path, text)
    with pytest.raises(HwgenError, match="not valid YAML") as info:
        load_spec(str(path))
    message = str(info.value)
    assert message.startswith(str(path)) and detail in message and "\n" not in message


@pytest.mark.parametrize("text", ["- bits\n- net\n", "just words\n", "", "42\n"],
                         ids=["list", "string", "empty", "number"])
def test_non_mapping_file_names_file(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(HwgenError, match="must be a mapping") as info:
        load_spec(str(path))
    assert str(info.value).startswith(f"{path}: ")


def test_missing_spec_file_and_unknown_model(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(HwgenError, match=f"^{missing}: no such spec file$"):
        load_spec(str(missing))
    with pytest.raises(HwgenError, match=r"unknown model 'no_such_model' \(models/ has: .*lstm4b"):
        load_spec("no_such_model")


def test_training_hash_follows_bits_not_folding(tmp_path):
    base = load_spec("lstm4b")
    copy = load_spec(str(_write(tmp_path, LSTM4B, "other_name.yaml")))
    assert copy.training_hash() == base.training_hash()  # name and path do not matter
    folded = load_spec(str(_write(tmp_path, LSTM4B.replace("pe: 16", "pe: 4"), "folded.yaml")))
    assert folded.folding.pe == 4
    assert folded.training_hash() == base.training_hash()
    wider = load_spec(str(_write(tmp_path, LSTM4B.replace("weight: 4", "weight: 5"), "w5.yaml")))
    assert wider.bits.weight == 5
    assert wider.training_hash() != base.training_hash()
    for field in ("io", "cell_state", "head", "sigmoid"):
        bits = replace(base.bits, **{field: getattr(base.bits, field) + 1})
        assert replace(base, bits=bits).training_hash() != base.training_hash(), field


def test_duplicate_key_and_infinite_rate_are_refused(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("bits:\n  weight: 4\n  weight: 9\n")
    with pytest.raises(HwgenError, match=r"dup\.yaml.*weight.*twice"):
        load_spec(str(dup))
    inf = tmp_path / "inf.yaml"
    inf.write_text("train:\n  lr: .inf\n")
    with pytest.raises(HwgenError, match=r"inf\.yaml.*train\.lr"):
        load_spec(str(inf))
