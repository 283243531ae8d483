"""`hwgen search` on a tiny spec: trials on the local pool and on a Ray instance give the same
rows; the screened trials' seeds are the verified point's; the verified point is rebuilt from its
own spec file and checked bit for bit; the front, the screening's order, each trial's choice of
folding, the choice of points, budgets and bad arguments."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hwgen.search.folding import FOLDING_SLACK, Limits, best_folding
from hwgen.search.run import Options, check_resumable, parse_budget, violations
from hwgen.search.screen import fronts
from hwgen.search.space import (SEARCHED, folding_choices, make_space, starting_points,
                                trial_spec)
from hwgen.search.verify import chosen, pareto, verify_epochs
from hwgen.spec import load_spec
from hwgen.types import HwgenError
from hwgen_cli import build_folder, run_hwgen

TINY = """\
dataset: japanese_vowels
net: {input_size: 12, hidden_size: 4, classes: 9}
bits: {weight: 4, io: 6, input_acc: 6, forget_acc: 6, cell_acc: 5, output_acc: 6, sigmoid: 5,
       tanh: 5, cell_state: 6, head: 4, bias: 12}
train: {seed: 1, float_epochs: 2, qat_epochs: 1, batch_size: 64}
"""
SEARCH = ("--trials", "4", "--batch", "2", "--seeds", "2", "--screen", "2", "--no-pnr")
SAME = ("number", "name", "params", "folding", "status", "accuracy", "quant_accuracy", "cost",
        "ecp5", "xilinx", "cycles_per_step")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    (folder / "tiny.yaml").write_text(TINY)
    return folder


def _data(folder: Path) -> dict:
    return json.loads((folder / "search.json").read_text())


def _check_verified(data: dict, folder: Path) -> None:
    trials = {t["name"]: t for t in data["trials"]}
    assert len(data["verified"]) == 1
    v = data["verified"][0]
    trial = trials[v["name"]]
    assert v["name"] in data["front"]
    report = v["report"]
    assert report["mismatches"] == {"reference": 0, "rtl": 0, "hls": 0}
    assert report["cycles_per_step"]["simulated"] == report["cycles_per_step"]["model"]
    # rebuilt from its spec file with the trial's seed: the trial's very model (the trials
    # train with the spec's own QAT schedule when --qat-epochs is not given)
    assert v["accuracies"][0] == report["accuracy"]["reference"] == trial["accuracy"]
    assert len(v["accuracies"]) == 2 and v["seeds"] == [1, 2]
    # chosen among the screened trials, whose second seed it trained (the same model again)
    assert v["name"] in data["screened"]
    assert trial["screened"]["accuracies"] == v["accuracies"]
    assert trial["screened"]["seeds"] == [1, 2]
    spec = load_spec(v["spec"])
    assert v["qat_epochs"] == spec.ptq.finetune_epochs == 1  # the tiny spec's own qat_epochs
    assert {k: getattr(spec.bits, k) for k in SEARCHED} == \
        {k: trial["params"][k] for k in SEARCHED}
    assert (spec.folding.pe, spec.folding.simd, spec.folding.lanes) == \
        (trial["folding"]["pe"], trial["folding"]["simd"], trial["folding"]["lanes"])
    assert report["cycles_per_step"]["model"] == trial["cycles_per_step"]
    assert report["ecp5"]["resources"]["LUT4"] > 0  # measured by Yosys, not the model
    for name in ("search.md", "trials.csv"):
        assert v["name"] in (folder / name).read_text()
    assert (folder / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_local_then_ray_search(tiny, ray_cluster):
    out = tiny / "local"
    run = run_hwgen("search", "tiny.yaml", *SEARCH, "--jobs", "2", "--verify", "1",
                    "--out", str(out), cwd=tiny)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Warning" not in run.stderr  # e.g. no deprecated Optuna argument
    data = _data(out)
    trials = data["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    # the first trial is the spec's widths
    assert trials[0]["params"] == {"weight": 4, "io": 6, "input_acc": 6, "forget_acc": 6,
                                   "cell_acc": 5, "output_acc": 6, "sigmoid": 5, "tanh": 5,
                                   "cell_state": 6, "head": 4}
    space = make_space(load_spec(str(tiny / "tiny.yaml")))
    for t in trials:
        assert t["status"] == "done", t["status"]
        assert t["accuracy"] == t["quant_accuracy"]  # the reference equals the trained model
        assert all(t["params"][k] in space.widths for k in SEARCHED)
        assert t["folding"] in space.foldings() and t["foldings_priced"] == len(space.foldings())
    _check_verified(data, out)
    # a rerun finds the 4 trials done and runs none; with --baseline it compares the verified
    # point with a sweep's best point (LUT4 41820 of the LFE5U-85F's 83640: cost 0.5)
    # (the search trains that point again with the second seed, 2: the spec itself, as its
    # weights are 4 bits)
    sweep = {"meta": {"model": "tiny"},
             "rows": [{"point": "weights4", "bits": 4, "vary": "weights", "seed": 1,
                       "status": "done", "acc_int": 0.5, "ecp5_LUT4": 41820, "ecp5_FF": 9,
                       "ecp5_EBR": 0, "ecp5_MULT18": 0}]}
    (tiny / "sweep.json").write_text(json.dumps(sweep))
    again = run_hwgen("search", "tiny.yaml", *SEARCH, "--verify", "1", "--out", str(out),
                      "--baseline", "sweep.json", cwd=tiny)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "trial " not in again.stderr
    data = _data(out)
    assert [{k: t[k] for k in SAME} for t in data["trials"]] == \
        [{k: t[k] for k in SAME} for t in trials]
    used = data["verified"][0]["report"]["ecp5"]["utilisation"]
    versus = data["verified"][0]["versus_baseline"]
    assert versus["cost_ratio"] == (used["LUT4"] + used["EBR"] + used["MULT18"]) / 0.5
    (tiny / "seed2.yaml").write_text(TINY.replace("seed: 1", "seed: 2"))
    train = run_hwgen("train", "seed2.yaml", cwd=tiny)
    assert train.returncode == 0, train.stderr[-2000:]
    ckpt = torch.load(tiny / build_folder(tiny / "seed2.yaml") / "checkpoint.pt",
                      weights_only=True)
    baseline = data["baseline"]
    assert baseline["seeds"] == [1, 2]
    assert baseline["accuracies"] == [0.5, ckpt["quant_accuracy"]]
    assert versus["accuracy_gain"] == \
        data["verified"][0]["accuracy_mean"] - (0.5 + ckpt["quant_accuracy"]) / 2
    assert "## Against the sweep's best uniform-width point" in (out / "search.md").read_text()
    # the same study as Ray tasks: the same trials, the same figures
    ray_out = tiny / "ray"
    with ray_cluster() as address:
        run = run_hwgen("search", "tiny.yaml", *SEARCH, "--verify", "0", "--executor", "ray",
                        "--address", address, "--out", str(ray_out), cwd=tiny)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [{k: t[k] for k in SAME} for t in _data(ray_out)["trials"]] == \
        [{k: t[k] for k in SAME} for t in trials]


def _row(number, accuracy, cost):
    return {"number": number, "name": f"t{number}", "accuracy": accuracy, "cost": cost}


def test_pareto_keeps_only_unbeaten_points():
    rows = [_row(0, 0.9, 0.5), _row(1, 0.8, 0.2), _row(2, 0.85, 0.6), _row(3, 0.9, 0.5),
            _row(4, 0.95, 0.9), _row(5, 0.7, 0.2)]
    # 2 is beaten by 0 (less accurate, dearer); 3 ties 0 (kept once); 5 is beaten by 1
    assert [r["number"] for r in pareto(rows)] == [1, 0, 4]
    front = pareto(rows)
    assert chosen(front, 5) == front
    assert [r["number"] for r in chosen(front, 1)] == [4]  # the most accurate
    assert [r["number"] for r in chosen(front, 2)] == [1, 4]  # both ends


def test_budget_and_time_are_constraints():
    row = {"ecp5": {"LUT4": 41820, "FF": 100, "EBR": 0, "MULT18": 200}, "ns_per_step": 150.0}
    o = Options(budget=parse_budget("lut4=20910"), max_ns_per_step=100.0)
    lut, ff, ebr, mult, ns = violations(row, o)
    assert lut == 1.0 and ns == 0.5  # twice the budget (exact in binary); 1.5x the time
    assert ff < 0 and ebr < 0
    assert mult > 0  # 200 MULT18 do not fit an LFE5U-85F's 156
    assert len(violations(row, Options())) == 4  # no time limit asked


@pytest.mark.parametrize("model", ["lstm4b", "rnn4b", "lstm_bi2"])
def test_every_folding_choice_fits(model, tmp_path):
    base = load_spec(model)
    pe, simd, lanes = folding_choices(base)
    assert 0 in pe and 0 in simd and 0 in lanes and len(pe) > 2
    params = {k: 4 for k in SEARCHED}
    for p in pe:
        for s in simd:
            for n in lanes:
                trial_spec(base, {**params, "pe": p, "simd": s, "lanes": n},
                           tmp_path / "f.pt", 1, tmp_path)  # raises if a choice does not fit


def test_a_folder_of_another_search_is_refused(tmp_path):
    check_resumable(tmp_path, {"seed": 0, "batch": 8})
    check_resumable(tmp_path, {"seed": 0, "batch": 8})  # the same options resume
    with pytest.raises(HwgenError, match="another seed"):
        check_resumable(tmp_path, {"seed": 1, "batch": 8})


@pytest.mark.parametrize("args, words", [
    (["--budget", "URAM=5"], "--budget 'URAM=5'"),
    (["--budget", "LUT4=x"], "--budget 'LUT4=x'"),
    (["--device", "99k"], "--device"),
    (["--batch", "1"], "--batch"),
    (["--widths", "1-3"], "--widths '1-3'"),
    (["--address", "127.0.0.1:1"], "--address is for --executor ray"),
    (["--max-ns-per-step", "-1"], "--max-ns-per-step"),
    (["--baseline", "nowhere"], "--baseline 'nowhere': no sweep results there"),
])
def test_search_bad_arguments(tiny, args, words):
    run = run_hwgen("search", "tiny.yaml", "--out", str(tiny / "bad"), *args, cwd=tiny,
                    timeout=120)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert not (tiny / "bad").exists()


def test_verified_points_train_with_the_specs_schedule_unless_told(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY.replace("qat_epochs: 1", "qat_epochs: 7"))
    base = load_spec(str(tmp_path / "tiny.yaml"))
    assert verify_epochs(base, Options(qat_epochs=2)) == 7
    assert verify_epochs(base, Options(qat_epochs=2, verify_qat_epochs=30)) == 30


def test_budget_takes_generic_names_for_the_ecp5_resources():
    assert parse_budget("LUT=40000,DSP=60,BRAM=10,ff=9") == \
        (("LUT4", 40000), ("MULT18", 60), ("EBR", 10), ("FF", 9))


def test_a_new_search_starts_from_the_specs_widths_and_the_baselines(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    base = load_spec(str(tmp_path / "tiny.yaml"))
    own = {"weight": 4, "io": 6, "input_acc": 6, "forget_acc": 6, "cell_acc": 5,
           "output_acc": 6, "sigmoid": 5, "tanh": 5, "cell_state": 6, "head": 4}
    space = make_space(base)
    assert starting_points(base, space) == [own]
    baseline = {"vary": "weights", "bits": 3}
    assert starting_points(base, space, baseline) == [own, {**own, "weight": 3, "head": 3}]
    # widths the space does not offer are not started from
    assert starting_points(base, make_space(base, (2, 3, 4, 5)), baseline) == []


def test_verify_qat_epochs_below_one_is_refused():
    from hwgen.search.run import check_options

    with pytest.raises(HwgenError, match="--verify-qat-epochs 0: give at least 1"):
        check_options(Options(verify_qat_epochs=0))


def _priced(cost, cycles, lut4=1000, ns=None):
    return {"cost": cost, "cycles_per_step": cycles, "ns_per_step": ns or 10.0 * cycles,
            "ecp5": {"LUT4": lut4, "FF": 0, "EBR": 0, "MULT18": 0}}


def test_a_trial_takes_the_fastest_folding_near_the_cheapest():
    assert FOLDING_SLACK == 0.05
    device = Limits("85k")
    slow, fast, faster, dear = (_priced(0.200, 4000), _priced(0.209, 600), _priced(0.211, 300),
                                _priced(0.300, 50))
    # 0.209 is within 5 % of 0.200, 0.211 is not: the 600-cycle folding
    assert best_folding([slow, fast, faster, dear], device) is fast
    # a time limit of 1000 ns per step rules out all but the dearest
    assert best_folding([slow, fast, faster, dear],
                        Limits("85k", max_ns_per_step=1000.0)) is dear
    # over the budget everywhere: the folding that misses it by least (the trial is infeasible)
    big = [_priced(0.5, 10, lut4=60000), _priced(0.4, 20, lut4=50000)]
    assert best_folding(big, Limits("85k", budget=(("LUT4", 40000),))) is big[1]
    # equal cost and cycles: the space's order decides
    twins = [_priced(0.2, 100), _priced(0.2, 100)]
    assert best_folding(twins, device) is twins[0]


def test_screening_takes_the_trials_front_by_front():
    rows = [_row(0, 0.9, 0.5), _row(1, 0.8, 0.2), _row(2, 0.85, 0.6), _row(3, 0.88, 0.55),
            _row(4, 0.95, 0.9), _row(5, 0.7, 0.2), _row(6, 0.6, 0.7)]
    # front 1: 1, 0, 4; front 2 (without them): 5, 3 (2 is beaten by 3); front 3: 2; then 6
    assert [r["number"] for r in fronts(rows, 3)] == [1, 0, 4]
    assert [r["number"] for r in fronts(rows, 5)] == [1, 0, 4, 5, 3]
    assert [r["number"] for r in fronts(rows, 4)] == [1, 0, 4, 3]  # the most accurate of front 2
    assert [r["number"] for r in fronts(rows, 99)] == [1, 0, 4, 5, 3, 2, 6]
