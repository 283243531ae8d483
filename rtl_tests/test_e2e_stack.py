"""RTL end to end on LSTM stacks: several layers, bidirectional layers (bcast, sequence buffers,
zip), heads in the last engine or after a bidirectional layer (pick_last), folded and parallel,
from seeded Brevitas exports through Verilator (see rtl_tests/stack_designs.check_design: == the IR
executor per sequence and the QONNX reference per batch, under stress and isolated; cycles == the
model). Also: a design that buffers sequences refuses longer ones. Initial-state inputs:
rtl_tests/test_e2e_states.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hwgen.sim.rtl_run import run_rtl
from hwgen.types import HwgenError
from rtl_tests.stack_designs import StackCase, check_design, net

FIXTURE = Path(__file__).parent / "fixtures" / "sum_hidden" / "design.json"
CASES = {
    # more inputs than hidden units: the first engine is the slower one
    "lstm_2layer": StackCase(6001, net(8, 5, num_layers=2), pe=20, simd=1),
    "lstm_bidir_folded": StackCase(6002, net(3, 4, bidirectional=True), pe=4, simd=1),
    # the second layer reads both directions, so its engines are slower: zip and bcast wait
    "cifg_bidir_2layer_head": StackCase(
        6003, net(3, 3, num_layers=2, bidirectional=True, cifg=True), head=True, pe=1, simd=3),
    "lstm_no_bias_2layer_head": StackCase(6004, net(3, 6, num_layers=2, bias=False), head=True),
    # Brevitas's sharing options with per-channel weight scales
    "lstm_shared_per_channel_bidir_head": StackCase(6005, net(
        3, 4, bidirectional=True, per_channel_weights=True, shared_input_hidden_weights=True,
        shared_intra_layer_weight_quant=True, shared_intra_layer_gate_acc_quant=True), head=True),
    # elementwise stages over lanes (folding.lanes): hidden 8 in 4 chunks of 2 or 2 of 4, folded
    # matrix-vector units (auto lanes are exercised by the folded cases above: 1 lane)
    "lstm_h8_folded_2lanes": StackCase(6006, net(4, 8, num_layers=2), pe=8, simd=2, lanes=2),
    "lstm_h8_folded_4lanes_bidir_head": StackCase(6007, net(4, 8, bidirectional=True), head=True,
                                                  pe=8, simd=2, lanes=4),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_lstm_stack_rtl_equals_ir_reference_and_cycle_model(name, tmp_path):
    check_design(CASES[name], name, tmp_path)


def test_overlong_sequence_is_refused(tmp_path):
    """A design that buffers sequences refuses, before building, one longer than max_steps."""
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    design = json.loads(FIXTURE.read_text())
    (rtl / "design.json").write_text(json.dumps({**design, "max_steps": 3}))
    width = design["input"]["count"]
    seqs = [np.zeros((3, width), dtype=np.int64), np.zeros((4, width), dtype=np.int64)]
    with pytest.raises(HwgenError, match=r"^sequence 1: 4 steps, longer than the 3 the design "
                                         r"buffers \(max_steps\)$"):
        run_rtl(rtl, seqs, tmp_path / "sim")
