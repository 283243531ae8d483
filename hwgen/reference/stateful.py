"""Stateful streams: a long sequence fed as chunks, each ending with tlast, whose recurrent state
carries from one chunk into the next (a stateful design keeps h and c across tlast).

The state starts at zero at the stream's start and wherever `clear` says (the hardware's rst);
otherwise each chunk starts from the state the previous one ended in. Chunked this way, a stream
gives exactly what the whole sequence gives in one go.
"""
from __future__ import annotations

from typing import Callable, Sequence


def carry_chunks(run: Callable, chunks: Sequence, clear: Sequence[bool] = None) -> list:
    """Return [run's result of each chunk], the state carried from chunk to chunk.

    run(chunk, state) -> (result, state at the chunk's end); state None means zero. clear[k]
    (default: only the first chunk) starts chunk k from zero.
    """
    clear = list(clear) if clear is not None else [k == 0 for k in range(len(chunks))]
    if len(clear) != len(chunks):
        raise ValueError(f"{len(clear)} clear flags for {len(chunks)} chunks")
    results, state = [], None
    for chunk, fresh in zip(chunks, clear):
        result, state = run(chunk, None if fresh else state)
        results.append(result)
    return results
