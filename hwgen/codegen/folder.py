"""Publish a generated folder whole or not at all: fill a private folder next to it, then rename.

The private folder's name is unique per call (process id and random bits), so two processes
writing the same target never share it; whatever fails in between (an error, Ctrl-C) removes it.
"""
from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

ATTEMPTS = 20  # how often to retry when another process published the same target meanwhile


def _private(target: Path, tag: str) -> Path:
    """Return a new empty folder next to target, named for this process and call."""
    folder = target.with_name(f".{target.name}-{tag}-{os.getpid()}-{secrets.token_hex(4)}")
    folder.mkdir()
    return folder


def _set_aside(target: Path) -> None:
    """Remove target's current folder, if any, without leaving it half-deleted at its name."""
    if not target.exists():
        return
    aside = _private(target, "old")
    try:
        os.replace(target, aside)  # onto the empty folder: the old one leaves its name at once
    except FileNotFoundError:
        pass  # another process set it aside first
    shutil.rmtree(aside, ignore_errors=True)


def _swap(tmp: Path, target: Path) -> None:
    """Move tmp to target, replacing what is there (even if another process races to it)."""
    for _ in range(ATTEMPTS):
        _set_aside(target)
        try:
            os.rename(tmp, target)
            return
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    raise OSError(errno.EEXIST, "another process keeps writing the same folder", str(target))


def publish(target, write) -> Path:
    """Return target after write(folder) filled a private folder and it replaced target whole."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _private(target, "tmp")
    try:
        write(tmp)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
