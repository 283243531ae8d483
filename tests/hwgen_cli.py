"""Run the `hwgen` command line in a subprocess, as a user would."""
from __future__ import annotations

import subprocess
import sys


def run_hwgen(*args, cwd, timeout=1200) -> subprocess.CompletedProcess:
    """Return the finished `python -m hwgen.cli ARGS` run in cwd (text output captured)."""
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
