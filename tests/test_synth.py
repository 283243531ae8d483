"""hwgen.sim.synth on tiny hand-written designs whose cost is known from first principles.

Each design is written as an rtl folder like `hwgen build` writes (sources in a subfolder,
files.f listing them relative to the folder). The tests that synthesize run the pinned YoWASP
tools for a few seconds (the first use of a tool compiles it, about a minute); the parsing of
Yosys statistics and nextpnr reports is checked on small hand-written examples.
"""
import json
import re
import sys
import time

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
    monkeypatch.setattr(synth, "run_tool", no_tool)
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

    monkeypatch.setattr(synth, "run_tool", no_tool)
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
def multipliers(count: int) -> str:
    """Return a design of count registered signed 18x18 products (one MULT18X18D each), all
    observable through one XOR of the products."""
    return f"""
module hwgen_top (input logic clk, input logic signed [17:0] a, b, output logic [35:0] y);
    logic signed [17:0] x [0:{count - 1}];
    logic signed [35:0] p [0:{count - 1}];
    logic [35:0] acc [0:{count - 1}];
    always_ff @(posedge clk) begin
        x[0] <= a;
        for (int i = 1; i < {count}; i++) x[i] <= x[i - 1] ^ b;
        for (int i = 0; i < {count}; i++) p[i] <= x[i] * b;
    end
    always_comb begin
        acc[0] = p[0];
        for (int i = 1; i < {count}; i++) acc[i] = acc[i - 1] ^ p[i];
    end
    assign y = acc[{count - 1}];
endmodule
"""


def no_tool(*args, **kwargs):
    """Stand in for the tool runner: fail the test."""
    raise AssertionError("a tool ran")


def test_counter_placed_and_routed_on_ecp5(tmp_path, monkeypatch):
    """A 16-bit counter: 16 flip-flops; placed and routed on the LFE5U-85F well above 50 MHz,
    with a critical path between two of its flip-flops and the part's capacities (data sheet:
    83,640 LUT4 and FF, 208 EBR, 156 MULT18). A second call runs no tool."""
    rtl = rtl_folder(tmp_path, COUNTER)
    cost = synth.ecp5_cost(rtl, "85k")
    assert cost["resources"]["FF"] == 16 and cost["resources"]["MULT18"] == 0
    assert 16 <= cost["resources"]["LUT4"] < 100  # an adder: at least one LUT per bit
    assert cost["no_pnr"] is None and cost["part"] == "LFE5U-85F"
    pnr = cost["pnr"]
    assert 50 < pnr["fmax_mhz"] < 1000
    path = pnr["critical_path"]
    assert path["from"] and path["to"] and path["logic_levels"] >= 1
    assert 1 < path["delay_ns"] <= 1000 / pnr["fmax_mhz"] + 0.01
    assert {k: u["available"] for k, u in pnr["utilisation"].items()} == {
        "LUT4": 83640, "FF": 83640, "EBR": 208, "MULT18": 156}
    assert pnr["utilisation"]["FF"]["used"] == 16
    monkeypatch.setattr(synth, "run_tool", no_tool)
    assert synth.ecp5_cost(rtl, "85k") == cost


def test_too_many_multipliers_are_refused_before_place_and_route(tmp_path, monkeypatch):
    """29 products need 29 MULT18X18D: an LFE5U-25F has 28, so the design is refused with its
    utilisation and no nextpnr run; it fits an LFE5U-85F (156)."""
    rtl = rtl_folder(tmp_path, multipliers(29))
    assert synth.ecp5_resources(rtl)["MULT18"] == 29
    monkeypatch.setattr(synth, "run_tool", no_tool)
    cost = synth.ecp5_cost(rtl, "25k")
    assert cost["pnr"] is None
    assert cost["no_pnr"] == "does not fit an LFE5U-25F: 104 % of MULT18"  # 29 / 28
    assert cost["utilisation"]["MULT18"] == round(29 / 28, 6)  # reported to 6 digits
    assert synth.ecp5_cost(rtl, "85k", pnr=False)["no_pnr"] == \
        "place and route not asked (--no-pnr)"


@pytest.mark.parametrize("counts, device, over, line", [
    ({"LUT4": 93680, "FF": 10, "EBR": 0, "MULT18": 0}, "85k", ["LUT4"],
     "does not fit an LFE5U-85F: 112 % of LUT4"),
    ({"LUT4": 24288, "FF": 24288, "EBR": 56, "MULT18": 28}, "um-25k", [], None),  # exactly full
    ({"LUT4": 1, "FF": 1, "EBR": 109, "MULT18": 90}, "um5g-45k", ["EBR", "MULT18"],
     "does not fit an LFE5UM5G-45F: 101 % of EBR, 125 % of MULT18"),
])
def test_fit_check(counts, device, over, line):
    """The fit check on made-up counts (capacities from the ECP5 data sheet)."""
    got = synth.fit(counts, device)
    assert got["over"] == over
    if line:
        assert synth.no_fit_line(got["utilisation"], got["over"], device) == line


def test_unknown_device_is_named():
    with pytest.raises(HwgenError, match=r"unknown ECP5 device '100k' \(devices: 25k, 45k, 85k"):
        synth.capacity("100k")


def test_yosys_stat_counts(tmp_path):
    """ECP5 counts from a `stat -json` file: two LUT4 per CCU2C carry cell."""
    stat = tmp_path / "stat.json"
    stat.write_text(json.dumps({"modules": {"\\hwgen_top": {"num_cells_by_type": {
        "LUT4": 100, "CCU2C": 7, "TRELLIS_FF": 40, "DP16KD": 3, "MULT18X18D": 2, "PFUMX": 9}}}}))
    counts = synth.ecp5_counts(synth.cell_counts(stat, "hwgen_top"))
    assert counts == {"LUT4": 114, "FF": 40, "EBR": 3, "MULT18": 2, "CCU2C": 7}


def segment(kind, delay, cell_from, cell_to, sources=None):
    """Return one segment of a nextpnr critical path."""
    seg = {"type": kind, "delay": delay, "from": {"cell": cell_from, "port": "Q", "loc": [1, 2]},
           "to": {"cell": cell_to, "port": "D", "loc": [3, 4]}}
    if kind == "routing":
        seg.update(net=f"{cell_from}_net", sources=sources or [])
    return seg


# A report as nextpnr-ecp5 --report writes it: two clocks, each with its critical path, and an
# input-to-register path.
PNR_REPORT = {
    "utilization": {"TRELLIS_COMB": {"used": 500, "available": 24288},
                    "TRELLIS_FF": {"used": 300, "available": 24288},
                    "DP16KD": {"used": 2, "available": 56},
                    "MULT18X18D": {"used": 1, "available": 28},
                    "TRELLIS_IO": {"used": 20, "available": 197}},
    "fmax": {"fast": {"achieved": 210.5, "constraint": 100},
             "slow": {"achieved": 87.25, "constraint": 100}},
    "critical_paths": [
        {"from": "posedge fast", "to": "posedge fast", "path": [
            segment("clk-to-q", 0.5, "f1", "f1"), segment("setup", 0.1, "f2", "f2")]},
        {"from": "<async>", "to": "posedge slow", "path": [
            segment("source", 0.0, "pin", "pin"), segment("setup", 20.0, "s9", "s9")]},
        {"from": "posedge slow", "to": "posedge slow", "path": [
            segment("clk-to-q", 0.5, "acc_q", "acc_q"),
            segment("routing", 1.25, "acc_q", "lut1",
                    ["/lib/map.v:1.1-1.2", "../rtl/a.sv:10.1-10.5"]),
            segment("logic", 0.75, "lut1", "lut1"),
            segment("routing", 2.0, "lut1", "lut2", ["../rtl/b.sv:3.1-3.9", "../rtl/c.sv:1.1-1.2"]),
            segment("logic", 0.5, "lut2", "lut2"),
            segment("routing", 0.5, "lut2", "lut2", ["/lib/map.v:7.1-7.2"]),  # a library's only
            segment("logic", 0.75, "lut2", "lut2"),
            segment("routing", 1.5, "lut2", "out_q"),  # a net without sources
            segment("setup", 0.25, "out_q", "out_q")]},
    ],
}


def test_nextpnr_report_summary():
    """The worst clock, its own critical path (not the other clock's, not the input's) and the
    utilisation of a hand-written report."""
    got = synth.pnr_summary(json.loads(json.dumps(PNR_REPORT)), "../rtl/")
    assert got["fmax_mhz"] == 87.25 and got["clock"] == "slow"
    assert got["critical_path"] == {"from": "acc_q", "to": "out_q", "delay_ns": 8.0,
                                    "logic_levels": 3, "from_source": "../rtl/a.sv:10.1-10.5",
                                    "to_source": "../rtl/b.sv:3.1-3.9"}
    assert got["utilisation"] == {"LUT4": {"used": 500, "available": 24288},
                                  "FF": {"used": 300, "available": 24288},
                                  "EBR": {"used": 2, "available": 56},
                                  "MULT18": {"used": 1, "available": 28}}


def test_nextpnr_report_without_a_clock():
    with pytest.raises(HwgenError, match="names no clock"):
        synth.pnr_summary({**PNR_REPORT, "fmax": {}})
    with pytest.raises(HwgenError, match="not a nextpnr report"):
        synth.pnr_summary({"fmax": PNR_REPORT["fmax"]})


def fake_tool(tmp_path, body: str) -> str:
    """Return the path of an executable Python script with body (a stand-in tool)."""
    tool = tmp_path / "tool"
    tool.write_text(f"#!{sys.executable}\nimport os, signal, sys\n{body}\n")
    tool.chmod(0o755)
    return str(tool)


def test_out_of_memory_is_one_clear_line(tmp_path):
    """A WebAssembly tool whose allocation failed (its runtime's trap on the uncaught exception,
    after many log lines) is reported as out of memory, not by its last line."""
    tool = fake_tool(tmp_path, "print('3.14. Executing OPT_CLEAN pass')\n"
                     "print('wasmtime._trap.Trap: error while executing at wasm backtrace:')\n"
                     "print('    0: 0x3e6a19 - yosys.wasm!main')\nprint('Caused by:')\n"
                     "print('    thrown Wasm exception')\nsys.exit(1)")
    with pytest.raises(synth.ToolOutOfMemory) as info:
        synth.run_tool([tool], tmp_path, tmp_path / "tool.log", 60, "Yosys synth_ecp5 of X")
    assert str(info.value) == ("Yosys synth_ecp5 of X ran out of memory (a WebAssembly build "
                               f"can use at most 4 GB) (log: {tmp_path / 'tool.log'})")


def test_killed_tool_is_one_clear_line(tmp_path):
    tool = fake_tool(tmp_path, "print('working')\nsys.stdout.flush()\n"
                     "os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(HwgenError, match=r"^nextpnr of X was killed by signal 9 \(the machine "
                       r"may be out of memory\) \(log: "):
        synth.run_tool([tool], tmp_path, tmp_path / "tool.log", 60, "nextpnr of X")


def test_out_of_memory_gives_the_reason_instead_of_fmax(tmp_path, monkeypatch):
    """ecp5_cost of a design whose synthesis runs out of memory: no counts, the reason."""
    def oom(argv, cwd, log, timeout, what):
        raise synth.ToolOutOfMemory(f"{what} ran out of memory (a WebAssembly build can use at "
                                    "most 4 GB)")
    monkeypatch.setattr(synth, "run_tool", oom)
    cost = synth.ecp5_cost(rtl_folder(tmp_path, REGISTER), "45k")
    assert cost["resources"] is None and cost["pnr"] is None
    assert cost["no_pnr"].startswith("Yosys synth_ecp5 of ") and "ran out of memory" in \
        cost["no_pnr"]


def test_long_tool_runs_print_progress_with_the_latest_step(tmp_path, capsys):
    """A tool that runs past the heartbeat gets progress lines naming its latest step."""
    tool = fake_tool(tmp_path, "import time\nprint('Info: Placing cells')\nsys.stdout.flush()\n"
                     "time.sleep(1.5)\nprint('Info: Routing globals')\nsys.stdout.flush()\n"
                     "time.sleep(1.5)")
    synth.run_tool([tool], tmp_path, tmp_path / "tool.log", 60, "nextpnr of X", heartbeat=1.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[hwgen] nextpnr of X: running for 1 s, at: Info: Placing cells"
    assert "at: Info: Routing globals" in lines[-1] and len(lines) in (2, 3)


def test_tool_past_its_timeout_is_stopped_with_one_line(tmp_path):
    tool = fake_tool(tmp_path, "import time\ntime.sleep(30)")
    start = time.monotonic()
    with pytest.raises(HwgenError, match=r"^nextpnr of X: no result after 1 s \(log: "):
        synth.run_tool([tool], tmp_path, tmp_path / "tool.log", 1, "nextpnr of X", heartbeat=0.4)
    assert time.monotonic() - start < 10
