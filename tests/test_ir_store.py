"""Saved IR: fixtures load to their golden dumps, re-save byte-identically, fold like a fresh
lowering, and bad files give one-line errors naming the file and the key."""
from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from hwgen.ir.store import NPZ_NAME, ir_digest, load_ir, save_ir
from hwgen.passes.fold import fold
from hwgen.types import HwgenError
from ir_fixtures import CASES, fixture_dir, golden_text, load_fixture, lower_export
from test_cli_errors import hwgen_inprocess  # noqa: F401  (a fixture)

NAMES = sorted(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_loads_to_its_golden_dump(name):
    assert load_fixture(name).dump() == golden_text(name)


@pytest.mark.parametrize("name", NAMES)
def test_resaving_a_fixture_is_byte_identical(name, tmp_path):
    ir = load_fixture(name)
    save_ir(ir, tmp_path / "a")
    save_ir(ir, tmp_path / "b")
    for file in ("ir.json", "ir.npz"):
        want = (fixture_dir(name) / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() == want
        assert (tmp_path / "b" / file).read_bytes() == want
    assert ir_digest(tmp_path / "a") == ir_digest(fixture_dir(name))
    assert len(ir_digest(fixture_dir(name))) == 16


def test_folded_ir_round_trips(tmp_path):
    ir = fold(load_fixture("bilstm_2x"), 4, 1, 9)
    save_ir(ir, tmp_path)
    back = load_ir(tmp_path)
    assert back.dump() == ir.dump() and back.max_steps == 9 and back.layers[1].h_mv.pe == 4


def test_multipliers_round_trip_and_absent_means_auto(tmp_path):
    ir = fold(load_fixture("bilstm_2x"), 4, 1, 9, multipliers="lut")
    save_ir(ir, tmp_path / "lut")
    assert json.loads((tmp_path / "lut" / "ir.json").read_text())["multipliers"] == "lut"
    assert load_ir(tmp_path / "lut").multipliers == "lut"
    assert "multipliers: lut" in ir.dump()
    save_ir(fold(ir, 4, 1, 9, multipliers="auto"), tmp_path / "auto")
    assert "multipliers" not in json.loads((tmp_path / "auto" / "ir.json").read_text())
    assert load_ir(tmp_path / "auto").multipliers == "auto"
    assert fold(ir, 4, 1, 9).multipliers == "lut"  # fold keeps the IR's choice unless given


def test_lanes_round_trip_and_absent_means_all_units(tmp_path):
    ir = fold(load_fixture("bilstm_2x"), 4, 1, 9, lanes=1)
    save_ir(ir, tmp_path / "one")
    layers = json.loads((tmp_path / "one" / "ir.json").read_text())["layers"]
    assert [layer["lanes"] for layer in layers] == [1] * len(ir.layers)
    back = load_ir(tmp_path / "one")
    assert back.dump() == ir.dump() and {d.units_per_cycle for d in back.layers} == {1}
    assert " lanes=1" in ir.dump()
    parallel = fold(ir, max_steps=9)  # fully parallel: lanes = H, saved as before the key
    save_ir(parallel, tmp_path / "all")
    assert all("lanes" not in layer
               for layer in json.loads((tmp_path / "all" / "ir.json").read_text())["layers"])
    assert all(d.units_per_cycle == d.hidden_size for d in load_ir(tmp_path / "all").layers)


def test_lanes_not_dividing_the_hidden_size_are_refused(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d["layers"][0].update(lanes=5))
    assert "lanes 5 must divide the hidden size" in _error(folder)


def test_unknown_multipliers_is_refused(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d.update(multipliers="fast"))
    assert "multipliers 'fast'" in _error(folder)


@pytest.fixture(scope="module")
def fresh_lstm_head():
    """The lstm_head case lowered afresh from its saved QONNX export."""
    return lower_export("lstm_head")


@pytest.mark.parametrize("name", NAMES)
def test_lowering_the_saved_export_gives_the_golden_dump(name):
    assert lower_export(name).dump() == golden_text(name)


def test_fold_of_loaded_fixture_equals_fold_of_fresh_lowering(fresh_lstm_head, tmp_path):
    for pe, simd in ((0, 0), (4, 4), (8, 2)):
        save_ir(fold(load_fixture("lstm_head"), pe, simd), tmp_path / "loaded")
        save_ir(fold(fresh_lstm_head, pe, simd), tmp_path / "fresh")
        for file in ("ir.json", "ir.npz"):
            assert ((tmp_path / "loaded" / file).read_bytes()
                    == (tmp_path / "fresh" / file).read_bytes()), (pe, simd, file)


# --- bad files ------------------------------------------------------------------------------
def _copy(tmp_path, name="rnn_head"):
    folder = tmp_path / name
    shutil.copytree(fixture_dir(name), folder)
    return folder


def _edit_json(folder, edit):
    data = json.loads((folder / "ir.json").read_text())
    edit(data)
    (folder / "ir.json").write_text(json.dumps(data))


def _rewrite_npz(folder, key, value):
    with np.load(folder / NPZ_NAME) as arrays:
        data = {k: arrays[k] for k in arrays.files}
    if value is None:
        del data[key]
    else:
        data[key] = value
    buffer = io.BytesIO()
    np.savez(buffer, **data)
    (folder / NPZ_NAME).write_bytes(buffer.getvalue())


def _error(folder) -> str:
    with pytest.raises(HwgenError) as info:
        load_ir(folder)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("file", ["ir.json", "ir.npz"])
def test_missing_file(tmp_path, file):
    folder = _copy(tmp_path)
    (folder / file).unlink()
    assert f"{folder / file}: missing" in _error(folder)
    with pytest.raises(HwgenError, match="missing"):
        ir_digest(folder)


def test_wrong_version(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d.update(version=99))
    assert _error(folder).startswith(f"{folder / 'ir.json'}: format 'hwgen-ir' version 99")


def test_missing_key(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d["layers"][0]["sum"].pop("x_shift"))
    assert _error(folder) == f"{folder / 'ir.json'}: key layers.0.sum.x_shift: missing"


def test_wrong_value_kind(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d["head"].update(mv_shift="6"))
    assert _error(folder) == f"{folder / 'ir.json'}: key head.mv_shift: '6' is not int"


def test_not_json(tmp_path):
    folder = _copy(tmp_path)
    (folder / "ir.json").write_text("{")
    assert _error(folder).startswith(f"{folder / 'ir.json'}: not JSON")


def test_wrong_array_shape(tmp_path):
    folder = _copy(tmp_path)
    _rewrite_npz(folder, "l0.x_mv.weights", np.zeros((6, 4), dtype=np.int64))
    assert _error(folder) == (f"{folder / 'ir.npz'}: key l0.x_mv.weights: shape [6, 4], "
                              "expected [6, 5]")


def test_missing_array(tmp_path):
    folder = _copy(tmp_path)
    _rewrite_npz(folder, "l0.act.table", None)
    assert _error(folder) == f"{folder / 'ir.npz'}: key l0.act.table: missing"


def test_loaded_records_check_their_invariants(tmp_path):
    folder = _copy(tmp_path)
    _edit_json(folder, lambda d: d["layers"][0]["x_mv"]["acc_type"].update(width=3))
    message = _error(folder)
    assert message.startswith(f"{folder / 'ir.json'}: key layers.0.x_mv: IR stage 'l0.x_mv': "
                              "accumulator int3*2^0 does not hold")
    folder = _copy(tmp_path, "lstm_head")
    _edit_json(folder, lambda d: d["layers"][0]["hidden"]["o_type"].update(width=6))
    assert "key layers.0: IR layer 'l0': l0.hidden o is uint6" in _error(folder)


def test_build_from_a_saved_ir(hwgen_inprocess, tmp_path):
    """`hwgen build IR_DIR` emits from a saved IR: its folded copy and the RTL's ir.txt are the
    fixture's, and a folding is applied to it."""
    out = tmp_path / "o"
    proc = hwgen_inprocess("build", fixture_dir("lstm_head"), "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "rtl" / "ir.txt").read_text() == golden_text("lstm_head")
    for name in ("ir.json", "ir.npz"):
        assert (out / "ir" / name).read_bytes() == (fixture_dir("lstm_head") / name).read_bytes()
    proc = hwgen_inprocess("build", fixture_dir("lstm_head"), "--out", tmp_path / "f", "--pe", 8)
    assert proc.returncode == 0, proc.stderr
    assert "pe=8" in (tmp_path / "f" / "rtl" / "ir.txt").read_text()
