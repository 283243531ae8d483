"""`dataset: pydoc_chars`: a character-level corpus that ships with Python itself.

The text is the standard library's pydoc help topics (`pydoc_data.topics.topics`, a dict of
topic name -> help text, installed with every CPython; each Python version ships its own
texts). It is read deterministically:
- topics in sorted name order; topic k (0-based) is a test topic when k % 5 == 4, else a
  training topic (a split by topic, so no test sentence is seen in training);
- each part is its topics' texts joined by one newline, cut to its first TRAIN_CHARS (training)
  or TEST_CHARS (test) + 1 characters;
- characters become token ids through VOCAB: newline is 0, printable ASCII ' '..'~' are 1..95,
  every other character (e.g. typographic quotes) is UNKNOWN (96); 97 tokens in all;
- the id stream s is cut into consecutive chunks of CHUNK steps: chunk i is the input
  x = s[i*CHUNK:(i+1)*CHUNK] and the next-character targets y = s[i*CHUNK+1:(i+1)*CHUNK+1]
  (an incomplete last chunk is dropped). Chunk i+1 continues chunk i, so a model may carry its
  state from one chunk to the next (stateful evaluation).
"""
from __future__ import annotations

import numpy as np

NAME = "pydoc_chars"
CHUNK = 64  # steps per chunk
TRAIN_CHARS = 131072  # characters of the training topics used (2,048 chunks of 434,098 in 3.11)
TEST_CHARS = 32768  # cap of the test topics' characters (3.11's 30,949 are all used: 483 chunks)
TEST_EVERY = 5  # topic k is a test topic when k % TEST_EVERY == TEST_EVERY - 1
#: The vocabulary: token id -> character; UNKNOWN stands for every character not in it.
VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
UNKNOWN = len(VOCAB)
UNKNOWN_LABEL = "<unk>"
TOKENS = len(VOCAB) + 1


def topic_texts() -> tuple[list[str], list[str]]:
    """Return (training topics' texts, test topics' texts) in sorted topic order."""
    from pydoc_data.topics import topics

    names = sorted(topics)
    train = [topics[n] for k, n in enumerate(names) if k % TEST_EVERY != TEST_EVERY - 1]
    test = [topics[n] for k, n in enumerate(names) if k % TEST_EVERY == TEST_EVERY - 1]
    return train, test


def encode(text: str) -> np.ndarray:
    """Return the int64 token ids of text (UNKNOWN for a character outside VOCAB)."""
    table = np.full(128, UNKNOWN, dtype=np.int64)
    table[[ord(c) for c in VOCAB]] = np.arange(len(VOCAB))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return np.where(codes < 128, table[np.minimum(codes, 127)], UNKNOWN)


def decode(ids) -> str:
    """Return the text of token ids (UNKNOWN shown as U+FFFD)."""
    return "".join(VOCAB[i] if i < len(VOCAB) else "\ufffd" for i in np.asarray(ids))


def chunks(ids: np.ndarray, steps: int = CHUNK) -> tuple[list, np.ndarray]:
    """Return (inputs: a list of int64 [steps] arrays, targets int64 [N, steps]) of the
    consecutive chunks of an id stream, each target the id after its input."""
    count = (len(ids) - 1) // steps
    x = [ids[i * steps:(i + 1) * steps].copy() for i in range(count)]
    y = np.stack([ids[i * steps + 1:(i + 1) * steps + 1] for i in range(count)])
    return x, y


def streams() -> tuple[np.ndarray, np.ndarray]:
    """Return the (training, test) id streams: each part's topics joined by a newline, cut."""
    train, test = topic_texts()
    return (encode("\n".join(train)[:TRAIN_CHARS + 1]),
            encode("\n".join(test)[:TEST_CHARS + 1]))
