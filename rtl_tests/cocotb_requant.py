"""cocotb test for hwgen_requant: every input code against hwgen.reference.kernels.requantize;
with PIPE, one code per cycle and y exactly REQUANT_PIPE_LATENCY (hwgen.cores, equal to the core's
LATENCY) cycles after its x."""
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from hwgen.cores import REQUANT_PIPE_LATENCY
from hwgen.reference.kernels import requantize
from hwgen.types import IntType, Rounding
from rtl_tests.cocotb_streams import PERIOD_NS, load_case


async def combinational(dut, codes: list, src: IntType, read) -> list:
    """Drive each code and return read() once y settles."""
    got = []
    for x in codes:
        dut.x.value = x & ((1 << src.width) - 1)
        await Timer(1, unit="ns")
        got.append(read())
    return got


async def pipelined(dut, codes: list, src: IntType, read) -> list:
    """Drive one code per cycle and return read() REQUANT_PIPE_LATENCY cycles after each."""
    assert int(dut.LATENCY.value) == REQUANT_PIPE_LATENCY, "LATENCY differs from hwgen.cores"
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    got = []
    for k in range(len(codes) + REQUANT_PIPE_LATENCY):
        await RisingEdge(dut.clk)
        if k < len(codes):
            dut.x.value = codes[k] & ((1 << src.width) - 1)
        await ReadOnly()
        if k >= REQUANT_PIPE_LATENCY:
            got.append(read())
    return got


@cocotb.test()
async def every_input_code(dut):
    """Drive every IN_W-bit code (shuffled with PIPE) and compare y with the reference, with ==."""
    case = load_case()
    assert dut.SHIFT.value.to_signed() == case["shift"]
    assert dut.ROUNDING.value.to_signed() == case["code"]
    assert int(dut.PIPE.value) == case["pipe"]
    src = IntType(case["in_w"], case["in_signed"])
    dst = IntType(case["out_w"], case["out_signed"], case["shift"], case["out_narrow"])
    codes = list(range(src.min, src.max + 1))
    if case["pipe"]:  # neighbours differ, so a wrong latency cannot go unnoticed
        random.Random(len(codes)).shuffle(codes)
    want = requantize(codes, 0, dst, Rounding(case["rounding"])).tolist()

    def read():
        return dut.y.value.to_signed() if dst.signed else dut.y.value.to_unsigned()

    got = await (pipelined if case["pipe"] else combinational)(dut, codes, src, read)
    bad = [(x, g, w) for x, g, w in zip(codes, got, want) if g != w]
    assert not bad, f"{len(bad)} of {len(codes)} codes differ, (x, got, want): {bad[:8]}"
    assert len(got) == len(codes)
