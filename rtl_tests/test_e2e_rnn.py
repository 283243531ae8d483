"""RTL end to end on plain RNN stacks (QuantRNN, tanh and relu): the RNN engine (one gate whose
table gives h) alone, chained, bidirectional, with a head in the last engine or after a
bidirectional layer, from seeded Brevitas exports through Verilator (see
rtl_tests/stack_designs.check_design: == the IR executor per sequence and the QONNX reference per
batch, under stress and isolated; cycles == the model).
"""
from __future__ import annotations

import pytest

from rtl_tests.stack_designs import StackCase, check_design, net

CASES = {
    "rnn_tanh_2layer_head": StackCase(6005, net(3, 7, cell="rnn", num_layers=2), head=True),
    "rnn_relu_bidir_2layer": StackCase(6006, net(3, 4, cell="rnn", nonlinearity="relu",
                                                 num_layers=2, bidirectional=True)),
    "rnn_tanh_bidir_head_folded": StackCase(6007, net(4, 3, cell="rnn", bidirectional=True,
                                                      bias=False), head=True, pe=1, simd=1),
    "rnn_relu_no_bias": StackCase(6008, net(3, 8, cell="rnn", nonlinearity="relu", bias=False),
                                  pe=2, simd=1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rnn_stack_rtl_equals_ir_reference_and_cycle_model(name, tmp_path):
    check_design(CASES[name], name, tmp_path)
