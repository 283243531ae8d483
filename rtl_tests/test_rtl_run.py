"""hwgen.sim.rtl_run against hand-written stand-in tops (rtl_tests/fixtures), compared with ==.

The stand-ins keep a running sum of x per element, wrapped to the output width: "sum_hidden" emits
it every step, "sum_scores" once per sequence with the index of its largest element. Both accept a
step every GAP+1 cycles and emit a result LAT cycles after the input that produced it.
"""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from hwgen.backends import run_backend_rtl
from hwgen.sim.design import load_design, quantize_inputs
from hwgen.sim.rtl_run import RtlSimError, run_rtl
from hwgen.sim.tools import sim_build_dir, verilator_lint
from hwgen.types import HwgenError

FIXTURES = Path(__file__).parent / "fixtures"
STAND_INS = {"sum_hidden": dict(gap=2, lat=3), "sum_scores": dict(gap=2, lat=5)}


def shared_build(name: str) -> Path:
    """Return one build folder per stand-in; run_rtl locks it, so pytest workers can share it."""
    return sim_build_dir(f"rtl_tests/rtl_run/{name}")


def wrap(values: np.ndarray, width: int) -> np.ndarray:
    """Return values wrapped to width-bit two's complement."""
    half = 1 << (width - 1)
    return (values + half) % (2 * half) - half


def expected(name: str, sequences) -> tuple[list, list]:
    """Return the stand-in's (outputs, classes) for sequences: the Python model of sum_stand_in."""
    design = load_design(FIXTURES / name)
    width = design.y_type.width
    if design.kind == "hidden":
        return [wrap(np.cumsum(s, axis=0), width) for s in sequences], []
    sums = [wrap(s.sum(axis=0), width) for s in sequences]
    return sums, [int(np.argmax(s)) for s in sums]


def expected_cycles(name: str, lengths) -> tuple[list, list]:
    """Return the stand-in's (cycles per step list, latency per sequence) without stress."""
    period, lat = STAND_INS[name]["gap"] + 1, STAND_INS[name]["lat"]
    steps = [period] * sum(t - 1 for t in lengths)
    return steps, [(t - 1) * period + lat for t in lengths]


def random_sequences(name: str, seed: int, count: int, max_len: int) -> list[np.ndarray]:
    """Return count sequences of random codes, lengths 1..max_len, the first two at the extremes."""
    design = load_design(FIXTURES / name)
    t = design.x_type
    rng = np.random.default_rng(seed)
    lengths = [1, max_len, *rng.integers(1, max_len + 1, size=count - 2)]
    return [rng.integers(t.min, t.max + 1, size=(n, design.x_count)) for n in lengths]


def assert_outputs(result, name: str, sequences, note: str):
    """Assert every output and class of result equals the stand-in model's."""
    outputs, classes = expected(name, sequences)
    assert len(result.outputs) == len(outputs), note
    for k, (got, want) in enumerate(zip(result.outputs, outputs)):
        assert got.tolist() == want.tolist(), f"{note}: sequence {k}"
    assert result.classes == classes, note


@pytest.mark.parametrize("name", STAND_INS)
def test_fixture_lint_clean(name):
    sources = [FIXTURES / "sum_stand_in.sv", FIXTURES / name / "hwgen_top.sv"]
    status, messages = verilator_lint(sources, "hwgen_top", {})
    assert status == 0 and "%Warning" not in messages and "%Error" not in messages, messages


@pytest.mark.parametrize("name", STAND_INS)
def test_outputs_and_cycles(name):
    """Without stress: outputs ==, every step GAP+1 cycles, latencies as the stand-in makes them."""
    seed = int(os.environ.get("HWGEN_SEED", 11))
    sequences = random_sequences(name, seed, count=12, max_len=9)
    result = run_rtl(FIXTURES / name, sequences, shared_build(name))
    assert_outputs(result, name, sequences, f"seed {seed}")
    steps, latencies = expected_cycles(name, [len(s) for s in sequences])
    assert result.step_cycles == steps
    assert result.latencies == latencies
    design = load_design(FIXTURES / name)
    assert result.cycle_summary()["per_step"] == {"min": design.per_step,
                                                  "max": design.per_step,
                                                  "mean": design.per_step}
    assert result.sim_cycles > result.total_cycles >= max(latencies)


@pytest.mark.parametrize("name", STAND_INS)
def test_outputs_under_stress(name):
    """Random idle input cycles and output backpressure: the same outputs, in order."""
    seed = int(os.environ.get("HWGEN_SEED", 5))
    sequences = random_sequences(name, seed, count=16, max_len=7)
    result = run_rtl(FIXTURES / name, sequences, shared_build(name), stress_seed=seed)
    assert_outputs(result, name, sequences, f"stress seed {seed}")
    assert result.stress_seed == seed
    steps, latencies = expected_cycles(name, [len(s) for s in sequences])
    assert min(result.step_cycles) >= min(steps)
    assert (result.step_cycles, result.latencies) != (steps, latencies), "stress stalled nothing"


def wrong_kind(tmp_path: Path, name: str) -> Path:
    """Return an rtl folder with name's sources but design.json claiming the other output kind."""
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    design = json.loads((FIXTURES / name / "design.json").read_text())
    design["output"]["kind"] = "hidden" if design["output"]["kind"] == "scores" else "scores"
    (rtl / "design.json").write_text(json.dumps(design))
    lines = (FIXTURES / name / "files.f").read_text().split()
    (rtl / "files.f").write_text("".join(f"{(FIXTURES / name / n).resolve()}\n" for n in lines))
    return rtl


@pytest.mark.parametrize("name, match", [
    ("sum_scores", r"output 0 has m_tlast=1, want 0"),
    ("sum_hidden", r"output 1 arrived before the input it depends on"),
])
def test_monitor_catches_wrong_stream(name, match, tmp_path):
    """Each stand-in run as the other kind: the monitor fails on the first unexpected output."""
    rtl = wrong_kind(tmp_path, name)
    sequences = random_sequences(name, 3, count=3, max_len=4)  # lengths 1, 4, ...
    if name == "sum_scores":
        sequences = sequences[1:]
    with pytest.raises(RtlSimError, match=match):
        run_rtl(rtl, sequences, shared_build(name))


def copy_fixture(tmp_path: Path, name: str) -> Path:
    """Return a writable copy of a stand-in's rtl folder (with the shared core next to it)."""
    shutil.copy(FIXTURES / "sum_stand_in.sv", tmp_path)
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def test_build_cache(tmp_path):
    """The build is reused until a source changes; the default build dir is rtl_dir/../sim_build."""
    rtl = copy_fixture(tmp_path, "sum_hidden")
    sequences = random_sequences("sum_hidden", 2, count=3, max_len=4)
    first = run_rtl(rtl, sequences)
    again = run_rtl(rtl, sequences)
    assert (tmp_path / "sim_build" / "build.key").is_file()
    assert first.build_seconds > 0 and again.build_seconds == 0
    top = rtl / "hwgen_top.sv"
    top.write_text(top.read_text().replace(".GAP(2)", ".GAP(4)"))
    slower = run_rtl(rtl, sequences)
    assert slower.build_seconds > 0
    assert set(slower.step_cycles) == {5}
    assert_outputs(slower, "sum_hidden", sequences, "after the rebuild")


def identity_model(shape: list[int]):
    """Return a one-node QONNX model whose input has shape (only check_input looks at it)."""
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "stand_in",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    return ModelWrapper(helper.make_model(graph))


@pytest.mark.parametrize("name", STAND_INS)
def test_run_backend_rtl_layout(name):
    """Float input in the graph's layout in, run_reference's layout and float32 scale out."""
    design = load_design(FIXTURES / name)
    batch, steps = 3, 5
    shape = [batch, steps, design.x_count] if design.batch_first else [steps, batch,
                                                                        design.x_count]
    rng = np.random.default_rng(9)
    x = rng.uniform(-1.5, 3.0, size=shape).astype(np.float32)
    y = run_backend_rtl(identity_model(shape), x, FIXTURES / name, shared_build(name))
    codes = quantize_inputs(x if design.batch_first else np.swapaxes(x, 0, 1), design)
    outputs, _ = expected(name, list(codes))
    want = np.stack(outputs).astype(np.float32) * np.float32(design.y_type.scale)
    if design.kind == "hidden" and not design.batch_first:
        want = np.swapaxes(want, 0, 1)
    assert y.dtype == np.float32
    assert y.shape == want.shape and y.tolist() == want.tolist()


def test_quantize_inputs_rounds_and_clamps():
    design = load_design(FIXTURES / "sum_hidden")  # int4 at 2**-2, round half to even
    x = np.array([[0.26, -0.125, 0.375, 100.0]], dtype=np.float32)
    assert quantize_inputs(x, design).tolist() == [[1, 0, 2, 7]]


@pytest.mark.parametrize("bad, match", [
    ([], "no sequences"),
    ([np.zeros((3, 5), dtype=np.int64)], r"shape \[3, 5\], want \[T >= 1, 4\]"),
    ([np.zeros((0, 4), dtype=np.int64)], r"shape \[0, 4\]"),
    ([np.full((2, 4), 8, dtype=np.int64)], "not integer codes of int4"),
])
def test_bad_sequences_are_refused(bad, match, tmp_path):
    with pytest.raises(HwgenError, match=match):
        run_rtl(FIXTURES / "sum_hidden", bad, tmp_path)


def test_unknown_compile_opt_is_refused(tmp_path):
    with pytest.raises(HwgenError, match="compile_opt '-O9' is not one of"):
        run_rtl(FIXTURES / "sum_hidden", [np.zeros((1, 4), dtype=np.int64)], tmp_path,
                compile_opt="-O9")
