"""Regenerate the saved IR fixtures and golden dumps: python tests/make_ir_fixtures.py [NAME...]

Builds each case of ir_fixtures.CASES afresh (train, export, lower) and writes
tests/fixtures/onnx/NAME.onnx, tests/fixtures/ir/NAME/{ir.json, ir.npz} and
tests/golden/NAME.ir.txt.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # this checkout's hwgen, whatever is installed

from hwgen.ir.store import save_ir  # noqa: E402
from hwgen.locks import write_atomic  # noqa: E402
from ir_fixtures import CASES, GOLDEN, export_path, fixture_dir, lower_case  # noqa: E402


def main(names: list) -> None:
    for name in names or sorted(CASES):
        with tempfile.TemporaryDirectory() as tmp:
            ir = lower_case(name, Path(tmp))
            export_path(name).parent.mkdir(exist_ok=True)
            shutil.copyfile(Path(tmp) / f"{name}.onnx", export_path(name))
        save_ir(ir, fixture_dir(name))
        text = ir.dump()
        write_atomic(GOLDEN / f"{name}.ir.txt", lambda tmp: tmp.write_text(text))
        print(f"wrote {export_path(name)}, {fixture_dir(name)} and {GOLDEN / f'{name}.ir.txt'}")


if __name__ == "__main__":
    main(sys.argv[1:])
