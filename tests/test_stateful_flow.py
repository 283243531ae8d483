"""folding.stateful through the flow: a tiny language model's test chunks run as one stream on
the int64 reference, the quantized PyTorch model (state carried chunk to chunk, zero at the start
only), the testbench's expected outputs and the HLS C simulation, all compared with ==; and the
key's one-line errors where state cannot carry."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwgen.qat.data import SequenceSet
from hwgen.spec import load_spec
from hwgen.types import HwgenError, VerificationError

CHUNKS = 12  # test chunks streamed (of 483)
TINY = """\
dataset: pydoc_chars
task: next_token
net: {{embedding: 4, hidden_size: 6, classes: 97{net}}}
bits: {{weight: 4, io: 5, head: 4}}
train: {{float_epochs: 1, qat_epochs: 1, batch_size: 512}}
folding: {{stateful: true{folding}}}
"""


def _load(tmp_path, net: str = "", folding: str = ""):
    path = tmp_path / "tiny_lm.yaml"
    path.write_text(TINY.format(net=net, folding=folding))
    return load_spec(str(path))


def test_stateful_refuses_interleave(tmp_path):
    with pytest.raises(HwgenError, match=r"folding\.stateful needs task next_token or per_step"):
        _load(tmp_path, folding=", interleave: 2")


def test_stateful_key_must_be_a_flag(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(TINY.format(net="", folding="").replace("stateful: true", "stateful: 1"))
    with pytest.raises(HwgenError, match=r"folding\.stateful must be true or false"):
        load_spec(str(path))


def _expected_codes(tb_dir, ir) -> np.ndarray:
    """Return the score codes [transfers, K] written in the testbench's expected.hex."""
    width, count = ir.out_type.width, ir.out_count
    words = [int(line, 16) for line in (tb_dir / "expected.hex").read_text().split()]
    codes = np.array([[(w >> (k * width)) & ((1 << width) - 1) for k in range(count)]
                      for w in words], dtype=np.int64)
    return np.where(codes >= 1 << (width - 1), codes - (1 << width), codes)


def test_stateful_flow_compares_the_stream(tmp_path):
    from hwgen.cost import cost
    from hwgen.flow import Build, backend_figures, reference_codes, run_flow, step_range, verify
    from hwgen.ir.store import load_ir

    spec = _load(tmp_path)
    spec = dataclasses.replace(spec, out=str(tmp_path / "build"))
    b = Build(spec, tb_sequences=3)
    full = b.test_set()
    b.test = SequenceSet(full.x[:CHUNKS], full.y[:CHUNKS])  # the stream's first chunks
    run_flow(b, step_range("train", "sim_hls"), skip=("sim_rtl",))
    verify(b)  # reference and HLS == the stateful PyTorch run (scores and figures)
    ref, hls = b.results["reference"], b.results["sim_hls"]
    assert ref["mismatches"] == 0 and hls["mismatches"] == 0
    assert ref["metrics"] == ref["quant_metrics"] == hls["metrics"]
    ir = b.ir()
    assert ir.stateful
    test = b.test_set().x
    stream = reference_codes(ir, test)
    zero = reference_codes(dataclasses.replace(ir, stateful=False), test)
    # the first chunk starts from zero either way; later chunks start from the carried state
    assert np.array_equal(stream[0], zero[0]) and not np.array_equal(stream[1:], zero[1:])
    saved = np.load(b.path("reference.npy")) / np.float32(2.0 ** ir.out_type.exp)
    assert np.array_equal(saved, stream)
    # the testbench's expected outputs: the first three chunks of the stream, in order
    got = _expected_codes(b.path("rtl") / "tb", load_ir(b.path("ir")))
    assert np.array_equal(got, stream[:3].reshape(-1, ir.out_count))
    # figures of a zero-state run are not what the stateful backends must give
    zero_figures = backend_figures(
        b, list(zero.astype(np.float32) * np.float32(2.0 ** ir.out_type.exp)), None)
    assert zero_figures != ref["metrics"]
    b.results["sim_hls"] = {**hls, "metrics": zero_figures}
    with pytest.raises(VerificationError, match="HLS C simulation differs"):
        verify(b)
    # the cost model counts the embedding table
    assert cost(ir)["stages"]["embed"]["LUT"] > 0


def test_api_design_runs_chunks_as_one_stream(tmp_path):
    """hwgen.build(..., stateful=True) on a saved token IR: its reference carries the state."""
    import hwgen
    from hwgen.ir.graph import execute, execute_chunks
    from embed_cases import random_embed_case, trained_token_model
    from hwgen.qat.export import export_model

    case = dataclasses.replace(random_embed_case(7235), cell="lstm", layers=1, steps=10, batch=1)
    model, tokens = trained_token_model(case)
    export_model(model, tokens, tmp_path / "m.onnx")
    design = hwgen.build(tmp_path / "m.onnx", out=tmp_path / "d", stateful=True)
    assert design.ir.stateful
    ids = tokens.numpy()[0].astype(np.float32)[:, None]  # [T, 1]: one token id per step
    chunks = [ids[:3], ids[3:4], ids[4:]]
    got = np.concatenate(design.run(chunks, "reference").codes)
    whole = execute(dataclasses.replace(design.ir, stateful=False),
                    tokens.numpy().T[..., None])["outputs"][:, 0]
    assert np.array_equal(got, whole)
    codes = [c.astype(np.int64)[:, None, :] for c in chunks]
    assert np.array_equal(got, np.concatenate([r["outputs"][:, 0] for r in execute_chunks(
        design.ir, codes)]))
    # from zero state, the later chunks differ (the comparison can fail)
    fresh = hwgen.build(tmp_path / "m.onnx", out=tmp_path / "z").run(chunks, "reference").codes
    assert not np.array_equal(np.concatenate(fresh), got)


def test_report_table_of_a_stateful_language_model():
    from hwgen.report import STATE_CARRIED, quality_md, quality

    zero = {"bpc": 2.75, "perplexity": 2 ** 2.75, "accuracy": 0.5}
    carried = {"bpc": 2.5, "perplexity": 2 ** 2.5, "accuracy": 0.5}
    ckpt = {"task": "next_token", "float_metrics": zero, "quant_metrics": zero}
    ref = {"metrics": carried, "quant_metrics": carried}
    table = quality(ckpt, ref, {"metrics": carried}, {"metrics": carried})
    assert table["metrics"][STATE_CARRIED] == carried and table["metrics"]["quantized"] == zero
    lines = quality_md({"task": "next_token", **table})
    assert "the state carried from chunk to chunk" in lines[0]
    assert f"| {STATE_CARRIED} | 2.5000 | 5.657 | 50.00 % |" in lines
    plain = quality(ckpt, {"metrics": zero}, {"metrics": zero}, {"metrics": zero})
    assert STATE_CARRIED not in plain["metrics"]
    assert "each chunk from zero state." in quality_md({"task": "next_token", **plain})[0]
