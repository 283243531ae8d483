"""hwgen_requant in simulation: every input code, left/no/right shifts, all four roundings,
combinational and pipelined (PIPE)."""
import pytest

from hwgen.sim.tools import RTL_LIB, run_cocotb, sim_build_dir
from hwgen.types import IntType, Rounding

# The core's ROUNDING parameter encodes the mode as below (see hwgen_requant.sv).
ROUNDING_CODE = {Rounding.ROUND: 0, Rounding.FLOOR: 1, Rounding.CEIL: 2, Rounding.ROUND_TO_ZERO: 3}


def case(in_w, shift, rounding, out_w, out_signed=True, out_narrow=False, in_signed=True):
    """Return a case dict: input width/signedness, SHIFT, rounding and output type."""
    return dict(in_w=in_w, in_signed=in_signed, shift=shift, rounding=rounding.value,
                code=ROUNDING_CODE[rounding], out_w=out_w, out_signed=out_signed,
                out_narrow=out_narrow)


CASES = {
    "left2_saturate": case(6, -2, Rounding.ROUND, 6),
    "none_narrow": case(6, 0, Rounding.FLOOR, 4, out_narrow=True),
    "right3_round": case(7, 3, Rounding.ROUND, 4),
    "right3_floor": case(7, 3, Rounding.FLOOR, 4),
    "right3_ceil": case(7, 3, Rounding.CEIL, 4),
    "right3_to_zero": case(7, 3, Rounding.ROUND_TO_ZERO, 4),
    "right1_round_half_even": case(8, 1, Rounding.ROUND, 8),
    "right9_past_width_uint": case(6, 9, Rounding.CEIL, 3, out_signed=False),
    "uint_in_right2_to_zero_narrow": case(5, 2, Rounding.ROUND_TO_ZERO, 2, out_signed=False,
                                          out_narrow=True, in_signed=False),
}


def parameters(c: dict) -> dict:
    """Return the hwgen_requant parameters of a case."""
    out = IntType(c["out_w"], c["out_signed"], c["shift"], c["out_narrow"])
    return dict(IN_W=c["in_w"], IN_SIGNED=c["in_signed"], SHIFT=c["shift"], ROUNDING=c["code"],
                OUT_W=out.width, OUT_SIGNED=out.signed, OUT_MIN=out.min, OUT_MAX=out.max,
                PIPE=c["pipe"])


@pytest.mark.parametrize("pipe", [0, 1])
@pytest.mark.parametrize("name", CASES)
def test_requant(name, pipe, request):
    """Every input code: simulation == hwgen.reference.kernels.requantize."""
    c = dict(CASES[name], pipe=pipe)
    run_cocotb("hwgen_requant", [RTL_LIB / "hwgen_requant.sv"], parameters(c),
               "rtl_tests.cocotb_requant", sim_build_dir(f"rtl_tests/{request.node.name}"), c)
