"""task: next_token: the pydoc_chars corpus (recomputed here from pydoc_data.topics with plain
Python), the spec keys and their one-line errors, the figures (against PyTorch's cross-entropy),
the embedding in the quantized and float models, and running chunks with carried state."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from hwgen.spec import Bits, Net, load_spec
from hwgen.types import HwgenError
from tests.hwgen_cli import run_hwgen

CHARLM = """\
dataset: pydoc_chars
task: next_token
net: {{embedding: 4, hidden_size: 6, classes: 97{net}}}
bits: {{weight: 4, io: 5, head: 4}}
train: {{float_epochs: 1, qat_epochs: 1, batch_size: 512}}
"""


def _spec(tmp_path, text: str, name: str = "m.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _expected_streams():
    """Return the (train, test) token streams of the corpus as hwgen.qat.chars documents it,
    computed with a dict and string joins."""
    from pydoc_data.topics import topics

    names = sorted(topics)
    vocab = {"\n": 0, **{chr(c): c - 31 for c in range(32, 127)}}
    parts = ([topics[n] for k, n in enumerate(names) if k % 5 != 4],
             [topics[n] for k, n in enumerate(names) if k % 5 == 4])
    texts = ("\n".join(parts[0])[:131072 + 1], "\n".join(parts[1])[:32768 + 1])
    return tuple(np.array([vocab.get(ch, 96) for ch in t]) for t in texts)


def test_corpus_chunks_and_vocabulary():
    from hwgen.qat.data import load_dataset, preprocess_of

    data = load_dataset("pydoc_chars")
    assert (data.task, data.classes, data.features) == ("next_token", 97, 1)
    assert data.labels[0] == "\n" and data.labels[1] == " " and data.labels[95] == "~"
    assert len(data.labels) == 97 and preprocess_of(data) == {"vocab": list(data.labels)}
    for part, stream in zip((data.train, data.test), _expected_streams()):
        count = (len(stream) - 1) // 64
        assert len(part.x) == count and part.y.shape == (count, 64)
        assert all(x.dtype == np.int64 and x.shape == (64,) for x in part.x)
        assert np.array_equal(np.concatenate(part.x), stream[:count * 64])
        assert np.array_equal(part.y.reshape(-1), stream[1:count * 64 + 1])
    assert len(data.train.x) == 2048
    # the typographic quotes of the help texts are the unknown token
    assert (np.concatenate(data.train.x) == 96).any()


def test_token_batches_are_ids():
    from hwgen.qat.data import pad_batch

    x, lengths = pad_batch([np.array([5, 6, 7]), np.array([1, 2])])
    assert x.dtype == np.int64 and x.tolist() == [[5, 6, 7], [1, 2, 0]]
    assert lengths.tolist() == [3, 2]


@pytest.mark.parametrize("text, line", [
    ("dataset: pydoc_chars\ntask: next_token\nnet: {hidden_size: 8, classes: 97}\n",
     "task next_token needs net.embedding"),
    ("dataset: pydoc_chars\nnet: {embedding: 4, classes: 97}\n",
     "net.embedding applies to task next_token only (task is classify)"),
    ("dataset: pydoc_chars\ntask: next_token\nnet: {embedding: 4, classes: 90}\n",
     "net.classes is 90, dataset pydoc_chars has 97 tokens"),
    ("dataset: pydoc_chars\ntask: next_token\nnet: {embedding: 4, input_size: 5, classes: 97}\n",
     "net.input_size is 5, but with net.embedding the first layer takes the 4"),
    ("dataset: pydoc_chars\ntask: next_token\n"
     "net: {embedding: 4, classes: 97, bidirectional: true}\n",
     "task next_token needs net.bidirectional: false"),
    ("task: next_token\nnet: {embedding: 4, classes: 9}\n",
     "task is next_token, dataset japanese_vowels is a classification set"),
    ("dataset: pydoc_chars\nnet: {classes: 97}\n",
     "task is classify, dataset pydoc_chars is a character corpus (task: next_token)"),
    ("dataset: pydoc_chars\ntask: next_token\nnet: {embedding: -1, classes: 97}\n",
     "net.embedding must be in 0..4096"),
])
def test_spec_errors(tmp_path, text, line):
    path = _spec(tmp_path, text)
    with pytest.raises(HwgenError) as err:
        load_spec(str(path))
    assert str(err.value).startswith(f"{path}: {line}") and "\n" not in str(err.value)


def test_spec_error_exits_2(tmp_path):
    path = _spec(tmp_path, "dataset: pydoc_chars\ntask: next_token\nnet: {classes: 97}\n")
    done = run_hwgen("train", str(path), cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "task next_token needs net.embedding" in lines[0]


def test_spec_embedding_is_the_input_size_and_keeps_old_hashes(tmp_path):
    spec = load_spec(str(_spec(tmp_path, CHARLM.format(net=""))))
    assert (spec.net.embedding, spec.net.input_size, spec.task) == (4, 4, "next_token")
    assert "embedding" not in load_spec("lstm4b").to_dict()["net"]
    assert spec.to_dict()["net"]["embedding"] == 4


def test_token_metrics_against_cross_entropy():
    from hwgen.qat.task import token_metrics

    rng = np.random.default_rng(1)
    scores = rng.normal(size=(500, 97)) * 3
    targets = rng.integers(0, 97, 500)
    got = token_metrics(scores.astype(np.float32), targets)
    nats = torch.nn.functional.cross_entropy(torch.tensor(scores.astype(np.float32),
                                                          dtype=torch.float64),
                                             torch.tensor(targets)).item()
    assert got["bpc"] == pytest.approx(nats / math.log(2), rel=1e-12)
    assert got["perplexity"] == pytest.approx(math.exp(nats), rel=1e-12)
    hits = sum(int(np.argmax(s) == t) for s, t in zip(scores.astype(np.float32), targets))
    assert got["accuracy"] == hits / 500
    uniform = token_metrics(np.zeros((4, 97)), np.array([0, 5, 9, 96]))
    assert uniform["bpc"] == pytest.approx(math.log2(97), rel=1e-12)
    assert uniform["accuracy"] == 0.25  # the first highest score is token 0


def _quant(cell: str, layers: int, vocab: int = 11, dim: int = 6):
    from hwgen.qat.model import QuantClassifier

    net = Net(input_size=dim, hidden_size=8, classes=vocab, cell=cell, num_layers=layers,
              embedding=dim)
    model = QuantClassifier(dim, 8, vocab, Bits(io=5, weight=5).lstm(), 6, net, per_step=True,
                            embedding=(vocab, dim, 5))
    model.train()
    for _ in range(3):  # the activation quantizers take their ranges from training batches
        model(torch.randint(0, vocab, (4, 12)))
    return model.eval()


@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("lstm", 2), ("rnn", 2), ("gru", 1)])
def test_chunks_with_carried_state_equal_one_run(cell, layers):
    torch.manual_seed(layers)
    model = _quant(cell, layers)
    x = torch.randint(0, 11, (3, 23))
    with torch.no_grad():
        whole = model(x)
        first, state = model.forward_state(x[:, :10])
        second, _ = model.forward_state(x[:, 10:], state)
        cold, _ = model.forward_state(x[:, 10:])
    assert torch.equal(torch.cat([first, second], dim=1), whole)
    assert not torch.equal(cold, second)  # the carried state matters


def test_embedding_table_width_and_float_copy(tmp_path):
    from hwgen.qat.model import build_float, build_quant, load_float_into_quant

    spec = load_spec(str(_spec(tmp_path, CHARLM.format(net=""))))
    quant, floating = build_quant(spec), build_float(spec)
    assert int(quant.embedding.quant_weight().bit_width) == 5  # bits.io
    assert tuple(floating.embedding.weight.shape) == (97, 4)
    load_float_into_quant(quant, floating)
    assert torch.equal(quant.embedding.weight, floating.embedding.weight)
    out = floating(torch.randint(0, 97, (2, 9)))
    assert tuple(out.shape) == (2, 9, 97)


def test_stateful_outputs_run_each_lane_as_one_stream():
    """stateful_outputs deals consecutive chunks into lanes; each lane's scores equal one
    forward over that lane's chunks joined."""
    from hwgen.qat.data import SequenceSet
    from hwgen.qat.train import stateful_outputs

    torch.manual_seed(3)
    model = _quant("lstm", 1)
    stream = np.random.default_rng(0).integers(0, 11, 11 * 5 + 1)
    xs = [stream[i * 5:(i + 1) * 5] for i in range(11)]
    seqs = SequenceSet(xs, np.stack([stream[i * 5 + 1:(i + 1) * 5 + 1] for i in range(11)]))
    got = stateful_outputs(model, seqs, lanes=4)  # runs of 3 chunks: 0-2, 3-5, 6-8, 9-10
    for first, last in ((0, 3), (3, 6), (6, 9), (9, 11)):
        with torch.no_grad():
            want = model(torch.from_numpy(stream[first * 5:last * 5])[None])[0]
        assert np.array_equal(got[first:last].reshape(-1, 11), want.numpy())


def _lane_bpc(model, seqs, lanes: int) -> float:
    """Return the BPC of model on consecutive chunks dealt into `lanes` runs, each run joined
    into one sequence and run in one forward, scored with PyTorch's cross-entropy."""
    count, steps = len(seqs.x), len(seqs.x[0])
    run = -(-count // lanes)
    nats, total = 0.0, 0
    for first in range(0, count, run):
        last = min(first + run, count)
        x = torch.from_numpy(np.concatenate(seqs.x[first:last]))[None]
        y = torch.from_numpy(seqs.y[first:last].reshape(-1))
        with torch.no_grad():
            scores = model(x)[0].double()
        nats += torch.nn.functional.cross_entropy(scores, y, reduction="sum").item()
        total += (last - first) * steps
    return nats / total / math.log(2)


def test_compare_prints_bpc_of_each_model(tmp_path, capsys):
    """`hwgen compare` of a tiny language model: next-character accuracies, BPC / perplexity of
    float, PyTorch dynamic int8, PTQ and QAT, and stateful BPC; the float model's figures
    recomputed here from the saved float checkpoint."""
    import csv

    from hwgen.flow import load_checkpoint
    from hwgen.qat.data import load_dataset
    from hwgen.qat.model import build_float
    from hwgen.sweep.compare import compare

    path = _spec(tmp_path, CHARLM.format(net=""), "tiny_lm.yaml")
    done = compare(str(path), bits=(4,), finetune_epochs=1, out=str(tmp_path / "cmp"))
    row = done["rows"][0]
    for model in ("float", "torch_int8", "torch_weights", "calibrated", "finetuned"):
        assert 0 < row[f"bpc_{model}"] < 8, model
        assert row[f"ppl_{model}"] == pytest.approx(2 ** row[f"bpc_{model}"])
    assert all(0 < row[f"stateful_bpc_{m}"] < 8 for m in ("float", "torch_int8", "finetuned"))
    spec, data = load_spec(str(path)), load_dataset("pydoc_chars")
    floating = build_float(spec)
    floating.load_state_dict(load_checkpoint(tmp_path / "cmp" / "float.pt")["float"])
    floating.eval()
    x = torch.from_numpy(np.stack(data.test.x))
    with torch.no_grad():
        scores = floating(x).double().reshape(-1, 97)
    nats = torch.nn.functional.cross_entropy(scores, torch.from_numpy(data.test.y.reshape(-1)))
    assert row["bpc_float"] == pytest.approx(nats.item() / math.log(2), rel=1e-9)
    assert row["acc_float"] == float(np.mean(
        scores.argmax(1).numpy() == data.test.y.reshape(-1)))
    assert row["stateful_bpc_float"] == pytest.approx(_lane_bpc(floating, data.test, 16),
                                                      rel=1e-6)
    printed = capsys.readouterr().out
    assert "Bits per character / perplexity" in printed and "hwgen QAT (fine-tuned)" in printed
    assert "state carried from chunk to chunk" in printed
    with open(done["paths"]["csv"], newline="") as f:
        got = list(csv.DictReader(f))
    assert float(got[0]["bpc_finetuned"]) == row["bpc_finetuned"]
    assert float(got[0]["stateful_bpc_torch_int8"]) == row["stateful_bpc_torch_int8"]


def test_train_and_export_token_model(tmp_path):
    """A tiny language model trains (its figures those of the flow's own scoring of the test
    chunks) and exports with token ids in: Gather on the quantized table, then the LSTM cell."""
    import onnx

    from hwgen.flow import quant_model, step_export, step_train, torch_scores
    from hwgen.qat.data import load_dataset
    from hwgen.qat.task import backend_metrics

    spec = load_spec(str(_spec(tmp_path, CHARLM.format(net=""), "tiny_lm.yaml")))
    spec = dataclasses.replace(spec, out=str(tmp_path / "build"))
    ckpt = step_train(spec)
    assert ckpt["task"] == "next_token" and set(ckpt["quant_metrics"]) == {
        "bpc", "perplexity", "accuracy"}
    assert ckpt["preprocess"]["vocab"][1] == " " and "mean" not in ckpt["preprocess"]
    test = load_dataset("pydoc_chars").test
    scores = torch_scores(quant_model(spec, ckpt), test.x)
    assert backend_metrics("next_token", scores, None, test, ckpt["preprocess"]) == \
        ckpt["quant_metrics"]
    proto = onnx.load(str(step_export(spec, ckpt)))
    ops = [n.op_type for n in proto.graph.node]
    assert "Gather" in ops and "QuantLSTMCell" in ops and ops.index("Gather") < ops.index(
        "QuantLSTMCell")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_report_table_of_a_language_model():
    from hwgen.report import quality_md

    figures = {"bpc": 2.5, "perplexity": 2 ** 2.5, "accuracy": 0.5}
    lines = quality_md({"task": "next_token", "metrics": {"quantized": figures, "rtl": figures}})
    assert "| | BPC | perplexity | next-character accuracy |" in lines
    assert "| rtl | 2.5000 | 5.657 | 50.00 % |" in lines
