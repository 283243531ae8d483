"""The report of `make hw` from made-up step results: time figures worked by hand, and the lines
that say why there are none."""
from __future__ import annotations

import pytest

from hwgen import report as rep


class Stage:
    """A stand-in IR stage: what stage_summary reads."""

    name, kind, rows, cols, pe, simd = "l0.x", "matvec", 20, 12, 20, 12

    def bits(self):
        return {"w": 4}


class Engine:
    pe, simd = 20, 12


class Layer:
    x_mv = h_mv = Engine()


class IR:
    layers = [Layer()]

    def stages(self):
        return [Stage()]


CKPT = {"float_accuracy": 0.9, "quant_accuracy": 0.8}
PNR = {"fmax_mhz": 200.0, "clock": "clk", "seed": 1,
       "critical_path": {"from": "a_q", "to": "b_q", "delay_ns": 4.9, "logic_levels": 3,
                         "from_source": "x.sv:1.1-1.2", "to_source": None},
       "utilisation": {"EBR": {"used": 0, "available": 208},  # as a JSON record sorts them
                       "FF": {"used": 30, "available": 83640},
                       "LUT4": {"used": 120, "available": 83640},
                       "MULT18": {"used": 2, "available": 156}}}


def ecp5(pnr=None, no_pnr=None, resources=True) -> dict:
    """Return an ECP5 cost as hwgen.sim.synth.ecp5_cost gives it."""
    counts = {"LUT4": 100, "FF": 30, "EBR": 0, "MULT18": 2, "CCU2C": 10} if resources else None
    use = {"EBR": 0.0, "FF": 0.0004, "LUT4": 0.0012, "MULT18": 0.0128} if resources else None
    return {"device": "85k", "part": "LFE5U-85F", "package": "CABGA381", "resources": counts,
            "utilisation": use, "pnr": pnr, "no_pnr": no_pnr}


def results(cost: dict) -> dict:
    """Return step results of a run with two test sequences of 100 and 300 cycles."""
    return {"reference": {"reference_accuracy": 0.8, "sequences": 2, "mismatches": 0},
            "sim_rtl": {"accuracy": 0.8, "mismatches": 0, "sequences": 2,
                        "cycles_per_step": {"simulated": {"min": 5, "max": 5, "mean": 5},
                                            "model": 5},
                        "latency": {"simulated": [100, 300], "model": [100, 300]}},
            "sim_hls": {"accuracy": 0.8, "mismatches": 0, "sequences": 2},
            "cost": {"resources": {"LUT": 1, "FF": 2, "DSP": 3, "BRAM": 0.5}, **cost}}


def test_time_at_the_measured_fmax():
    """200 MHz is 5 ns a cycle: 5 cycles a step are 25 ns (40 M steps/s); 100 and 300 cycles a
    sequence are 0.5 and 1.5 us, mean 1 us (1 M sequences/s)."""
    r = rep.build_report("m", {}, CKPT, IR(), results({"fmax_mhz": 200.0, "ecp5": ecp5(PNR)}))
    assert r["time"] == {"fmax_mhz": 200.0, "cycles_per_step": 5, "ns_per_step": 25.0,
                         "steps_per_s": 40e6, "latency_us": {"mean": 1.0, "max": 1.5},
                         "sequences_per_s": 1e6}
    assert r["no_time"] is None and r["ecp5"]["pnr"]["fmax_mhz"] == 200.0
    md = rep.report_md(r)
    assert ("Time at 200.00 MHz: 25.0 ns per step (5 cycles), 40,000,000 steps/s; latency per "
            "sequence mean 1.000 µs, max 1.500 µs") in md
    assert "Fmax 200.00 MHz (clock `clk`); critical path 4.9 ns (3 logic levels) from a_q to b_q" \
        in md
    assert ("LUT4 100 (0.1 %), FF 30 (0.0 %), EBR 0 (0.0 %), MULT18 2 (1.3 %) (LUT4 counts 10 "
            "CCU2C carry cells as 2 each)") in md
    assert rep.time_line(r["time"], None) == (
        "time:               25.0 ns per step (5 cycles at 200.00 MHz), 40,000,000 steps/s; "
        "latency per sequence mean 1.000 µs, max 1.500 µs; 1,000,000 sequences/s")


def test_interleaved_time_counts_the_sequences_sharing_the_engine():
    """3 sequences interleaved, a step of each every 25 cycles at 200 MHz (5 ns): 125 ns per step
    of one sequence, 3 steps in 125 ns = 24 M steps/s; latencies of 100 and 300 cycles, mean 1 us,
    with 3 sequences in the design at a time: 3 M sequences/s."""
    res = results({"fmax_mhz": 200.0, "ecp5": ecp5(PNR)})
    res["sim_rtl"].update(interleave=3, streamed=3,
                          transfers={"simulated": 40, "model": 40, "differing": 0},
                          cycles_per_step={"simulated": {"min": 25, "max": 35, "mean": 26.0},
                                           "model": 25})
    r = rep.build_report("m", {}, CKPT, IR(), res)
    assert r["interleave"] == 3
    assert r["interleaved_run"] == {"streamed": 3, "transfers": res["sim_rtl"]["transfers"]}
    assert r["cycles_per_step"] == {"simulated": 25, "simulated_min": 25, "simulated_max": 35,
                                    "model": 25}
    assert r["time"] == {"fmax_mhz": 200.0, "cycles_per_step": 25, "interleave": 3,
                         "ns_per_step": 125.0, "steps_per_s": 24e6,
                         "latency_us": {"mean": 1.0, "max": 1.5}, "sequences_per_s": 3e6}
    md = rep.report_md(r)
    assert "Interleave 3: 3 sequences of equal length share the engine" in md
    assert "simulated 25 in steady state (largest 35, a group's first step), model 25" in md
    assert "0 of 40 (model 40)" in md and "3,000,000 sequences/s with 3 sequences" in md
    assert ("Time at 200.00 MHz: 125.0 ns per step of a sequence (25 cycles; 3 sequences "
            "interleaved, steps/s counts all of them), 24,000,000 steps/s") in md
    assert rep.time_line(r["time"], None) == (
        "time:               125.0 ns per step of a sequence, 3 interleaved (25 cycles at "
        "200.00 MHz), 24,000,000 steps/s; latency per sequence mean 1.000 µs, max 1.500 µs; "
        "3,000,000 sequences/s")
    plain = rep.build_report("m", {}, CKPT, IR(), results({"fmax_mhz": 200.0, "ecp5": ecp5(PNR)}))
    assert plain["interleave"] == 1 and "interleaved_run" not in plain


@pytest.mark.parametrize("cost, why", [
    ({"fmax_mhz": None, "ecp5": ecp5(no_pnr="does not fit an LFE5U-85F: 112 % of LUT4")},
     "does not fit an LFE5U-85F: 112 % of LUT4"),
    ({"fmax_mhz": None, "ecp5": ecp5(no_pnr="place and route not asked (--no-pnr)")},
     "place and route not asked (--no-pnr)"),
    ({"fmax_mhz": None, "ecp5": ecp5(no_pnr="Yosys synth_ecp5 of R ran out of memory",
                                     resources=False)},
     "Yosys synth_ecp5 of R ran out of memory"),
    ({"fmax_mhz": None, "ecp5": None}, "ECP5 cost not asked (--no-ecp5)"),
])
def test_no_time_says_why(cost, why):
    r = rep.build_report("m", {}, CKPT, IR(), results(cost))
    assert r["time"] is None and r["no_time"] == why
    assert f"Time: not measured ({why}); the cycles above only." in rep.report_md(r)
    assert rep.time_line(None, why) == f"time:               not measured ({why}); cycles only"
    assert rep.cost_lines(results(cost)["cost"])[-1] == f"fmax:               not measured: {why}"


def test_cost_lines_with_place_and_route():
    lines = rep.cost_lines({"resources": {"LUT": 1, "FF": 2, "DSP": 3, "BRAM": 0.5},
                            "fmax_mhz": 200.0, "ecp5": ecp5(PNR)})
    assert lines == [
        "resources:          LUT 1, FF 2, DSP 3, BRAM 0.5 (Yosys synth_xilinx)",
        "ecp5 resources:     LUT4 100 (0.1 %), FF 30 (0.0 %), EBR 0 (0.0 %), MULT18 2 (1.3 %) "
        "(LUT4 counts 10 CCU2C carry cells as 2 each); Yosys synth_ecp5, % of an LFE5U-85F",
        "fmax:               200.00 MHz (nextpnr-ecp5, LFE5U-85F CABGA381, seed 1); critical "
        "path 4.9 ns (3 logic levels) from a_q to b_q",
        "ecp5 placed:        LUT4 120/83640 (0.1 %), FF 30/83640 (0.0 %), EBR 0/208 (0.0 %), "
        "MULT18 2/156 (1.3 %)"]
