"""Spec `cell: gru`: models/gru4b.yaml loads, GRU-inapplicable options are refused, the folding
check counts three gates, and the spec builds a QuantGRU (the bits' accumulator keys mapped) with
an nn.GRU float twin whose weights load into it."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from hwgen.qat.gru import QuantGRU
from hwgen.qat.model import build_float, build_quant, load_float_into_quant
from hwgen.spec import MODELS_DIR, check_folding_fits, load_spec
from hwgen.types import HwgenError


def _spec(tmp_path, extra: str = "", folding: str = ""):
    path = tmp_path / "g.yaml"
    path.write_text("net:\n  input_size: 12\n  hidden_size: 4\n  classes: 9\n  cell: gru\n" + extra
                    + ("folding:\n" + folding if folding else ""))
    return load_spec(str(path))


def test_gru4b_loads():
    spec = load_spec("gru4b")
    assert (spec.net.cell, spec.net.hidden_size, spec.bits.weight) == ("gru", 32, 4)
    assert load_spec(str(MODELS_DIR / "gru4b.yaml")) == spec
    check_folding_fits(spec)


@pytest.mark.parametrize("key", ["cifg", "per_channel_weights", "shared_intra_layer_weight_quant"])
def test_gru_refuses_lstm_options(key, tmp_path):
    with pytest.raises(HwgenError, match=rf"net\.{key} is not available with net\.cell: gru"):
        _spec(tmp_path, f"  {key}: true\n")


def test_gru_folding_counts_three_gates(tmp_path):
    check_folding_fits(_spec(tmp_path, folding="  pe: 12\n"))  # 3 x 4 rows
    with pytest.raises(HwgenError, match="PE=8 does not divide the 12 gate rows"):
        check_folding_fits(_spec(tmp_path, folding="  pe: 8\n"))


def test_gru_spec_builds_a_quant_gru_with_a_float_twin(tmp_path):
    spec = _spec(tmp_path, "bits:\n  input_acc: 5\n  forget_acc: 6\n  cell_acc: 7\n"
                           "  output_acc: 3\n")
    torch.manual_seed(0)
    quant, float_model = build_quant(spec), build_float(spec)
    assert isinstance(quant.lstm, QuantGRU) and isinstance(float_model.lstm, nn.GRU)
    widths = {name: q.bit_width().item() for name, q in _acc_quants(quant).items()}
    assert widths == {"reset_acc": 5, "update_acc": 6, "new_acc": 7, "hidden_acc": 3}
    load_float_into_quant(quant, float_model)
    layer = quant.lstm.layers[0][0]
    assert torch.equal(layer.new_gate_params.input_weight.weight,
                       float_model.lstm.weight_ih_l0[8:12])  # rows r, z, n of H = 4 each
    assert torch.equal(layer.new_gate_hidden_bias.bias, float_model.lstm.bias_hh_l0[8:12])
    out = quant.eval()(torch.randn(2, 5, 12))
    assert out.shape == (2, 9)


def _acc_quants(model) -> dict:
    """Return the first layer's accumulator quantizers by role (found by attribute name)."""
    found = {}
    for name, module in model.lstm.named_modules():
        for role in ("reset_acc", "update_acc", "new_acc", "hidden_acc"):
            if name.endswith(f"{role}_quant") and role not in found:
                found[role] = module
    return found
