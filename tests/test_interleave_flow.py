"""`hwgen hw` on an interleaved spec (folding.interleave: N): the test set runs in groups of N
sequences of equal length (hwgen.sim.design.interleave_order, worked by hand here), every
backend equals the reference, every transfer happens on the modelled cycle, and the report's
throughput counts the N sequences sharing the engine."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from hwgen_cli import build_folder
from test_flow import fake_place_and_route

from hwgen import cli
from hwgen.sim.design import ilv_transfer_indices, interleave_order, stream_positions
from hwgen.sim.tools import yosys
from hwgen.types import HwgenError

LENGTHS = [5, 3, 5, 3, 5, 7, 5]


def test_interleave_order_by_hand():
    """Lengths 3: sequences 1, 3 (one short group: 1 repeated); 5: 0, 2, 4 and 6 (a group, then
    6 three times); 7: 5 three times. Sorted by length, equal lengths in test order."""
    order = interleave_order(LENGTHS, 3)
    assert order == [1, 3, 1, 0, 2, 4, 6, 6, 6, 5, 5, 5]
    assert interleave_order(LENGTHS, 2) == [1, 3, 0, 2, 4, 6, 5, 5]
    assert interleave_order(LENGTHS, 3) == order  # deterministic


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8])
def test_interleave_order_groups_equal_lengths_and_restores_the_order(n):
    rng = np.random.default_rng(n)
    lengths = [int(v) for v in rng.integers(1, 6, size=23)]
    order = interleave_order(lengths, n)
    assert len(order) % n == 0
    for g in range(0, len(order), n):
        assert len({lengths[i] for i in order[g:g + n]}) == 1, f"group at {g}"
    positions = stream_positions(order, len(lengths))
    # a stream's outputs (here: each streamed sequence's index and length) mapped back by each
    # sequence's first run come back in test order, every sequence once
    outputs = [(i, lengths[i]) for i in order]
    assert [outputs[ps[0]] for ps in positions] == list(zip(range(23), lengths))
    assert sum(len(ps) for ps in positions) == len(order)
    # only a length's last group holds repeats, fewer than n of them
    per_length = Counter(lengths)
    assert len(order) == sum(-(-count // n) * n for count in per_length.values())


def test_interleave_order_of_one_is_the_test_order():
    assert interleave_order(LENGTHS, 1) == list(range(len(LENGTHS)))
    assert stream_positions(list(range(7)), 7) == [[k] for k in range(7)]


def test_a_sequence_missing_from_the_order_is_refused():
    with pytest.raises(HwgenError, match="sequence 2 is not in the stream order"):
        stream_positions([0, 1, 1, 0], 3)
    with pytest.raises(HwgenError, match="interleave 0"):
        interleave_order(LENGTHS, 0)


def test_transfer_indices_by_hand():
    """Two groups of 2 (2 steps, then 1): inputs a0 b0 a1 b1 | c0 d0; with a head one output per
    sequence, without one output per input."""
    inputs, last = ilv_transfer_indices(2, [2, 2, 1, 1], head=True)
    assert inputs == [[0, 2], [1, 3], [4], [5]] and last == [0, 1, 2, 3]
    assert ilv_transfer_indices(2, [2, 2, 1, 1], head=False)[1] == [2, 3, 4, 5]


TINY_ILV = """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 4, classes: 9}
bits: {weight: 4, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 4, bias: 12}
train: {seed: 1, float_epochs: 2, qat_epochs: 1, batch_size: 64}
folding: {interleave: 3, pe: 8}
"""


def test_hw_verifies_an_interleaved_spec(tmp_path, monkeypatch, capsys):
    """`hwgen hw` on a tiny 3-way interleaved LSTM: RTL and HLS equal the reference on all 370
    JapaneseVowels test sequences (7..29 steps, run in groups of 3 of equal length), every
    transfer on the modelled cycle, and at the stand-in's 125 MHz (8 ns) the steps/s count the
    three sequences sharing the engine. Yosys's counts stand in too (the flow's real synthesis
    is tests/test_flow.py's); Yosys itself reads and elaborates the interleaved design."""
    import hwgen.sim.synth
    from hwgen.qat.data import load_dataset

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hwgen.sim.synth, "place_and_route", fake_place_and_route)
    monkeypatch.setattr(hwgen.sim.synth, "resources",
                        lambda rtl_dir, **kw: {"LUT": 3, "FF": 2, "DSP": 0, "BRAM": 0.0})
    monkeypatch.setattr(hwgen.sim.synth, "ecp5_resources",
                        lambda rtl_dir, *a, **kw: {"LUT4": 4, "FF": 2, "EBR": 0, "MULT18": 0,
                                                   "CCU2C": 0})
    spec = tmp_path / "tiny_ilv.yaml"
    spec.write_text(TINY_ILV)
    assert cli.main(["hw", str(spec)]) == 0, capsys.readouterr().err
    folder = tmp_path / build_folder(spec)
    report = json.loads((folder / "report.json").read_text())
    assert report["interleave"] == 3 and report["sequences"] == 370
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    acc = report["accuracy"]
    assert acc["reference"] == acc["quantized"] == acc["rtl"] == acc["hls"]

    lengths = Counter(len(x) for x in load_dataset("japanese_vowels").test.x)
    streamed = sum(-(-count // 3) * 3 for count in lengths.values())  # whole groups of 3
    steps = sum(-(-count // 3) * 3 * length for length, count in lengths.items())
    run = report["interleaved_run"]
    assert run["streamed"] == streamed > 370
    # every input transfer and one output (the head's scores) per streamed sequence
    assert run["transfers"] == {"simulated": steps + streamed, "model": steps + streamed,
                                "differing": 0}
    cycles = report["cycles_per_step"]
    assert cycles["simulated"] == cycles["simulated_min"] == cycles["model"]
    assert cycles["simulated_max"] >= cycles["simulated"]
    assert report["latency_cycles_per_sequence"]["max_difference"] == 0

    sim = json.loads((folder / "steps" / "sim_rtl.json").read_text())["result"]
    latencies = sim["latency"]["simulated"]
    assert len(latencies) == 370
    t = report["time"]  # 8 ns a cycle; the report rounds ns to 3 digits and rates to 1
    assert t["interleave"] == 3 and t["cycles_per_step"] == cycles["model"]
    assert t["ns_per_step"] == 8 * cycles["model"]
    assert t["steps_per_s"] == round(3 * 125e6 / cycles["model"], 1)
    assert t["sequences_per_s"] == round(3 * 1e9 / (8 * np.mean(latencies)), 1)
    md = (folder / "report.md").read_text()
    assert "Interleave 3: 3 sequences of equal length share the engine" in md
    assert f"{t['steps_per_s']:,.0f} steps/s" in md and "3 sequences in the design" in md
    assert not (folder / "rtl" / "tb").exists()  # its testbench streams plain designs only
    rtl = folder / "rtl"
    proc = yosys(f"read_verilog -sv {' '.join((rtl / 'files.f').read_text().split())}; "
                 "hierarchy -check -top hwgen_top; proc", rtl)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    _check_repeats_are_compared_and_counted_once(spec, folder, monkeypatch, capsys)


def _check_repeats_are_compared_and_counted_once(spec, folder, monkeypatch, capsys) -> None:
    """Run the sim_hls step again with the C simulation's outputs altered: a repeat's outputs
    differing is one mismatch, and so are both runs of that sequence differing."""
    import dataclasses

    import hwgen.sim.hls_run
    from hwgen.qat.data import load_dataset

    run_hls_interleaved = hwgen.sim.hls_run.run_hls_interleaved
    lengths = [len(x) for x in load_dataset("japanese_vowels").test.x]
    positions = stream_positions(interleave_order(lengths, 3), len(lengths))
    repeated = next(ps for ps in positions if len(ps) > 1)
    for at, want in (((), 0), (repeated[1:], 1), (repeated, 1),
                     ((positions[0][0], positions[1][0]), 2)):
        def altered(hls, codes, build_dir=None, at=at):
            res = run_hls_interleaved(hls, codes, build_dir)
            return dataclasses.replace(res, outputs=[o + 1 if p in at else o
                                                     for p, o in enumerate(res.outputs)])
        monkeypatch.setattr(hwgen.sim.hls_run, "run_hls_interleaved", altered)
        (folder / "steps" / "sim_hls.json").unlink()
        code = cli.main(["hw", str(spec), "--from", "sim_hls", "--to", "sim_hls"])
        assert (code == 0) == (want == 0), capsys.readouterr().err
        result = json.loads((folder / "steps" / "sim_hls.json").read_text())["result"]
        assert result["mismatches"] == want and result["sequences"] == 370, at
