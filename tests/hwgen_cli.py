"""Run the `hwgen` command line in a subprocess, as a user would."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_hwgen(*args, cwd, timeout=1200) -> subprocess.CompletedProcess:
    """Return the finished `python -m hwgen.cli ARGS` run in cwd (text output captured)."""
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def build_folder(spec_file) -> Path:
    """Return the build folder hwgen gives a spec file, relative to the folder hwgen runs in."""
    from hwgen.flow import out_dir
    from hwgen.spec import load_spec

    return out_dir(load_spec(str(Path(spec_file).resolve())))
