"""QuantGRU: float equivalence with nn.GRU, loading nn.GRU weights, training, export refusals, and
that the exactness comparison notices each detail of the integer reference."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from gru_cases import export_case, random_case, trained_model
from hwgen.onnx.execute import run_reference
from hwgen.onnx.graph import load_model, quant_info
from hwgen.onnx.gru_cell import GRU_CELL, QUANTIZERS, gru_params
from hwgen.qat.gru import GRUWidths, QuantGRU, load_float_gru
from hwgen.reference.gru import GRUGate, gru_layer
from hwgen.reference.luts import quantize_input
from hwgen.types import HwgenError, Rounding

FLOAT_CONFIGS = [  # (layers, bidirectional, batch_first, bias, with initial state)
    (1, False, True, True, False), (1, True, False, True, True), (2, False, False, False, False),
    (2, True, True, True, True), (2, True, False, False, True)]


@pytest.mark.parametrize("layers,bidirectional,batch_first,bias,with_state", FLOAT_CONFIGS)
def test_unquantized_forward_equals_nn_gru(layers, bidirectional, batch_first, bias, with_state):
    torch.manual_seed(layers * 10 + bidirectional)
    ref = torch.nn.GRU(6, 9, num_layers=layers, bias=bias, batch_first=batch_first,
                       bidirectional=bidirectional)
    model = QuantGRU(6, 9, num_layers=layers, bias=bias, batch_first=batch_first,
                     bidirectional=bidirectional, quantize=False)
    model.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn((4, 11, 6) if batch_first else (11, 4, 6)) * 2
    hx = torch.randn(layers * (1 + bidirectional), 4, 9) if with_state else None
    with torch.no_grad():
        want, want_h = ref(x, hx)
        got, got_h = model(x, hx)
    assert got.shape == want.shape and got_h.shape == want_h.shape
    # float tolerance: the two forwards sum in different orders
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got_h, want_h, rtol=1e-5, atol=1e-6)


def test_float_gru_weights_load_into_the_quantized_layer():
    torch.manual_seed(3)
    ref = torch.nn.GRU(5, 4, num_layers=2, bidirectional=True)
    model = QuantGRU(5, 4, num_layers=2, bidirectional=True)
    load_float_gru(model, ref)
    sd = ref.state_dict()
    for layer in range(2):
        for direction, suffix in enumerate(("", "_reverse")):
            cell = model.layers[layer][direction]
            w_ih, w_hh = sd[f"weight_ih_l{layer}{suffix}"], sd[f"weight_hh_l{layer}{suffix}"]
            b_ih, b_hh = sd[f"bias_ih_l{layer}{suffix}"], sd[f"bias_hh_l{layer}{suffix}"]
            for k, gate in enumerate(("reset", "update", "new")):
                params = getattr(cell, f"{gate}_gate_params")
                rows = slice(4 * k, 4 * (k + 1))
                assert torch.equal(params.input_weight.weight, w_ih[rows])
                assert torch.equal(params.hidden_weight.weight, w_hh[rows])
                want = b_ih[rows] if gate == "new" else b_ih[rows] + b_hh[rows]
                assert torch.equal(params.bias, want)
            assert torch.equal(cell.new_gate_hidden_bias.bias, b_hh[8:12])


def _weights_and_biases(model):
    """Return (name, parameter) of every weight and bias of every layer direction."""
    out = []
    for l, layer in enumerate(model.layers):
        for d, cell in enumerate(layer):
            for gate in ("reset", "update", "new"):
                g = getattr(cell, f"{gate}_gate_params")
                out += [(f"{l}.{d}.{gate}.w_ih", g.input_weight.weight),
                        (f"{l}.{d}.{gate}.w_hh", g.hidden_weight.weight),
                        (f"{l}.{d}.{gate}.b", g.bias)]
            out.append((f"{l}.{d}.b_hn", cell.new_gate_hidden_bias.bias))
    return out


def test_float_gru_of_another_shape_is_refused():
    with pytest.raises(HwgenError, match="does not fit"):
        load_float_gru(QuantGRU(5, 4), torch.nn.GRU(5, 6))
    with pytest.raises(HwgenError, match="does not fit"):
        load_float_gru(QuantGRU(5, 4), torch.nn.GRU(5, 4, bidirectional=True))


def test_training_reaches_every_weight_and_bias():
    model = QuantGRU(3, 5, num_layers=2, bidirectional=True, batch_first=True,
                     widths=GRUWidths(weight=4, io=5))
    model.train()
    out, h = model(torch.randn(2, 4, 3))
    (out.pow(2).mean() + h.pow(2).mean()).backward()
    for name, p in _weights_and_biases(model):
        assert p.grad is not None and torch.any(p.grad != 0), name


def test_quantized_outputs_lie_on_the_io_grid(tmp_path):
    case = random_case(3003)
    model, x = trained_model(case)
    with torch.no_grad():
        out, _ = model(x)
    scale = float(model.layers[0][0].io_quant.scale())
    codes = out.numpy() / scale
    assert np.array_equal(codes, np.rint(codes))
    assert int(np.abs(codes).max()) <= 2 ** (case.widths.io - 1)


def test_export_refuses_an_unquantized_layer(tmp_path):
    model = QuantGRU(3, 4, batch_first=True, quantize=False)
    with pytest.raises(Exception, match="disabled"):
        export_case(model, torch.randn(1, 2, 3), tmp_path / "float.onnx")


def test_node_layout_has_every_input():
    assert GRU_CELL.hidden_bias == GRU_CELL.bias(GRUGate.NEW) + 1
    assert GRU_CELL.quant(QUANTIZERS[0]) == GRU_CELL.hidden_bias + 1
    assert GRU_CELL.count == 2 + 3 * 3 + 1 + 3 * len(QUANTIZERS)


def test_reader_rejects_a_node_with_a_missing_input(tmp_path):
    case = dataclasses.replace(random_case(3001), num_layers=1, bidirectional=False)
    model, x = trained_model(case)
    graph = load_model(export_case(model, x, tmp_path / "g.onnx"))
    node = next(n for n in graph.graph.node if n.op_type == "QuantGRUCell")
    del node.input[-1]
    with pytest.raises(HwgenError, match="inputs, expected"):
        gru_params(graph, node)


def _replace_gate(p, gate, **changes):
    """Return GRUParams p with one gate's parameters changed."""
    gates = dict(p.gates)
    gates[gate] = dataclasses.replace(gates[gate], **changes)
    return dataclasses.replace(p, gates=gates)


MUTATIONS = {  # a plausible mistake in the integer GRU, each of which the comparison must see
    "io rounds down": lambda p: dataclasses.replace(
        p, out=dataclasses.replace(p.out, rounding=Rounding.FLOOR)),
    "hidden_acc rounds down": lambda p: dataclasses.replace(
        p, hidden_acc=dataclasses.replace(p.hidden_acc, rounding=Rounding.FLOOR)),
    "no b_hn": lambda p: dataclasses.replace(p, hidden_bias=None, hidden_bias_type=None),
    "new_acc rounds down": lambda p: _replace_gate(
        p, GRUGate.NEW, acc=dataclasses.replace(p.gate(GRUGate.NEW).acc, rounding=Rounding.FLOOR)),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_mutated_reference_is_caught(mutation, tmp_path):
    case = dataclasses.replace(random_case(3005), num_layers=1, bidirectional=False, bias=True,
                               widths=GRUWidths(), steps=12, batch=4, hidden_size=16,
                               input_size=8)
    model, x = trained_model(case)
    with torch.no_grad():
        want, _ = model(x)
    graph = load_model(export_case(model, x, tmp_path / "m.onnx"))
    node = next(n for n in graph.graph.node if n.op_type == "QuantGRUCell")
    p = gru_params(graph, node)
    xt = x.numpy() if not case.batch_first else np.swapaxes(x.numpy(), 0, 1)
    x_codes = quantize_input(xt, p.x_type, quant_info(graph, node.input[0]).rounding, "x")
    want_codes = (want.numpy() if not case.batch_first else np.swapaxes(want.numpy(), 0, 1))
    want_codes = want_codes / p.out.type.scale
    exact, _ = gru_layer(p, x_codes)
    assert np.array_equal(exact, want_codes)  # the unmutated reference is exact here
    mutated, _ = gru_layer(MUTATIONS[mutation](p), x_codes)
    assert not np.array_equal(mutated, want_codes), mutation


def test_a_quantizer_that_saw_only_zeros_still_exports_exactly(tmp_path):
    # one-step training without bias: hidden_acc sees W_hn h with h = 0 only
    case = dataclasses.replace(random_case(3160), steps=1, bias=False, num_layers=1,
                               bidirectional=False, input_size=5, hidden_size=6)
    model, x = trained_model(case)
    assert float(model.layers[0][0].cell.hidden_acc_quant.scale()) == 2.0 ** -16
    with torch.no_grad():
        want, _ = model(x)
    graph = load_model(export_case(model, x, tmp_path / "zeros.onnx"))
    got = run_reference(graph, x.numpy())
    assert np.array_equal(got, want.numpy())
