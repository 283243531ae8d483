"""cocotb tests for a generated hwgen_axis_top: sequences in on s_axis, outputs on m_axis, equal
(==) to the words the pytest side packed from the int64 reference, under random idle input cycles
and random m_axis_tready backpressure; nothing transfers while aresetn is low; without stalls a
sequence takes exactly the cycle model's cycles (the wrapper adds none).

The case (from rtl_tests/test_axis_top.py) holds the input items (word, tlast) with random bits in
the input's byte padding, the expected output items, the state words (if any) and the seed.
"""
from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from rtl_tests.cocotb_streams import (PERIOD_NS, AxisTB, StreamTB, check_in_order, load_case,
                                      run_axis)

TIMEOUT_US = 2000


class _Dut:
    """The DUT seen through the stream drivers: they clock on `clk`, this top on `aclk`."""

    def __init__(self, dut):
        self._dut = dut

    def __getattr__(self, name):
        return getattr(self._dut, "aclk" if name == "clk" else name)


class AxisTopTB(AxisTB):
    """hwgen_axis_top with its case: clock on aclk, reset by aresetn."""

    def __init__(self, dut):
        self.case = load_case()
        for port, want in self.case["widths"].items():
            assert len(getattr(dut, port)) == want, f"{port} is {len(getattr(dut, port))} bits"
        super().__init__(_Dut(dut), self.case["seed"], sources=("s_axis",), sinks=("m_axis",))

    async def start(self):
        """Start the clock and hold aresetn low for four cycles, every stream idle."""
        dut = self.dut
        dut.s_axis_tvalid.value = 0
        dut.m_axis_tready.value = 0
        if self.case["states"]:
            dut.s_axis_state_tvalid.value = 0
        dut.aresetn.value = 0
        cocotb.start_soon(Clock(dut.aclk, PERIOD_NS, unit="ns").start())
        await ClockCycles(dut.aclk, 4)
        dut.aresetn.value = 1


async def send_states(tb: StreamTB, words: list, idle: float):
    """Offer one state word per sequence on s_axis_state_* (no tlast), idling at random."""
    dut, rng = tb.dut, random.Random(f"{tb.seed}/state")
    for word in words:
        while True:
            await RisingEdge(dut.aclk)
            offer = rng.random() >= idle
            dut.s_axis_state_tvalid.value = int(offer)
            dut.s_axis_state_tdata.value = word
            await ReadOnly()
            if offer and dut.s_axis_state_tready.value:
                break
    await RisingEdge(dut.aclk)
    dut.s_axis_state_tvalid.value = 0


async def stream(tb: AxisTopTB, idle: float, backpressure: float):
    case = tb.case
    if case["states"]:
        cocotb.start_soon(send_states(tb, case["states"], idle))
    items = [tuple(i) for i in case["inputs"]]
    want = [tuple(i) for i in case["expected"]]
    _, sinks = await run_axis(tb, {"s_axis": items}, {"m_axis": len(want)}, idle, backpressure,
                              drain_cycles=case["drain"])
    check_in_order(sinks["m_axis"].items, want, tb.seed, describe=hex_item)


def hex_item(item) -> str:
    return f"({item[0]:#x}, tlast {item[1]})"


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def sequences_under_stalls(dut):
    """Random idle input cycles and output backpressure: every output word == the reference's."""
    tb = AxisTopTB(dut)
    await tb.start()
    await stream(tb, 0.3, 0.4)


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def cycles_as_modelled(dut):
    """No stalls, one sequence at a time into an idle design: from its first input transfer to its
    last output transfer takes exactly the cycle model's sequence_cycles (the wrapper adds none)."""
    tb = AxisTopTB(dut)
    await tb.start()
    case, first, got = tb.case, 0, []
    for k, length in enumerate(case["lengths"][:case["timed"]]):
        if case["states"]:
            cocotb.start_soon(send_states(tb, case["states"][k:k + 1], 0.0))
        items = [tuple(i) for i in case["inputs"][first:first + length]]
        count = case["outputs_per_sequence"][k]
        sources, sinks = await run_axis(tb, {"s_axis": items}, {"m_axis": count}, 0.0, 0.0,
                                        drain_cycles=case["drain"] + case["latencies"][k])
        assert len(sinks["m_axis"].items) == count, f"sequence {k}: {sinks['m_axis'].items}"
        got.append(sinks["m_axis"].cycles[-1] - sources["s_axis"].sent_cycles[0])
        first += length
    assert got == case["latencies"][:case["timed"]], f"cycles {got}"


@cocotb.test(timeout_time=TIMEOUT_US, timeout_unit="us")
async def nothing_moves_in_reset(dut):
    """With aresetn low, tvalid offered and tready given, s_axis_tready and m_axis_tvalid (and
    s_axis_state_tready) stay 0; after it the sequences still pass."""
    tb = AxisTopTB(dut)
    await tb.start()
    await ClockCycles(dut.aclk, 8)  # let the design settle idle
    dut.aresetn.value = 0
    dut.s_axis_tvalid.value = 1
    dut.s_axis_tdata.value = tb.case["inputs"][0][0]
    dut.m_axis_tready.value = 1
    if tb.case["states"]:
        dut.s_axis_state_tvalid.value = 1
    for _ in range(6):
        await RisingEdge(dut.aclk)
        await ReadOnly()
        assert not dut.s_axis_tready.value and not dut.m_axis_tvalid.value, "moved in reset"
        if tb.case["states"]:
            assert not dut.s_axis_state_tready.value, "state taken in reset"
    await RisingEdge(dut.aclk)
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    if tb.case["states"]:
        dut.s_axis_state_tvalid.value = 0
    dut.aresetn.value = 1
    await stream(tb, 0.2, 0.2)
