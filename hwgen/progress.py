"""Progress lines: every long step says what it does, in one format, on stdout."""
from __future__ import annotations


def say(message: str, stream=None) -> None:
    """Print one progress line to stream (stdout by default), flushed at once."""
    print(f"[hwgen] {message}", file=stream, flush=True)
