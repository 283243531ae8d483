"""cocotb test for hwgen_requant: every input code against hwgen.reference.kernels.requantize."""
import cocotb
from cocotb.triggers import Timer

from hwgen.reference.kernels import requantize
from hwgen.types import IntType, Rounding
from rtl_tests.cocotb_streams import load_case


@cocotb.test()
async def every_input_code(dut):
    """Drive every IN_W-bit code and compare y with the reference, with ==."""
    case = load_case()
    assert dut.SHIFT.value.to_signed() == case["shift"]
    assert dut.ROUNDING.value.to_signed() == case["code"]
    src = IntType(case["in_w"], case["in_signed"])
    dst = IntType(case["out_w"], case["out_signed"], case["shift"], case["out_narrow"])
    codes = list(range(src.min, src.max + 1))
    want = requantize(codes, 0, dst, Rounding(case["rounding"])).tolist()
    got = []
    for x in codes:
        dut.x.value = x & ((1 << src.width) - 1)
        await Timer(1, unit="ns")
        got.append(dut.y.value.to_signed() if dst.signed else dut.y.value.to_unsigned())
    bad = [(x, g, w) for x, g, w in zip(codes, got, want) if g != w]
    assert not bad, f"{len(bad)} of {len(codes)} codes differ, (x, got, want): {bad[:8]}"
