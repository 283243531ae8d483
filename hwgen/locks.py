"""One command at a time per build folder, and no empty folder left by a command that failed.

A folder's lock is the file FOLDER/.hwgen.lock, held with flock for the whole command. A command
that fails before writing anything into a folder it created removes the folder again; the lock
file does not count as an artifact. A waiting process checks, once it holds the lock, that the
file it locked is still the one at the path (the holder may have removed the folder), and locks
again if not.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

from hwgen.progress import say

LOCK_NAME = ".hwgen.lock"


def _is_current(lock, path: Path) -> bool:
    """Return True when the open file lock is still the file at path."""
    try:
        return os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino
    except FileNotFoundError:
        return False


def _open_lock(folder: Path):
    """Return the lock file of folder, opened (the folder is created if needed), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / LOCK_NAME, "a")
    except FileNotFoundError:  # another process removed the folder just now
        return None


def _acquire(folder: Path):
    """Return folder's lock file, opened and locked exclusively; say so when waiting for it."""
    said = False
    while True:
        lock = _open_lock(folder)
        if lock is None:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not said:
                say(f"waiting for another hwgen run that uses {folder}")
                said = True
            fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(lock, folder / LOCK_NAME):
            return lock
        lock.close()


def _missing(folder: Path) -> list:
    """Return folder and those of its parents that do not exist, innermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folder: Path, created: list) -> None:
    """Remove folder's lock and the created folders, innermost first, while they are empty."""
    if not folder.is_dir() or any(p.name != LOCK_NAME for p in folder.iterdir()):
        return
    (folder / LOCK_NAME).unlink(missing_ok=True)
    for path in created:
        try:
            path.rmdir()
        except OSError:  # something arrived meanwhile: keep it
            return


@contextlib.contextmanager
def locked_folder(folder):
    """Hold folder's lock while the block runs; yield the folder as a Path.

    If the block raises and the folder did not exist before and holds nothing but the lock, the
    folder is removed, and so are the parents made for it (build/ of a first command).
    """
    folder = Path(folder)
    created = _missing(folder)
    lock = _acquire(folder)
    try:
        yield folder
    except BaseException:
        if created:
            _remove_empty(folder, created)
        raise
    finally:
        lock.close()  # closing the file releases the lock


def write_atomic(path, write) -> Path:
    """Return path after write(tmp) filled a temporary file next to it that then replaced it.

    The temporary file's name is unique to this call; it is removed if write fails, so no
    half-written file ever has path's name or stays behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write data to path as write_atomic does; return path."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))
