"""Where a command writes: checked before any work starts, so a bad `--out` costs no training.

Each check is one HwgenError naming the path: a folder target that is a file, a file target that
is a folder, a path under a file, or a place this user cannot write. Nothing is created here.
"""
from __future__ import annotations

import os
from pathlib import Path

from hwgen.types import HwgenError


def _nearest_existing(path: Path) -> Path:
    """Return path itself if it exists, else its nearest existing ancestor."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_place(path: Path, what: str) -> None:
    """Raise HwgenError unless the folder that would hold path's new entries is writable."""
    found = _nearest_existing(path)
    if not found.is_dir():
        raise HwgenError(f"{what} {path}: {found} is a file, not a folder")
    if not os.access(found, os.W_OK | os.X_OK):
        raise HwgenError(f"{what} {path}: {found} is not writable")


def check_folder(path, what: str = "--out") -> Path:
    """Return path if a command can create or fill it as a folder, else raise HwgenError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HwgenError(f"{what} {path}: is a file, not a folder")
    _check_place(path, what)
    return path


def check_file(path, what: str = "--out") -> Path:
    """Return path if a command can create or replace it as a file, else raise HwgenError."""
    path = Path(path)
    if path.is_dir():
        raise HwgenError(f"{what} {path}: is a folder, not a file")
    if not path.name:
        raise HwgenError(f"{what} {path}: not a file name")
    _check_place(path.parent if path.exists() else path, what)
    return path
