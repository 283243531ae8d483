"""Shared test setup: tests import their helpers (brevitas_cases) from this folder; the Ray
cluster fixture of the sweep and search tests."""
import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster():
    """Return a context manager giving the address of a local Ray instance (head node, 2
    CPUs), stopped when it exits. `ray stop` stops every Ray process of the machine, so tests
    take turns holding an instance (a file lock across the pytest workers); a test enters it
    only around its Ray part, so that its local part runs beside the other test's."""
    return _locked_ray_cluster


@contextlib.contextmanager
def _locked_ray_cluster():
    with open(Path(tempfile.gettempdir()) / "hwgen-tests-ray.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _ray_cluster()


def _ray_cluster():
    ray_exe = Path(sys.executable).parent / "ray"
    assert ray_exe.is_file(), "the ray extra is installed by make"
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths
    port = _free_port()
    # Ray runs its workers at niceness 15; beside the other pytest worker they would get a
    # sliver of a core and make these tests the suite's long tail, so they run at 0 here.
    env = {**os.environ, "RAY_worker_niceness": "0"}
    start = subprocess.run([str(ray_exe), "start", "--head", f"--port={port}", "--num-cpus=2",
                            "--include-dashboard=false", "--disable-usage-stats",
                            f"--temp-dir={temp}"], capture_output=True, text=True, timeout=180,
                           env=env)
    assert start.returncode == 0, start.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_exe), "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)
