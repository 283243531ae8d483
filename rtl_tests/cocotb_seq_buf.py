"""cocotb tests for hwgen_seq_buf: sequences through stalls against replay(), overlong sequences,
and the cycle counts of the core's header without stalls."""
from __future__ import annotations

import cocotb

from rtl_tests.cocotb_streams import (AxisTB, check_in_order, frames, load_case, random_sequences,
                                      record, run_axis)

TIMEOUT_US = 400  # a buffer that stops accepting input fails instead of hanging


def replay(seq: list[int], depth: int, reverse: bool) -> list[int]:
    """Return what the buffer sends for seq: past depth elements, the last one overwrites slot
    depth-1 (the core's documented overflow rule); reversed when reverse."""
    kept = seq if len(seq) <= depth else seq[:depth - 1] + seq[-1:]
    return kept[::-1] if reverse else list(kept)


class SeqBufTB(AxisTB):
    """hwgen_seq_buf with its case: width, depth, order and banks."""

    def __init__(self, dut):
        case = load_case()
        super().__init__(dut, case["seed"])
        for name in ("W", "DEPTH", "REVERSE", "BANKS"):
            assert int(getattr(dut, name).value) == case[name.lower()], f"{name} differs from case"
        self.case = case
        self.depth = case["depth"]

    def sequences(self, lengths) -> list[list[int]]:
        """Return one random sequence of the case's width per entry of lengths."""
        return random_sequences(self.rng, lengths, self.case["w"])

    def random_lengths(self, count: int) -> list[int]:
        """Return count lengths in 1..DEPTH, with 1 and DEPTH among the first ones."""
        return [1, self.depth, 1, 1, self.depth] + [self.rng.randint(1, self.depth)
                                                    for _ in range(count)]

    async def check(self, seqs, idle: float, backpressure: float):
        """Stream seqs through the buffer; assert the output == every replay, in order."""
        want = frames(replay(s, self.depth, self.case["reverse"]) for s in seqs)
        _, sinks = await run_axis(self, {"s": frames(seqs)}, {"m": len(want)}, idle, backpressure)
        check_in_order(sinks["m"].items, want, self.seed)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_through_stalls(dut):
    """Random lengths 1..DEPTH, idle input and backpressure at random: every replay, with ==."""
    tb = SeqBufTB(dut)
    await tb.start()
    await tb.check(tb.sequences(tb.random_lengths(tb.case["sequences"])), 0.3, 0.4)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def slow_sink_then_slow_source(dut):
    """A sink that mostly stalls (the banks fill up), then a source that mostly idles."""
    tb = SeqBufTB(dut)
    await tb.start()
    count = tb.case["sequences"] // 4
    await tb.check(tb.sequences(tb.random_lengths(count)), 0.0, 0.8)
    await tb.check(tb.sequences(tb.random_lengths(count)), 0.8, 0.0)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def overlong_sequences(dut):
    """Sequences longer than DEPTH keep their first DEPTH-1 elements and their last one; the
    sequences around them are unaffected."""
    tb = SeqBufTB(dut)
    await tb.start()
    d = tb.depth
    lengths = [d + 1, 2, 3 * d + 2, d, 1, d + 1, d + tb.rng.randint(1, 2 * d), d]
    await tb.check(tb.sequences(lengths), 0.2, 0.3)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def timing_without_stalls(dut):
    """No stalls: a replay starts LATENCY cycles after its s_tlast or right after the replay
    before it, whichever is later; a sequence enters as soon as a bank is free; both take one
    cycle per element."""
    tb = SeqBufTB(dut)
    await tb.start()
    latency, banks, d = int(dut.LATENCY.value), tb.case["banks"], tb.depth
    lengths = [d, 1, 1, d, max(1, d // 2), d, 2 if d > 1 else 1, 1, d, d, d]
    seqs = tb.sequences(lengths)
    want = frames(replay(s, d, tb.case["reverse"]) for s in seqs)
    sources, sinks = await run_axis(tb, {"s": frames(seqs)}, {"m": len(want)}, 0.0, 0.0)
    check_in_order(sinks["m"].items, want, tb.seed)
    sent, got = sources["s"].sent_cycles, sinks["m"].cycles
    ends = [sum(lengths[:n + 1]) for n in range(len(lengths))]  # one past each sequence
    starts = [0] + ends[:-1]
    record({"latency": got[0] - sent[ends[0] - 1]})  # the buffer was empty
    earliest = [max(sent[e - 1] + latency, got[s - 1] + 1 if s else 0)
                for s, e in zip(starts, ends)]
    first = [got[s] for s in starts]
    assert first == earliest, f"seed {tb.seed}: replays start at {first}, want {earliest}"
    for s, e in zip(starts, ends):
        assert sent[s:e] == list(range(sent[s], sent[s] + e - s)), f"seed {tb.seed}: {sent[s:e]}"
        assert got[s:e] == list(range(got[s], got[s] + e - s)), f"seed {tb.seed}: {got[s:e]}"
    # Sequence n enters as soon as a bank is free: when the last element of sequence n - BANKS
    # leaves (it was read out of the memory the cycle before).
    entered = [sent[s] for s in starts]
    free = [max(sent[s - 1] + 1 if s else 0, got[ends[n - banks] - 1] if n >= banks else 0)
            for n, s in enumerate(starts)]
    assert entered[1:] == free[1:], f"seed {tb.seed}: sequences enter at {entered}, want {free}"
