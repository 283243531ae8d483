"""Run a sweep: every point trained, checked, built and measured, in parallel, resumable.

Each point runs `run_point` in a worker: a local process pool (`--executor local`, `--jobs N`) or
tasks on an existing Ray cluster (`--executor ray --address ...`). A worker writes its artifacts in
the point's folder (SWEEP/points/NAME/: checkpoint, model.onnx, rtl/, hls/, log.txt) and returns
the point's row; only the driver writes results.*, after every finished point, so an interrupted
sweep keeps what it finished. A rerun skips points whose row in results.json is done and whose
key (training hash, folding, options) is unchanged.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
import traceback
from pathlib import Path

from hwgen.progress import say
from hwgen.spec import Spec, check_folding_fits, load_spec
from hwgen.sweep.points import Point, point_key, point_spec, quantizers
from hwgen.types import HwgenError, VerificationError, shown


@dataclasses.dataclass(frozen=True)
class Options:
    """How a sweep runs (everything but the points themselves)."""

    jobs: int = 2
    executor: str = "local"  # local | ray
    address: str | None = None  # Ray cluster address (None: RAY_ADDRESS or a running local one)
    fmax: bool = False  # place and route for ECP5 with nextpnr
    device: str = "85k"  # the ECP5 part of synth_ecp5's fit check, the device cost and pnr
    ecp5: bool = True  # synth_ecp5 counts and the device cost (fmax needs them)
    simulate: bool = False  # also stream the test set through each point's RTL on Verilator
    pe: int | None = None  # override the spec's folding
    simd: int | None = None
    finetune_epochs: int | None = None  # replace the ptq section's (post-training specs only)

    @property
    def synth_ecp5(self) -> bool:
        """Whether each point runs synth_ecp5 (asked, or needed by --fmax)."""
        return self.ecp5 or self.fmax

    def keyed(self) -> dict:
        """Return the options a point's row depends on."""
        return {"fmax": self.fmax, "simulate": self.simulate,
                "ecp5": self.device if self.synth_ecp5 else None}


@contextlib.contextmanager
def output_to(log: Path):
    """Send this process's stdout and stderr (Python and subprocesses) to log while inside."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_point(task: dict) -> dict:
    """Measure one point in this process and return its row (never raises for a failed point).

    task holds plain data only (it may cross to a Ray worker): cwd, spec_path, point (vary, bits,
    seed), folder, key, pe, simd, fmax, simulate.
    """
    import torch

    os.chdir(task["cwd"])
    torch.set_num_threads(1)  # one core per point; training results do not depend on it
    point = Point(**task["point"])
    spec = point_spec(load_spec(task["spec_path"]), point, Path(task["folder"]), task["pe"],
                      task["simd"], task.get("finetune_epochs"))
    row = {"point": point.name, "vary": point.vary, "bits": point.bits, "seed": point.seed,
           "key": task["key"]}
    start = time.time()
    with output_to(Path(spec.out) / "log.txt"):
        print(f"=== {spec.name}: {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
        try:
            row.update(measure(spec, fmax=task["fmax"], simulate=task["simulate"],
                               device=task.get("device", "85k"), ecp5=task.get("ecp5", True)))
            row["status"] = "done"
        except HwgenError as exc:
            row["status"] = f"failed: {exc}"
        except Exception as exc:  # keep the sweep going; the log has the traceback
            traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            row["status"] = f"failed: {type(exc).__name__}: {first}"
        print(f"=== {row['status']}", flush=True)
    row["seconds"] = round(time.time() - start, 1)
    return row


def measure(spec: Spec, fmax: bool = False, simulate: bool = False, device: str = "85k",
            ecp5: bool = True) -> dict:
    """Train, export, check and build one point; return its accuracy, cost and cycle figures.

    The point runs the flow's steps up to cost (sim_rtl only with simulate, nothing of HLS);
    its cycle figures come from the saved, folded IR. Its cost has Yosys's Xilinx counts, its
    ECP5 counts (ecp5_LUT4, ...) and their device_cost on the ECP5 device (hwgen search's cost),
    None each without ecp5 (and fmax).
    """
    import numpy as np

    from hwgen.flow import STEPS, Build, run_flow
    from hwgen.passes.cycles import per_step_cycles, sequence_cycles
    from hwgen.report import RESOURCE_KEYS

    b = Build(spec, fmax=fmax, ecp5=ecp5, device=device, compile_opt="-O0")  # fmax implies ecp5
    skip = ("emit_hls", "sim_hls") + (() if simulate else ("sim_rtl",))
    results = run_flow(b, STEPS[:STEPS.index("cost") + 1], skip=skip)
    ckpt, ref, cost, ir = b.checkpoint(), results["reference"], results["cost"], b.ir()
    rtl = results.get("sim_rtl")
    lengths = [len(x) for x in b.test_set().x]
    row = {
        **ptq_accuracies(ckpt), **task_metrics(ckpt, ref),
        "acc_float": ckpt["float_accuracy"], "acc_quant": ckpt["quant_accuracy"],
        "acc_int": ref["reference_accuracy"], "mismatches": ref["mismatches"],
        "rtl_mismatches": rtl["mismatches"] if rtl else None,
        **{k: cost["resources"][k] for k in RESOURCE_KEYS}, **ecp5_figures(cost["ecp5"], device),
        "fmax_mhz": cost["fmax_mhz"],
        "cycles_per_step": per_step_cycles(ir),
        "cycles_per_step_sim": rtl["cycles_per_step"]["simulated"]["max"] if rtl else None,
        "cycles_per_sequence": float(np.mean([sequence_cycles(ir, n) for n in lengths])),
        "cycles_per_sequence_sim": float(np.mean(rtl["latency"]["simulated"])) if rtl else None,
    }
    if row["mismatches"] or (simulate and row["rtl_mismatches"]):
        raise VerificationError(f"{spec.name}: the integer reference differs from the quantized "
                                f"model on {row['mismatches']} sequences, the RTL from the "
                                f"reference on {row['rtl_mismatches']}")
    return row


def ecp5_figures(ecp5: dict, device: str) -> dict:
    """Return a row's ECP5 figures from the cost step's ecp5: ecp5_LUT4, ecp5_FF, ecp5_EBR,
    ecp5_MULT18 and device_cost (None each when Yosys could not count them)."""
    from hwgen.sim.synth import ECP5_KEYS, device_cost

    counts = ecp5["resources"] if ecp5 else None
    if counts is None:
        return {**{f"ecp5_{k}": None for k in ECP5_KEYS}, "device_cost": None}
    return {**{f"ecp5_{k}": counts[k] for k in ECP5_KEYS},
            "device_cost": round(device_cost(counts, device)["cost"], 6)}


def _load_rows(folder: Path) -> dict:
    """Return the rows of a previous run's results.json by point name (empty if none)."""
    path = folder / "results.json"
    if not path.is_file():
        return {}
    try:
        rows = json.loads(path.read_text())["rows"]
        return {r["point"]: r for r in rows}
    except (ValueError, KeyError, TypeError):
        raise HwgenError(f"{path}: not a sweep results file (move it away to start afresh)") \
            from None


def _local(tasks: list, jobs: int, fn=run_point):
    """Yield fn's rows as the tasks finish, from a pool of `jobs` processes."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch threads
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        pending = {pool.submit(fn, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def check_address(address: str | None, timeout_s: float = 3.0) -> None:
    """Raise HwgenError unless address (HOST:PORT, or RAY_ADDRESS) accepts a TCP connection."""
    import socket

    address = address or os.environ.get("RAY_ADDRESS")
    if not address or address in ("auto", "local"):
        return  # a cluster on this machine, found by Ray itself
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise HwgenError(f"--address {shown(address)}: expected HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HwgenError(f"--address {address}: no Ray cluster answers there ({reason})") \
            from None


def _ray(tasks: list, address: str | None, fn=run_point):
    """Yield fn's rows as the tasks finish, each a task (1 CPU) on an existing Ray cluster."""
    try:
        import ray
    except ImportError:
        raise HwgenError("--executor ray needs the ray extra: pip install 'hwgen[ray]' "
                         "(make installs it)") from None
    try:
        ray.init(address=address or "auto", log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise HwgenError(f"--address {address or 'auto'}: cannot connect to a Ray cluster "
                         f"({first})") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        ray.shutdown()


def run_tasks(tasks: list, fn, executor: str, jobs: int, address: str | None):
    """Yield fn(task)'s rows as the tasks finish: a local pool of `jobs` processes, or Ray tasks
    (fn must be a module-level function taking and returning plain data)."""
    return _local(tasks, jobs, fn) if executor == "local" else _ray(tasks, address, fn)


def ptq_accuracies(ckpt: dict) -> dict:
    """Return a post-training checkpoint's extra accuracy columns (none for a QAT checkpoint)."""
    ptq = ckpt.get("ptq")
    if not ptq:
        return {}
    return {"acc_torch_int8": ptq["torch_int8_accuracy"],
            "acc_torch_weights": ptq["torch_weights_accuracy"],
            "acc_calibrated": ptq["calibrated_accuracy"],
            "acc_finetuned": ptq["finetuned_accuracy"]}


def task_metrics(ckpt: dict, ref: dict) -> dict:
    """Return a non-classifier point's figures (MSE and MAE of the float, fake-quantized and
    integer models: mse_float, mae_float, ...); none for a classifier (its acc_ columns)."""
    from hwgen.qat.task import checkpoint_metrics

    if not ref.get("metrics"):
        return {}
    models = {"float": checkpoint_metrics(ckpt, "float"),
              "quant": checkpoint_metrics(ckpt, "quant"), "int": ref["metrics"]}
    return {f"{k}_{m}": figures[k] for m, figures in models.items() for k in ("mse", "mae")}


def sweep(model: str, vary: str | None = None, bits: tuple | None = None,
          seed: int | None = None, out: str | None = None,
          options: Options = Options()) -> dict:
    """Run (or resume) a sweep of a model; write the sweep folder and return its results.

    vary and bits default to the spec's `sweep` section; seed to the spec's training seed; out to
    build/sweep/MODEL-VARY.
    """
    from tqdm import tqdm

    from hwgen.flow import BUILD_DIR, out_dir
    from hwgen.sweep.report import write_results

    base = load_spec(model)
    vary = vary or base.sweep.vary
    quantizers(vary)  # check the name before any work
    bits = tuple(bits or base.sweep.bits)
    seed = base.train.seed if seed is None else seed
    if options.executor not in ("local", "ray"):
        raise HwgenError(f"--executor {options.executor!r}: use local or ray")
    if options.jobs < 1:
        raise HwgenError(f"--jobs {options.jobs}: give at least 1")
    if options.finetune_epochs is not None and options.finetune_epochs < 0:
        raise HwgenError(f"--finetune-epochs {options.finetune_epochs}: give 0 or more")
    _check_points(base, Point(vary=vary, bits=bits[0], seed=seed), options)
    folder = Path(out or BUILD_DIR / "sweep" / f"{out_dir(base).name}-{vary}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    previous = _load_rows(folder)
    meta = {"model": base.name, "spec": base.to_dict(), "vary": vary,
            "quantizers": list(quantizers(vary)), "bits": list(bits), "seed": seed,
            "executor": options.executor, "fmax": options.fmax, "simulate": options.simulate,
            "device": options.device, "ecp5": options.synth_ecp5, "hwgen": _version()}
    rows, tasks = {}, []
    for b in bits:
        point = Point(vary=vary, bits=b, seed=seed)
        spec = point_spec(base, point, folder, options.pe, options.simd, options.finetune_epochs)
        key = point_key(spec, options.keyed())
        old = previous.get(point.name)
        if old and old.get("status") == "done" and old.get("key") == key:
            rows[point.name] = old
            continue
        tasks.append({"cwd": os.getcwd(), "spec_path": str(Path(base.path).resolve()),
                      "point": dataclasses.asdict(point), "folder": str(folder), "key": key,
                      "pe": options.pe, "simd": options.simd, "fmax": options.fmax,
                      "device": options.device, "ecp5": options.synth_ecp5,
                      "finetune_epochs": options.finetune_epochs,
                      "simulate": options.simulate})
    # Widest first: they take longest, so the pool's last round is short.
    tasks.sort(key=lambda t: -t["point"]["bits"])
    say(f"sweep of {base.name}: {vary} ({', '.join(quantizers(vary))}) at "
         f"{', '.join(map(str, bits))} bits; {len(rows)} point(s) already done, {len(tasks)} "
         f"to run ({options.executor}"
         + (f", {options.jobs} jobs" if options.executor == "local" else "") + f") in {folder}",
        sys.stderr)
    _write(folder, rows, bits, meta, write_results)
    runner = run_tasks(tasks, run_point, options.executor, options.jobs, options.address)
    bar = tqdm(total=len(tasks), desc="sweep", unit="point", file=sys.stderr, dynamic_ncols=True)
    with bar:
        for row in runner:
            rows[row["point"]] = row
            _write(folder, rows, bits, meta, write_results)
            bar.update(1)
            bar.write(f"[hwgen] {row['point']}: {point_summary(row)} ({row['seconds']:.0f} s; log "
                      f"{folder / 'points' / row['point'] / 'log.txt'})", file=sys.stderr)
    paths = _write(folder, rows, bits, meta, write_results)
    failed = [r for r in rows.values() if r.get("status") != "done"]
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['json']}, {paths['bits_plot']}, "
          f"{paths['luts_plot']}")
    if failed:
        raise HwgenError(f"{len(failed)} of {len(rows)} sweep points failed: "
                         + "; ".join(f"{r['point']} {r['status']}" for r in failed)[:400])
    return {"folder": folder, "rows": [rows[n] for n in sorted(rows, key=lambda n: rows[n]["bits"])],
            "paths": paths}


def _check_points(base: Spec, point: Point, options: Options) -> None:
    """Raise HwgenError, once for the whole sweep, if the points' folding or address cannot work
    (load_spec has checked the spec's own sizes and folding)."""
    if options.executor == "ray":
        check_address(options.address)
    spec = point_spec(base, point, Path(), options.pe, options.simd, options.finetune_epochs)
    given = " ".join(f"--{k} {v}" for k, v in (("pe", options.pe), ("simd", options.simd))
                     if v is not None)
    check_folding_fits(spec, f"{base.path} with {given}" if given else base.path)


def _write(folder: Path, rows: dict, bits: tuple, meta: dict, write_results) -> dict:
    """Write the results files for the finished rows of the requested widths."""
    kept = [r for r in rows.values() if r["bits"] in bits]
    return write_results(folder, kept, meta)


def point_summary(row: dict) -> str:
    """Return one line about a finished point."""
    if row.get("status") != "done":
        return row.get("status", "failed")
    quality = (f"integer MSE {row['mse_int']:.6g}, MAE {row['mae_int']:.6g}" if "mse_int" in row
               else f"integer accuracy {100 * row['acc_int']:.2f} %")
    text = f"{quality}, LUT {row['LUT']}, DSP {row['DSP']}"
    if row.get("fmax_mhz") is not None:
        text += f", {row['fmax_mhz']:.1f} MHz"
    return text


def _version() -> str:
    """Return hwgen's installed version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hwgen")
    except PackageNotFoundError:
        return "unknown"
