"""Token-input models (quant_embedding -> LSTM, RNN or GRU): the QONNX export runs on the integer
reference exactly as the PyTorch model computes it, and the IR (the table re-quantized once to
the first layer's io type, then a lookup) gives the same codes.

Random configurations: every width 2..8, vocab 2..80, dim 1..32, hidden 1..16, 1-2 layers.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from embed_cases import random_embed_case, trained_token_model
from hwgen.ir.graph import execute
from hwgen.ir.store import load_ir, save_ir
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model
from hwgen.passes.lower import lower
from hwgen.qat.export import export_model
from hwgen.types import HwgenError

SEEDS = list(range(7000, 7040))


def _exported(case, tmp_path):
    model, tokens = trained_token_model(case)
    export_model(model, tokens, tmp_path / "m.onnx")
    return model, tokens, load_model(tmp_path / "m.onnx")


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_qonnx_and_ir_equal_pytorch(seed, tmp_path):
    case = random_embed_case(seed)
    model, tokens, graph = _exported(case, tmp_path)
    with torch.no_grad():
        want = model(tokens).numpy()
    got = run_reference(graph, tokens.numpy())
    assert np.array_equal(got, want), case.describe()
    ir = lower(graph)
    assert ir.embed is not None and ir.in_count == 1
    assert ir.input.type.width == max(1, (case.vocab - 1).bit_length())
    codes = execute(ir, tokens.numpy().T[..., None])["outputs"]  # [T, B, H]
    scale = np.float32(ir.out_type.scale)
    assert np.array_equal(np.swapaxes(codes, 0, 1).astype(np.float32) * scale, want), \
        case.describe()
    # a second sequence length than the export's example
    longer = torch.randint(0, case.vocab, (2, case.steps + 3))
    with torch.no_grad():
        assert np.array_equal(run_reference(graph, longer.numpy()), model(longer).numpy())


def test_table_io_is_the_layer_input_quantizer_of_each_row(tmp_path):
    """The IR's stored table equals Brevitas's own input quantizer applied to every row (taken
    from the PyTorch modules, not from hwgen's arithmetic)."""
    case = random_embed_case(7100)
    model, tokens, graph = _exported(case, tmp_path)
    ir = lower(graph)
    rows = torch.arange(case.vocab)[None, :]
    with torch.no_grad():
        emb = model.embed(rows)  # [1, V, D] float32 multiples of the table scale
        layer = model.rnn.layers[0][0]
        quant_x = layer.io_quant(emb)  # the layer's input quantizer
    want = (quant_x.value / quant_x.scale).round().to(torch.int64)[0].numpy()
    assert np.array_equal(ir.embed.table_io, want)
    assert ir.embed.table_io.shape == (case.vocab, case.dim)


def test_ir_round_trip_and_bad_tokens(tmp_path):
    case = random_embed_case(7101)
    _, tokens, graph = _exported(case, tmp_path)
    ir = lower(graph)
    save_ir(ir, tmp_path / "ir")
    back = load_ir(tmp_path / "ir")
    assert back.dump() == ir.dump()
    x = tokens.numpy().T[..., None]
    assert np.array_equal(execute(back, x)["outputs"], execute(ir, x)["outputs"])
    bad = x.copy()
    bad[0, 0, 0] = case.vocab
    with pytest.raises(HwgenError, match="outside"):
        execute(ir, bad)
    with pytest.raises(HwgenError, match="integers"):
        run_reference(graph, tokens.numpy() + 0.5)
    for bad_id in (-1, case.vocab):
        ids = tokens.numpy().copy()
        ids[0, -1] = bad_id
        with pytest.raises(HwgenError, match="outside"):
            run_reference(graph, ids)
