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


def folded_mvu_folder(tmp_path, rows=64, cols=64, pe=4, simd=4):
    """Return an rtl folder of hwgen_top = one folded hwgen_mvu whose weights are a ROM file."""
    import numpy as np

    from hwgen.codegen.rtl import rom_text
    from hwgen.sim.tools import RTL_LIB

    rtl = tmp_path / "rtl"
    (rtl / "cores").mkdir(parents=True)
    (rtl / "mem").mkdir()
    (rtl / "cores" / "hwgen_mvu.sv").write_text((RTL_LIB / "hwgen_mvu.sv").read_text())
    weights = np.random.default_rng(3).integers(-8, 8, size=(rows, cols))
    (rtl / "mem" / "u.hex").write_text(rom_text(weights, pe, simd, 4))
    (rtl / "mem.f").write_text("mem/u.hex\n")
    (rtl / "hwgen_top.sv").write_text(f"""
module hwgen_top (input logic clk, input logic rst, input logic [{cols * 4 - 1}:0] x,
                  input logic iv, output logic ir, output logic [{rows * 14 - 1}:0] y,
                  output logic ov, input logic ordy);
    hwgen_mvu #(.ROWS({rows}), .COLS({cols}), .PE({pe}), .SIMD({simd}), .W_W(4), .IN_W(4),
                .ACC_W(14), .INIT_FILE("mem/u.hex")) u_mv (
        .clk(clk), .rst(rst), .in_data(x), .in_valid(iv), .in_ready(ir), .out_data(y),
        .out_valid(ov), .out_ready(ordy));
endmodule
""")
    (rtl / "files.f").write_text("cores/hwgen_mvu.sv\nhwgen_top.sv\n")
    return rtl


def test_folded_mvu_weights_are_block_ram(tmp_path, monkeypatch):
    """A 64x64 unit folded 4x4: 256 folds of 64 weight bits = 16 Kb of ROM, one 36 Kb tile
    (or two 18 Kb ones); Yosys reads the file from its copy of mem/. A changed ROM file is a
    changed design (the cached result is not reused)."""
    rtl = folded_mvu_folder(tmp_path)
    res = synth.resources(rtl)
    assert res["BRAM"] == 1
    assert (synth.work_dir(rtl) / "mem" / "u.hex").read_bytes() == (rtl / "mem/u.hex").read_bytes()

    def no_tool(*args, **kwargs):
        raise AssertionError("a tool ran")

    monkeypatch.setattr(synth, "_run", no_tool)
    assert synth.resources(rtl) == res
    rom = rtl / "mem" / "u.hex"
    rom.write_text(rom.read_text().replace("0", "1", 1))
    with pytest.raises(AssertionError, match="a tool ran"):
        synth.resources(rtl)


def test_memory_list_names_only_mem_files(tmp_path):
    """mem.f may list only mem/NAME.hex files that exist: nothing is copied from elsewhere."""
    rtl = rtl_folder(tmp_path, REGISTER)
    (rtl / "mem.f").write_text("mem/../../secret.hex\n")
    with pytest.raises(HwgenError, match=r"not a memory file name"):
        synth.resources(rtl)
    (rtl / "mem.f").write_text("mem/gone.hex\n")
    with pytest.raises(HwgenError, match=r"lists mem/gone.hex, which does not exist"):
        synth.resources(rtl)
