"""hwgen.sim.synth on tiny hand-written designs whose cost is known from first principles.

Each design is written as an rtl folder like `hwgen build` writes (sources in a subfolder,
files.f listing them relative to the folder). Every test runs the pinned YoWASP tools for a few
seconds (the first use of a tool compiles it, about a minute).
"""
import re

import pytest

from hwgen.sim import synth
from hwgen.types import HwgenError

REGISTER = """
module hwgen_top (input logic clk, input logic [7:0] d, output logic [7:0] q);
    always_ff @(posedge clk) q <= d;
endmodule
"""

MULTIPLY = """
module hwgen_top (input logic clk, input logic signed [17:0] a, b,
                  output logic signed [35:0] p);
    logic signed [17:0] a_q, b_q;
    always_ff @(posedge clk) begin
        a_q <= a;
        b_q <= b;
        p <= a_q * b_q;
    end
endmodule
"""

RAM_1024X18 = """
module hwgen_top (input logic clk, input logic we, input logic [9:0] wa, ra,
                  input logic [17:0] wd, output logic [17:0] rd);
    logic [17:0] mem [0:1023];
    always_ff @(posedge clk) begin
        if (we) mem[wa] <= wd;
        rd <= mem[ra];
    end
endmodule
"""

COUNTER = """
module hwgen_top (input logic clk, input logic rst, output logic [15:0] q);
    always_ff @(posedge clk) q <= rst ? 16'd0 : q + 16'd1;
endmodule
"""


def rtl_folder(tmp_path, source: str, name: str = "design.sv"):
    """Return an rtl folder holding source as cores/<name>, listed in files.f."""
    rtl = tmp_path / "rtl"
    (rtl / "cores").mkdir(parents=True)
    (rtl / "cores" / name).write_text(source)
    (rtl / "files.f").write_text(f"cores/{name}\n")
    return rtl


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    """The 8-bit register's rtl folder and its resources(), synthesized once."""
    rtl = rtl_folder(tmp_path_factory.mktemp("register"), REGISTER)
    return rtl, synth.resources(rtl)


def test_register_is_eight_flip_flops(register):
    """d -> q through a clock edge: 8 flip-flops and no logic."""
    _, res = register
    assert (res["FF"], res["LUT"], res["DSP"], res["BRAM"]) == (8, 0, 0, 0)


def test_registered_18x18_multiply_is_one_dsp(tmp_path):
    """A signed 18x18 product fits one DSP48E1 (25x18 multiplier) with its registers."""
    res = synth.resources(rtl_folder(tmp_path, MULTIPLY))
    assert res["DSP"] == 1 and res["LUT"] == 0


def test_1024x18_ram_is_one_ramb18(tmp_path):
    """1024 x 18 bits = 18 Kb with a registered read: one RAMB18E1, half a 36 Kb tile."""
    res = synth.resources(rtl_folder(tmp_path, RAM_1024X18))
    assert res["BRAM"] == 0.5
    assert res["LUT"] < 18  # not built from LUT-RAM or logic


def test_unchanged_sources_run_no_tool(register, monkeypatch):
    """A second call is served from the cache; changing a source's bytes runs the tool again."""
    rtl, first = register

    def no_tool(*args, **kwargs):
        """Stand in for the tool runner: fail the test."""
        raise AssertionError("a tool ran")

    monkeypatch.setattr(synth, "_run", no_tool)
    assert synth.resources(rtl) == first
    source = rtl / "cores" / "design.sv"
    original = source.read_text()
    source.write_text(original + "\n// changed\n")
    try:
        with pytest.raises(AssertionError, match="a tool ran"):
            synth.resources(rtl)
    finally:
        source.write_text(original)


def test_broken_source_is_one_line_error(tmp_path):
    """A syntax error: one line naming the folder, Yosys's error and the log."""
    rtl = rtl_folder(tmp_path, "module hwgen_top (input logic a);\n  assign = ;\nendmodule\n",
                     name="broken.sv")
    with pytest.raises(HwgenError) as info:
        synth.resources(rtl)
    message = str(info.value)
    assert "\n" not in message
    assert str(rtl) in message and "ERROR" in message
    log = re.search(r"log: (\S+)\)$", message).group(1)
    assert "broken.sv" in open(log).read()


def test_missing_source_is_named(tmp_path):
    """files.f naming a file that is not there fails before any tool runs."""
    rtl = rtl_folder(tmp_path, REGISTER)
    (rtl / "files.f").write_text("cores/design.sv\ncores/gone.sv\n")
    with pytest.raises(HwgenError, match=r"files.f: lists cores/gone.sv, which does not exist"):
        synth.resources(rtl)


def test_timeout_is_one_line_error(tmp_path):
    """A run that exceeds its time limit is stopped and reported."""
    rtl = rtl_folder(tmp_path, COUNTER)
    with pytest.raises(HwgenError, match=r"no result after") as info:
        synth.resources(rtl, timeout=0.5)
    assert "\n" not in str(info.value) and str(rtl) in str(info.value)


def test_counter_fmax_on_ecp5(tmp_path):
    """A 16-bit counter places and routes on the LFE5U-85F well above 50 MHz."""
    res = synth.fmax_ecp5(rtl_folder(tmp_path, COUNTER))
    assert 50 < res["fmax_mhz"] < 1000
    assert 16 <= res["LUT4"] < 200
