"""cocotb test for hwgen_gate: every (x_acc, h_acc) pair in every unit against the gate step of
hwgen.ir.graph (kernels.requantize then kernels.lut), out_valid exactly GATE_LATENCY (hwgen.cores,
equal to the core's LATENCY; lane_latency of it with LANES < H) cycles after in_valid."""
from __future__ import annotations

import itertools
import random

import cocotb

from hwgen.cores import GATE_LATENCY, lane_latency
from hwgen.reference.kernels import as_int, lut, requantize
from hwgen.types import IntType, Rounding
from rtl_tests.cocotb_lut_vec import check_steps, lanes_of, rotate, run_registered, start_clock
from rtl_tests.cocotb_streams import load_case, pack, unpack


class GateTB:
    """hwgen_gate with its case: accumulator ranges, shifts, bias, quantizer and table."""

    def __init__(self, dut):
        self.dut = dut
        self.case = case = load_case()
        self.seed = case["seed"]
        self.rng = random.Random(self.seed)
        for name, key in (("H", "h"), ("X_SHIFT", "x_shift"), ("H_SHIFT", "h_shift"),
                          ("ACC_SHIFT", "acc_shift"), ("ROUNDING", "rounding_code")):
            assert getattr(dut, name).value.to_signed() == case[key], f"{name} differs"
        self.acc = IntType(*case["acc"])
        self.act_w, self.act_signed = case["act"]
        lanes = lanes_of(dut, case, case["h"])
        self.beats = case["h"] // lanes
        self.latency = lane_latency(GATE_LATENCY, case["h"], lanes, reg_select=True)
        assert int(dut.LATENCY.value) == self.latency, "LATENCY differs from hwgen.cores"

    def steps(self, random_steps: int) -> list[list[tuple]]:
        """Return every (x_acc, h_acc) pair in every unit, then random pairs."""
        (xl, xh), (hl, hh) = self.case["x_range"], self.case["h_range"]
        units = self.case["h"]
        pairs = list(itertools.product(range(xl, xh + 1), range(hl, hh + 1)))
        rand = [[(self.rng.randint(xl, xh), self.rng.randint(hl, hh)) for _ in range(units)]
                for _ in range(random_steps)]
        return rotate(pairs, units) + rand

    def drive(self, step: list[tuple]) -> dict:
        """Return the port values of one step."""
        return {"x_acc": pack([x for x, _ in step], self.case["ax_w"]),
                "h_acc": pack([h for _, h in step], self.case["ah_w"])}

    def read(self, dut) -> list[int]:
        """Return the act lanes as integers."""
        return unpack(dut.act.value.to_unsigned(), self.act_w, self.case["h"], self.act_signed)

    def expected(self, steps) -> list[list[int]]:
        """Return the activation codes of hwgen.ir.graph's gate step for every step."""
        c = self.case
        pairs = as_int(steps)  # [steps, H, 2]
        total = (pairs[..., 0] << c["x_shift"]) + (pairs[..., 1] << c["h_shift"])
        total = total + as_int(c["bias"])  # zero for a layer without bias
        acc = requantize(total, c["sum_exp"], self.acc, Rounding(c["rounding"]))
        return lut(c["table"], self.acc, acc).tolist()


@cocotb.test()
async def every_pair_in_every_unit(dut):
    """Random idle cycles: out_valid tb.latency cycles after in_valid, every act == the
    reference."""
    tb = GateTB(dut)
    await start_clock(dut)
    steps = tb.steps(tb.case["random_steps"])
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency, tb.rng,
                               idle=0.3, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)


@cocotb.test()
async def one_vector_per_cycle(dut):
    """in_valid as often as the core takes it (every cycle, or every H/LANES with lanes): an
    output for each, tb.latency cycles after its input."""
    tb = GateTB(dut)
    await start_clock(dut)
    steps = tb.steps(12)[-12:]
    got = await run_registered(dut, [tb.drive(s) for s in steps], tb.read, tb.latency, tb.rng,
                               idle=0.0, seed=tb.seed, beats=tb.beats)
    check_steps(steps, got, tb.expected(steps), tb.seed)
