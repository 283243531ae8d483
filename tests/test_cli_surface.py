"""The `hwgen` command's surface: --version, --out checked before any work, hw's options and its
closing line, and help texts that say what the code does.

Everything runs in this process through hwgen.cli.main with the long steps replaced by stand-ins
that fail the test if reached, so no case trains or builds anything.
"""
import argparse
import os
import tomllib
from pathlib import Path

import pytest
from test_cli_errors import assert_one_error_line, hwgen_inprocess  # noqa: F401 (a fixture)

import hwgen
import hwgen.flow
import hwgen.sweep.compare
import hwgen.sweep.run
from hwgen import cli
from hwgen.cli import build_parser
from hwgen.types import VerificationError

ROOT = Path(__file__).resolve().parent.parent
WORK = {hwgen.flow: ("step_train", "step_float", "step_export", "step_build", "hw"),
        hwgen.sweep.run: ("sweep",), hwgen.sweep.compare: ("compare",)}


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Run in an empty folder where any training, export, build or sweep fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("work started before --out was checked")
    for module, names in WORK.items():
        for name in names:
            monkeypatch.setattr(module, name, refuse)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_version(hwgen_inprocess):
    proc = hwgen_inprocess("--version")
    assert proc.returncode == 0, proc.stderr
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert proc.stdout == f"hwgen {project['version']}\n"
    assert hwgen.__version__ == project["version"]


# The command line of every command that writes, given its output path.
COMMANDS = {
    "train": lambda out: ["train", "lstm4b", "--out", out],
    "export": lambda out: ["export", "lstm4b", "--out", out],
    "hw": lambda out: ["hw", "lstm4b", "--out", out],
    "build": lambda out: ["build", "lstm4b", "--out", out],
    "import": lambda out: ["import", "float.pt", "--spec", "lstm8b_ptq", "--out", out],
    "sweep": lambda out: ["sweep", "lstm4b", "--out", out],
    "compare": lambda out: ["compare", "lstm8b_ptq", "--out", out],
    "train-float": lambda out: ["train-float", "lstm4b", "--out", out],
}


def _existing_file(work: Path) -> Path:
    """Return a file where a folder is wanted (for train-float: a folder where a file is)."""
    (work / "taken").write_text("keep me\n")
    return work / "taken"


def _existing_folder(work: Path) -> Path:
    """Return an existing folder (what train-float cannot write its .pt file to)."""
    (work / "taken").mkdir()
    (work / "taken" / "inside").write_text("keep me\n")
    return work / "taken"


def _under_a_file(work: Path) -> Path:
    """Return a path whose parent is a file."""
    (work / "taken").write_text("keep me\n")
    return work / "taken" / "sub" / "x.pt"


def _snapshot(folder: Path) -> dict:
    """Return {relative path: file content or None for a folder} of everything under folder."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case", ["existing_file", "under_a_file"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_checked_before_any_work(hwgen_inprocess, no_work, command, case):
    make = _under_a_file if case == "under_a_file" else (
        _existing_folder if command == "train-float" else _existing_file)
    out = make(no_work)
    before = _snapshot(no_work)
    line = assert_one_error_line(hwgen_inprocess(*COMMANDS[command](out)), "--out", str(out))
    folder_for_a_file = command == "train-float" and case == "existing_file"
    assert ("is a folder" if folder_for_a_file else "is a file") in line
    assert _snapshot(no_work) == before  # nothing created, nothing changed


@pytest.mark.parametrize("command", ["train", "export", "hw"])
def test_default_build_folder_checked(hwgen_inprocess, no_work, command):
    (no_work / "build").write_text("a file where build/ belongs\n")
    line = assert_one_error_line(hwgen_inprocess(command, "lstm4b"), "build folder", "build")
    assert "is a file" in line


def test_out_not_writable(hwgen_inprocess, no_work, monkeypatch):
    # Root may write anywhere, so the refusal comes from os.access, as for a read-only folder.
    locked = no_work / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: (
        False if Path(p) == locked else real(p, mode, **kw)))
    line = assert_one_error_line(hwgen_inprocess("build", "lstm4b", "--out", locked / "new"),
                                 str(locked))
    assert "not writable" in line
    assert list(locked.iterdir()) == []


@pytest.fixture
def fake_hw(monkeypatch, tmp_path):
    """Replace hwgen.flow.hw with a stand-in recording its arguments; return the record."""
    seen = {}

    def hw(spec, force=False, first="train", last="report", ecp5=True, pnr=True, device="85k",
           tb_sequences=20, part="xc7z020", clock_ns=10.0, synth=True):
        seen.update(spec=spec, force=force, first=first, last=last, ecp5=ecp5, pnr=pnr,
                    device=device, tb_sequences=tb_sequences, part=part, clock_ns=clock_ns,
                    synth=synth)
        if seen.get("fail"):
            raise VerificationError("the RTL differs from the reference on 1 sequences")
        return {"model": spec.name}
    monkeypatch.setattr(hwgen.flow, "hw", hw)
    monkeypatch.chdir(tmp_path)
    return seen


def test_hw_options_reach_the_flow(hwgen_inprocess, fake_hw, tmp_path):
    out = tmp_path / "my build"
    proc = hwgen_inprocess("hw", "lstm4b", "--out", out, "--pe", 8, "--simd", 4, "--force")
    assert proc.returncode == 0, proc.stderr
    spec = fake_hw["spec"]
    assert (spec.name, spec.out, spec.folding.pe, spec.folding.simd) == ("lstm4b", str(out), 8, 4)
    assert spec.folding.max_steps == 32  # the rest of the folding is the spec's
    assert fake_hw["force"] is True
    assert (fake_hw["first"], fake_hw["last"]) == ("train", "report")
    # by default: ECP5 synthesis, place and route on the LFE5U-85F
    assert (fake_hw["ecp5"], fake_hw["pnr"], fake_hw["device"]) == (True, True, "85k")
    assert fake_hw["synth"] is True


@pytest.mark.parametrize("args, ecp5, pnr, device, synth", [
    (("--no-pnr", "--device", "um5g-25k"), True, False, "um5g-25k", True),
    (("--no-ecp5",), False, True, "85k", True),
    (("--no-synth",), True, True, "85k", False),
    (("--fmax",), True, True, "85k", True),  # kept for old scripts: no effect
])
def test_hw_cost_options_reach_the_flow(hwgen_inprocess, fake_hw, args, ecp5, pnr, device,
                                        synth):
    proc = hwgen_inprocess("hw", "lstm4b", *args)
    assert proc.returncode == 0, proc.stderr
    assert (fake_hw["ecp5"], fake_hw["pnr"], fake_hw["device"]) == (ecp5, pnr, device)
    assert fake_hw["synth"] is synth


def test_hw_unknown_device_is_one_line(hwgen_inprocess, fake_hw):
    proc = hwgen_inprocess("hw", "lstm4b", "--device", "12k")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--device: unknown ECP5 device '12k'" in proc.stderr
    assert "model" not in fake_hw and "spec" not in fake_hw


@pytest.mark.parametrize("given, want", [("85k", "85k"), ("ecp5-85", "85k"), ("ECP5-45K", "45k"),
                                         ("LFE5U-25F", "25k"), ("lfe5um5g-85f", "um5g-85k"),
                                         ("ecp5-um-45", "um-45k")])
def test_hw_device_aliases_reach_the_flow(hwgen_inprocess, fake_hw, given, want):
    """--device takes nextpnr-ecp5's name, the family's (ecp5-85) or the part's (LFE5U-85F)."""
    proc = hwgen_inprocess("hw", "lstm4b", "--device", given)
    assert proc.returncode == 0, proc.stderr
    assert fake_hw["device"] == want


@pytest.mark.parametrize("given", ["ecp5-100", "LFE5U-12F", "ecp5-", "85"])
def test_device_alias_refusals(given):
    with pytest.raises(argparse.ArgumentTypeError, match="unknown ECP5 device"):
        cli.ecp5_device_arg(given)


def test_cli_devices_are_synths():
    from hwgen.sim.synth import DEFAULT_DEVICE, DEVICES

    assert cli.ECP5_DEVICES == tuple(DEVICES) and cli.DEFAULT_DEVICE == DEFAULT_DEVICE


def test_hw_step_range_reaches_the_flow(hwgen_inprocess, fake_hw):
    proc = hwgen_inprocess("hw", "lstm4b", "--from", "emit_rtl", "--to", "sim_rtl")
    assert proc.returncode == 0, proc.stderr
    assert (fake_hw["first"], fake_hw["last"]) == ("emit_rtl", "sim_rtl")


@pytest.mark.parametrize("value, want", [(None, 20), ("5", 5), ("all", None)])
def test_hw_tb_sequences_reach_the_flow(hwgen_inprocess, fake_hw, value, want):
    proc = hwgen_inprocess("hw", "lstm4b", *(("--tb-sequences", value) if value else ()))
    assert proc.returncode == 0, proc.stderr
    assert fake_hw["tb_sequences"] == want


@pytest.mark.parametrize("value", ["0", "-3", "some"])
def test_hw_tb_sequences_refuses(hwgen_inprocess, no_work, value):
    proc = hwgen_inprocess("hw", "lstm4b", "--tb-sequences", value)
    assert proc.returncode == 2 and "--tb-sequences" in proc.stderr, proc.stderr


def test_hw_from_a_step_whose_input_is_missing(hwgen_inprocess, tmp_path):
    """--from emit_rtl in an empty folder names the missing IR and the step that makes it before
    any work, and leaves no folder behind."""
    out = tmp_path / "empty"
    proc = hwgen_inprocess("hw", "lstm4b", "--out", out, "--from", "emit_rtl")
    assert proc.returncode == 2
    assert proc.stderr == (f"hwgen: error: {out / 'ir'}: missing (step fold makes it); start at "
                           "--from fold or earlier\n")
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (("--from", "emit"), "unknown step 'emit' (steps: train, export, lower, fold,"),
    (("--from", "cost", "--to", "lower"), "--from cost comes after --to lower")])
def test_hw_bad_step_range(hwgen_inprocess, no_work, args, words):
    proc = hwgen_inprocess("hw", "lstm4b", *args)
    assert proc.returncode == 2 and proc.stderr.startswith(f"hwgen: error: {words}"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_hw_defaults_keep_the_spec(hwgen_inprocess, fake_hw):
    from hwgen.spec import load_spec

    proc = hwgen_inprocess("hw", "lstm4b")
    assert proc.returncode == 0, proc.stderr
    assert fake_hw["spec"] == load_spec("lstm4b")
    assert fake_hw["force"] is False


def test_hw_closing_line(hwgen_inprocess, fake_hw, tmp_path):
    out = tmp_path / "b"
    proc = hwgen_inprocess("hw", "lstm4b", "--out", out)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last == (f"[hwgen] done: report {out / 'report.md'}, IR {out / 'ir'}/ (ir.txt), "
                    f"RTL {out / 'rtl'}/ (files.f), HLS {out / 'hls'}/ (build.tcl)")


def test_hw_closing_line_after_failed_verification(hwgen_inprocess, fake_hw, tmp_path):
    fake_hw["fail"] = True
    proc = hwgen_inprocess("hw", "lstm4b", "--out", tmp_path / "b")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("hwgen: error: the RTL")
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("[hwgen] verification failed; see report ")
    assert str(tmp_path / "b" / "report.md") in last


@pytest.mark.parametrize("option", ["--pe", "--simd", "--lanes", "--interleave"])
def test_hw_folding_checked(hwgen_inprocess, no_work, option):
    assert_one_error_line(hwgen_inprocess("hw", "lstm4b", option, -1), option)


def test_hw_lanes_and_interleave_reach_the_flow(hwgen_inprocess, fake_hw):
    from hwgen.spec import load_spec

    proc = hwgen_inprocess("hw", "lstm4b", "--lanes", 8, "--interleave", 8)
    assert proc.returncode == 0, proc.stderr
    f = fake_hw["spec"].folding
    assert (f.lanes, f.interleave) == (8, 8)
    assert (f.pe, f.simd) == (load_spec("lstm4b").folding.pe, load_spec("lstm4b").folding.simd)
    assert hwgen_inprocess("hw", "lstm4b").returncode == 0
    assert (fake_hw["spec"].folding.lanes, fake_hw["spec"].folding.interleave) == (0, 1)


@pytest.mark.parametrize("args, words", [
    (["--lanes", 5], ("--lanes 5", "lanes", "32")),  # lstm4b's hidden size is 32
    (["--interleave", 4], ("--interleave 4", "one-layer, one-direction LSTM")),
])
def test_hw_lanes_and_interleave_checked_against_the_spec(hwgen_inprocess, no_work, args,
                                                          words):
    model = "lstm4b" if args[0] == "--lanes" else "lstm_bi2"
    line = assert_one_error_line(hwgen_inprocess("hw", model, *args, "--out", "b"), *words[:1])
    assert all(w in line for w in words), line
    assert list(no_work.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-5", "1001", "inf", "nan", "fast"])
def test_hw_clock_target_checked(hwgen_inprocess, no_work, value):
    assert_one_error_line(hwgen_inprocess("hw", "lstm4b", "--clock-mhz", value), "--clock-mhz")


def test_hw_clock_target_reaches_the_flow(hwgen_inprocess, fake_hw):
    proc = hwgen_inprocess("hw", "lstm4b", "--clock-mhz", "150")
    assert proc.returncode == 0, proc.stderr
    assert fake_hw["spec"].folding.clock_mhz == 150.0
    assert hwgen_inprocess("hw", "lstm4b").returncode == 0
    assert fake_hw["spec"].folding.clock_mhz == 100.0  # the spec's, by default


def _help(command: str, option: str) -> str:
    """Return the help text of one option of one command."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a.help for a in sub.choices[command]._actions if option in a.option_strings)


@pytest.mark.parametrize("command, option, words", [
    ("build", "--out", ("rtl/", "hls/")),
    ("run", "--pe", ("rtl", "hls")),
    ("run", "--simd", ("rtl", "hls")),
])
def test_help_names_both_backends(command, option, words):
    text = _help(command, option)
    assert all(w in text for w in words), text


def test_train_help_names_post_training_quantization():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = next(a.help for a in sub._choices_actions if a.dest == "train")
    assert "QAT" in text and "post-training quantization" in text and "ptq" in text


def test_hw_of_a_qonnx_file_points_to_build_and_run(hwgen_inprocess, no_work):
    onnx = no_work / "model.onnx"
    onnx.write_bytes(b"not even a graph")
    line = assert_one_error_line(hwgen_inprocess("hw", onnx), str(onnx))
    assert f"hwgen build {onnx} --out DIR" in line and f"hwgen run {onnx} " in line
    assert sorted(p.name for p in no_work.iterdir()) == ["model.onnx"]


def _readme_commands() -> dict:
    """Return {command: text of its rows} of README.md's "Commands" table."""
    text = (ROOT / "README.md").read_text().split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `hwgen "):
            words = line.split("`")[1].split()
            rows[words[1]] = rows.get(words[1], "") + line
    return rows


def test_readme_commands_table_matches_the_cli():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    rows = _readme_commands()
    assert set(rows) == set(sub.choices) | {"--version"}
    missing = [(command, option) for command, p in sub.choices.items() for action in p._actions
               for option in action.option_strings
               if option.startswith("--") and option != "--help" and option not in rows[command]]
    assert missing == []


@pytest.mark.parametrize("command", ["hw", "build"])
def test_folding_option_checked_against_the_spec_before_training(hwgen_inprocess, no_work,
                                                                 command):
    # lstm4b's gate matrices have 128 rows: PE 5 does not divide them.
    line = assert_one_error_line(hwgen_inprocess(command, "lstm4b", "--pe", 5, "--out", "b"),
                                 "--pe 5", "lstm4b")
    assert "128" in line
    assert list(no_work.iterdir()) == []
