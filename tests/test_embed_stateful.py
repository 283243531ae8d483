"""Stateful designs (LoweredModel.stateful, fold(stateful=True)): a stream fed as chunks carries
every direction's h and c from chunk to chunk, so the chunks' outputs are the whole stream's, and
the whole stream's are the PyTorch model's on it in one go."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from embed_cases import random_embed_case, trained_token_model
from hwgen.ir.graph import execute, execute_chunks
from hwgen.ir.store import load_ir, save_ir
from hwgen.onnx.graph import load_model
from hwgen.passes.fold import fold
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.types import HwgenError

SEEDS = list(range(7200, 7210))


def _split(rng, steps: int) -> list:
    """Return random chunk boundaries [0, ..., steps] (chunks of 1 or more steps)."""
    cuts = sorted(rng.choice(np.arange(1, steps), size=rng.integers(1, min(5, steps)),
                             replace=False).tolist()) if steps > 1 else []
    return [0] + cuts + [steps]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_chunks_carry_the_state_of_the_whole_stream(seed, tmp_path):
    case = replace(random_embed_case(seed), steps=12, batch=2)
    model, tokens = trained_token_model(case)
    export_model(model, tokens, tmp_path / "m.onnx")
    ir = fold(lower(load_model(tmp_path / "m.onnx")), stateful=True)
    x = tokens.numpy().T[..., None]  # [T, B, 1]
    bounds = _split(np.random.default_rng(seed), len(x))
    chunks = [x[a:b] for a, b in zip(bounds, bounds[1:])]
    got = np.concatenate([r["outputs"] for r in execute_chunks(ir, chunks)])
    with torch.no_grad():  # PyTorch on the whole stream in one go
        want = np.swapaxes(model(tokens).numpy(), 0, 1)
    assert np.array_equal(got.astype(np.float32) * np.float32(ir.out_type.scale), want), \
        case.describe()
    # clearing before every chunk gives each chunk on its own (the hardware's rst)
    fresh = execute_chunks(ir, chunks, [True] * len(chunks))
    for chunk, r in zip(chunks, fresh):
        assert np.array_equal(r["outputs"], execute(ir, chunk)["outputs"])


def test_stateful_is_saved_and_checked(tmp_path):
    case = replace(random_embed_case(7220), cell="lstm", layers=1, steps=8)
    model, tokens = trained_token_model(case)
    export_model(model, tokens, tmp_path / "m.onnx")
    plain = lower(load_model(tmp_path / "m.onnx"))
    ir = fold(plain, stateful=True)
    assert "stateful" in ir.dump() and "stateful" not in plain.dump()
    save_ir(ir, tmp_path / "ir")
    assert load_ir(tmp_path / "ir").stateful
    x = tokens.numpy().T[..., None]
    with pytest.raises(HwgenError, match="stateful"):
        execute_chunks(plain, [x])
    # two chunks differ from the stream when the state is not carried (the test can fail)
    chunks = [x[:3], x[3:]]
    carried = execute_chunks(ir, chunks)[1]["outputs"]
    assert not np.array_equal(carried, execute(ir, chunks[1])["outputs"])


def test_stateful_refuses_a_reverse_direction(tmp_path):
    from hwgen.qat.model import LSTMWidths, quant_lstm

    lstm = quant_lstm(3, 4, LSTMWidths(), bidirectional=True).eval()
    export_model(lstm, torch.randn(1, 4, 3), tmp_path / "b.onnx")
    with pytest.raises(HwgenError, match="stateful"):
        fold(lower(load_model(tmp_path / "b.onnx")), max_steps=4, stateful=True)
