"""The `hwgen` command. Bad input is one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from hwgen.types import HwgenError, VerificationError, shown

EXIT_BAD_INPUT = 2
EXIT_VERIFICATION = 3  # hwgen's own check failed: a backend differs from the reference
# The steps of `hwgen hw`, in order (hwgen.flow.STEPS; named here so --help needs no import).
STEP_NAMES = ("train", "export", "lower", "fold", "reference", "emit_rtl", "emit_hls", "sim_rtl",
              "sim_hls", "cost", "report")
# The ECP5 parts of `hwgen hw --device` (hwgen.sim.synth.DEVICES; named here so --help needs no
# import).
ECP5_DEVICES = ("25k", "45k", "85k", "um-25k", "um-45k", "um-85k", "um5g-25k", "um5g-45k",
                "um5g-85k")
DEFAULT_DEVICE = "85k"
# The Xilinx devices of `hwgen hw --part` (hwgen.parts.DEVICES; named here so --help needs no
# import).
XILINX_DEVICES = ("xc7a35t", "xc7a100t", "xc7z020", "xc7z045", "xczu3eg", "xczu7ev", "xczu9eg",
                  "xcku040", "xcvu9p")
DEFAULT_PART = "xc7z020"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one `hwgen: error:` line (no usage), exit status 2."""

    def error(self, message):
        first = (message.strip().splitlines() or [""])[0]
        self.exit(EXIT_BAD_INPUT, f"hwgen: error: {_capped(first)}\n")


def _capped(text: str, limit: int = 300) -> str:
    """Return text cut to limit characters (a quoted user value can be huge)."""
    text = " ".join(text.splitlines())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _int_in(lo: int, hi: int):
    """Return an argparse type: an integer in lo..hi (the limits a spec has for the same key)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is not in {lo}..{hi}")
        return value
    return parse


def _part(text: str) -> str:
    """Return a --part argument if hwgen.parts knows its device (one argparse line if not)."""
    from hwgen.parts import parse_part
    try:
        parse_part(text)
    except HwgenError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def ecp5_device_arg(text: str) -> str:
    """Return an ECP5 --device argument as nextpnr-ecp5 names it ("85k"), from that name, the
    family's ("ecp5-85", "ecp5-um5g-45k") or the part's ("LFE5U-85F"), any case."""
    name = text.strip().lower()
    for key in ECP5_DEVICES:
        kind, _, size = key.rpartition("-")  # "um5g-45k" -> "um5g", "45k"; "85k" -> "", "85k"
        part = f"lfe5{kind or 'u'}-{size[:-1]}f"
        if name in (key, f"ecp5-{key}", f"ecp5-{key[:-1]}", part):
            return key
    raise argparse.ArgumentTypeError(
        f"unknown ECP5 device {shown(text)} (devices: {', '.join(ECP5_DEVICES)}; also as "
        f"ecp5-85, ecp5-um-45 or LFE5U-85F)")


def _clock_ns(text: str) -> float:
    """Return a --clock-ns argument: a period in ns in hwgen.parts.CLOCK_NS_RANGE."""
    from hwgen.parts import parse_clock_ns
    try:
        return parse_clock_ns(text)
    except HwgenError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _clock_mhz(text: str) -> float:
    """Return a --clock-mhz argument: a clock as the spec's folding.clock_mhz takes it."""
    from hwgen.spec import DEFAULT_CLOCK_MHZ, check_value

    try:
        return check_value("--clock-mhz", "folding", "clock_mhz", float(text), DEFAULT_CLOCK_MHZ)
    except (ValueError, HwgenError) as err:
        raise argparse.ArgumentTypeError(
            str(err) if isinstance(err, HwgenError) else f"{text!r} is not a number") from None


def _tb_sequences(text: str) -> str:
    """Return text if it is "all" or a whole number >= 1 (the testbench's sequence count)."""
    if text != "all" and not (text.isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 1 nor 'all'")
    return text


def _percentile(text: str) -> float:
    """Return a --percentile argument: a number in (0, 100]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not in (0, 100]")
    return value


def _spec_int(key: str):
    """Return an argparse type: an integer in the spec's limits for key."""
    from hwgen.spec import limits

    return _int_in(*limits(key))


def _os_error_line(exc: OSError) -> str:
    """Return one line naming the file of an OSError and the reason."""
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _spec_and_folder(args):
    """Return args.model's spec, built in args.out if given, once its build folder is writable."""
    import dataclasses

    from hwgen.flow import out_dir
    from hwgen.outputs import check_folder
    from hwgen.spec import load_spec

    spec = load_spec(args.model)
    if args.out:
        spec = dataclasses.replace(spec, out=args.out)
    check_folder(out_dir(spec), "--out" if args.out else "build folder")
    return spec


def _cmd_train(args) -> None:
    from hwgen.flow import out_dir, step_train
    from hwgen.locks import locked_folder

    spec = _spec_and_folder(args)
    with locked_folder(out_dir(spec)):
        step_train(spec, force=args.force)


def _cmd_train_float(args) -> None:
    from hwgen.flow import step_float
    from hwgen.outputs import check_file
    from hwgen.spec import load_spec

    spec = load_spec(args.model)
    step_float(spec, check_file(args.out), force=args.force)


def _cmd_import(args) -> None:
    import dataclasses

    from hwgen.flow import out_dir, step_export, step_train
    from hwgen.locks import locked_folder
    from hwgen.outputs import check_folder
    from hwgen.qat.calibrate import load_float_state
    from hwgen.qat.model import build_float
    from hwgen.spec import PTQ, load_spec

    spec = load_spec(args.spec)
    check_folder(args.out or out_dir(spec), "--out" if args.out else "build folder")
    source = Path(args.file)
    load_float_state(source, build_float(spec))  # a file that does not fit stops here: no output
    ptq = dataclasses.replace(spec.ptq or PTQ(), float_checkpoint=str(source.resolve()))
    if args.calibration:
        ptq = dataclasses.replace(ptq, calibration=args.calibration)
    for key in ("percentile", "batches", "finetune_epochs"):  # ranges checked by the parser
        if getattr(args, key) is not None:
            ptq = dataclasses.replace(ptq, **{key: getattr(args, key)})
    spec = dataclasses.replace(spec, ptq=ptq, out=args.out or spec.out)
    with locked_folder(out_dir(spec)):
        ckpt = step_train(spec, force=args.force)
        onnx_path = step_export(spec, ckpt)
    print(f"next: hwgen build {onnx_path} --out DIR (Verilog and HLS), or hwgen run {onnx_path} "
          f"--input X.npy --output Y.npy")


def _cmd_compare(args) -> None:
    from hwgen.flow import BUILD_DIR
    from hwgen.outputs import check_folder
    from hwgen.sweep.compare import compare
    from hwgen.sweep.points import parse_bits

    check_folder(args.out or BUILD_DIR / "compare", "--out" if args.out else "build folder")
    compare(args.model, bits=parse_bits(args.bits), vary=args.vary,
            finetune_epochs=args.finetune_epochs, out=args.out)


def _cmd_export(args) -> None:
    from hwgen.flow import out_dir, step_export
    from hwgen.locks import locked_folder

    spec = _spec_and_folder(args)
    with locked_folder(out_dir(spec)):
        step_export(spec)


def _with_folding(spec, pe, simd, clock_mhz=None, lanes=None, interleave=None):
    """Return spec with its folding's pe, simd, clock_mhz, lanes and interleave replaced by
    those given (None: keep), or raise HwgenError naming them if that folding does not divide
    the weight matrices or the hidden size, or the network cannot interleave."""
    import dataclasses

    from hwgen.spec import check_folding_fits

    given = (("pe", pe), ("simd", simd), ("clock_mhz", clock_mhz), ("lanes", lanes),
             ("interleave", interleave))
    changes = {k: v for k, v in given if v is not None}
    if not changes:
        return spec
    spec = dataclasses.replace(spec, folding=dataclasses.replace(spec.folding, **changes))
    given = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in changes.items())
    check_folding_fits(spec, f"{spec.path} with {given}")
    return spec


def _done_line(folder: Path, failed: bool = False) -> str:
    """Return the line that ends `hwgen hw`: where the report, the IR, the RTL and the HLS are."""
    where = (f"report {folder / 'report.md'}, IR {folder / 'ir'}/ (ir.txt), RTL {folder / 'rtl'}/ "
             f"(files.f), HLS {folder / 'hls'}/ (build.tcl)")
    return f"[hwgen] verification failed; see {where}" if failed else f"[hwgen] done: {where}"


def _cmd_hw(args) -> None:
    from hwgen.flow import hw, out_dir, step_range
    from hwgen.locks import locked_folder

    step_range(args.first, args.last)  # unknown or reversed steps stop here
    spec = _with_folding(_spec_and_folder(args), args.pe, args.simd, args.clock_mhz, args.lanes,
                         args.interleave)
    try:
        with locked_folder(out_dir(spec)):
            hw(spec, force=args.force, first=args.first, last=args.last, ecp5=not args.no_ecp5,
               pnr=not args.no_pnr, device=args.device, part=args.part,
               clock_ns=args.clock_ns, synth=not args.no_synth,
               tb_sequences=None if args.tb_sequences == "all" else int(args.tb_sequences))
    except VerificationError:
        print(_done_line(out_dir(spec), failed=True), flush=True)
        raise
    print(_done_line(out_dir(spec)), flush=True)


def _cmd_sweep(args) -> None:
    from hwgen.flow import BUILD_DIR
    from hwgen.outputs import check_folder
    from hwgen.sweep.points import parse_bits
    from hwgen.sweep.run import Options, sweep

    check_folder(args.out or BUILD_DIR / "sweep", "--out" if args.out else "build folder")
    options = Options(jobs=args.jobs, executor=args.executor, address=args.address,
                      fmax=args.fmax, simulate=args.simulate, pe=args.pe, simd=args.simd,
                      finetune_epochs=args.finetune_epochs, device=args.device,
                      ecp5=not args.no_ecp5)
    if args.address and args.executor != "ray":
        raise HwgenError("--address is for --executor ray")
    sweep(args.model, vary=args.vary, bits=None if args.bits is None else parse_bits(args.bits),
          seed=args.seed, out=args.out, options=options)


def _cmd_search(args) -> None:
    from hwgen.flow import BUILD_DIR
    from hwgen.outputs import check_folder
    from hwgen.search.run import Options, parse_budget, search
    from hwgen.sweep.points import parse_bits

    check_folder(args.out or BUILD_DIR / "search", "--out" if args.out else "build folder")
    if args.address and args.executor != "ray":
        raise HwgenError("--address is for --executor ray")
    options = Options(device=args.device, budget=parse_budget(args.budget),
                      max_ns_per_step=args.max_ns_per_step, trials=args.trials, batch=args.batch,
                      jobs=args.jobs, executor=args.executor, address=args.address,
                      seed=args.seed, qat_epochs=args.qat_epochs,
                      verify_qat_epochs=args.verify_qat_epochs,
                      widths=parse_bits(args.widths, "--widths"), clock_mhz=args.clock_mhz,
                      verify=args.verify, seeds=args.seeds, screen=args.screen,
                      pnr=not args.no_pnr, baseline=args.baseline)
    search(args.model, options, out=args.out)


def _cmd_bench(args) -> None:
    from hwgen.bench import bench, select
    from hwgen.outputs import check_folder

    select(args.only, args.quick)  # an unknown workload name stops here
    check_folder(args.out, "--out")
    bench(args.out, only=args.only, quick=args.quick, pnr=not args.no_pnr, dry_run=args.dry_run)


def _cmd_cost(args) -> None:
    from hwgen.cost import TARGETS, cost, format_cost
    from hwgen.passes.fold import fold

    ir = _ir_of(args.model)
    if (args.pe, args.simd, args.lanes, args.multipliers) != (None, None, None, None):
        ir = fold(ir, args.pe or 0, args.simd or 0, ir.max_steps or 1,
                  multipliers=args.multipliers, lanes=args.lanes or 0)
    for target in ([args.target] if args.target != "all" else list(TARGETS)):
        print(format_cost(cost(ir, target, args.clock_mhz)), end="")


def _ir_of(model: str):
    """Return the LoweredModel of a QONNX file or of a folder holding a saved IR."""
    from hwgen.ir.store import load_ir

    if (Path(model) / "ir.json").is_file():
        return load_ir(model)
    if model.endswith(".onnx"):
        from hwgen.onnx.graph import load_model
        from hwgen.passes.lower import lower

        return lower(load_model(model))
    raise HwgenError(f"{model}: not a QONNX file (.onnx) or a folder holding a saved IR (ir.json)")


def _cmd_cost_calibrate(args) -> None:
    from hwgen.cost_calibrate import (calibrate, error_table, fit, format_leave_one_out,
                                      format_table, leave_one_out)

    if not args.fit_only:
        calibrate(args.only, force=args.force)
    fit()
    print(format_table(error_table()), end="")
    print(format_leave_one_out(leave_one_out()), end="")


def _load_input(path: str):
    """Return the array in an .npy file, or raise HwgenError naming the file."""
    import numpy as np

    if not Path(path).is_file():
        raise HwgenError(f"{path}: no such file")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise HwgenError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None


def _design_for(file: str, model, x, pe: int, simd: int) -> Path:
    """Return the folder with ir/, rtl/ and hls/ of a QONNX file (model: the loaded graph),
    generated once per file content, folding and (for a design with a reverse direction, which
    buffers whole sequences; 0 otherwise) the sequence length of input x."""
    import hashlib

    from hwgen.flow import BUILD_DIR, step_build
    from hwgen.locks import locked_folder
    from hwgen.passes.lower import lower

    ir = lower(model)
    max_steps = int(x.shape[1 if ir.batch_first else 0]) if ir.bidirectional else 0
    digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()[:16]
    depth = f"-t{max_steps}" if max_steps else ""
    out = BUILD_DIR / "run" / f"{digest}-pe{pe}-simd{simd}{depth}"
    with locked_folder(out):  # concurrent runs of one file generate it once
        if not all((out / kind / "design.json").is_file() for kind in ("rtl", "hls")):
            step_build(ir, out, pe, simd, source=file, max_steps=max_steps)
    return out


def _load_states(items: list) -> dict:
    """Return {graph input name: array} from NAME=FILE.npy arguments."""
    states = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise HwgenError(f"--state {item!r}: expected NAME=FILE.npy")
        states[name] = _load_input(path)
    return states


def _cmd_build(args) -> None:
    from hwgen.flow import out_dir, step_build, step_export, step_train
    from hwgen.locks import locked_folder
    from hwgen.outputs import check_folder
    from hwgen.spec import load_spec

    check_folder(args.out)
    stateful = False
    if args.model.endswith(".onnx") or (Path(args.model) / "ir.json").is_file():
        onnx_path, source = args.model, args.model
    else:
        spec = load_spec(args.model)
        _with_folding(spec, args.pe, args.simd)  # a folding that does not fit stops before training
        with locked_folder(out_dir(spec)):
            ckpt = step_train(spec)
            onnx_path, source = step_export(spec, ckpt), spec.name
        args.pe = spec.folding.pe if args.pe is None else args.pe
        args.simd = spec.folding.simd if args.simd is None else args.simd
        args.max_steps = spec.folding.max_steps if args.max_steps is None else args.max_steps
        if args.interleave is None:
            args.interleave = spec.folding.interleave
        stateful = spec.folding.stateful
    with locked_folder(args.out):
        step_build(onnx_path, Path(args.out), args.pe or 0, args.simd or 0, source=str(source),
                   max_steps=32 if args.max_steps is None else args.max_steps,
                   interleave=args.interleave or 1, stateful=stateful)


def _cmd_run(args) -> None:
    import numpy as np

    from hwgen.onnx.execute import check_input, run_reference
    from hwgen.onnx.graph import load_model

    model = load_model(args.file)
    x = check_input(model, _load_input(args.input), args.input)
    states = _load_states(args.state)
    extra = {"states": states} if states else {}
    try:
        if args.backend == "reference":
            y = run_reference(model, x, states)
        else:
            from hwgen.backends import run_backend_hls, run_backend_rtl

            run = run_backend_rtl if args.backend == "rtl" else run_backend_hls
            folder = _design_for(args.file, model, x, args.pe, args.simd)
            y = run(model, x, folder / args.backend, **extra)  # rtl/ or hls/
    except HwgenError as exc:
        raise HwgenError(f"{args.file}: {exc}") from None
    except Exception as exc:  # a graph qonnx/onnxruntime cannot execute
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise HwgenError(f"{args.file}: cannot execute graph ({type(exc).__name__}: {first})") \
            from None
    out = Path(args.output)
    if not out.name:
        raise HwgenError(f"{args.output!r}: not a file name for the output")
    tmp = out.with_name(out.name + ".tmp.npy")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(tmp, y)
        tmp.replace(out)
    except OSError as exc:  # a directory, a read-only place, a full disk
        if tmp.is_file():
            tmp.unlink()
        raise HwgenError(f"{out}: cannot write the output ({exc.strerror or type(exc).__name__})") \
            from None
    print(f"wrote {out} {list(y.shape)} float32")


def _design_folder(path: str) -> Path:
    """Return the folder holding design.json: path itself, or its rtl/ (a build folder)."""
    folder = Path(path)
    for candidate in (folder, folder / "rtl"):
        if (candidate / "design.json").is_file():
            return candidate
    raise HwgenError(f"{path}: no design.json here or in rtl/ (not a folder hwgen built)")


def _cmd_quantize_input(args) -> None:
    import numpy as np

    from hwgen.locks import write_atomic
    from hwgen.sim.design import load_design, quantize_raw

    folder = _design_folder(args.design)
    raw = _load_input(args.input)
    codes = quantize_raw(raw, load_design(folder), str(folder / "design.json"))
    out = Path(args.output)
    if not out.name or out.is_dir():
        raise HwgenError(f"{args.output!r}: not a file name for the codes")

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, codes)

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, save)
    except OSError as exc:
        raise HwgenError(f"{out}: cannot write the codes ({exc.strerror or type(exc).__name__})") \
            from None
    print(f"wrote {out} {list(codes.shape)} int64 input codes")


def _cmd_reload(args) -> None:
    from hwgen.reload import reload, rtl_folder
    from hwgen.ir.store import load_ir

    folder = rtl_folder(args.design)
    names = reload(folder, load_ir(args.ir))
    print(f"rewrote {len(names)} data files in {folder / 'mem'} (the sources are unchanged)")


def _version() -> str:
    """Return the installed hwgen version (the package's own when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hwgen")
    except PackageNotFoundError:
        from hwgen import __version__

        return __version__


def _add_executor_options(p, what: str) -> None:
    """Add --jobs, --executor and --address (sweep and search run `what` on them)."""
    p.add_argument("--jobs", type=_int_in(1, 4096), default=os.cpu_count() or 1,
                   help=f"{what} run at once by the local executor (default: the core count)")
    p.add_argument("--executor", default="local", choices=["local", "ray"],
                   help="local: a process pool; ray: tasks on an existing Ray cluster")
    p.add_argument("--address", help="ray: the cluster's address (default: RAY_ADDRESS, or a "
                   "cluster running on this machine)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the hwgen command."""
    parser = _Parser(
        prog="hwgen", description="Quantized LSTM from training to bit-exact hardware.")
    parser.add_argument("--version", action="version", version=f"hwgen {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    model_help = "a model name from models/ (e.g. lstm4b) or a path to a spec file"
    out_help = "build folder (default: build/MODEL)"

    p = sub.add_parser("train", help="train the float baseline and the quantized model: QAT, or "
                       "post-training quantization for a spec with a ptq section; writes "
                       "build/MODEL/checkpoint.pt")
    p.add_argument("model", help=model_help)
    p.add_argument("--out", metavar="DIR", help=out_help)
    p.add_argument("--force", action="store_true", help="retrain even if a checkpoint matches")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("train-float", help="train only the spec's float model (nn.LSTM or nn.RNN "
                       "+ nn.Linear) and save its state dict, for post-training quantization")
    p.add_argument("model", help=model_help)
    p.add_argument("--out", required=True, help="the .pt file to write")
    p.add_argument("--force", action="store_true", help="retrain even if the file matches")
    p.set_defaults(func=_cmd_train_float)

    p = sub.add_parser("import", help="post-training quantization: load a float nn.LSTM/nn.RNN "
                       "+ nn.Linear state dict into the spec's quantized model, calibrate it, "
                       "write build/MODEL/checkpoint.pt and model.onnx")
    p.add_argument("file", help="float checkpoint (.pt): a state dict, loaded with "
                   "weights_only=True; the recurrent tensors may sit under any one prefix")
    p.add_argument("--spec", required=True, help=model_help + " (sizes and bit widths; its ptq "
                   "section, if any, gives the defaults below)")
    p.add_argument("--calibration", choices=["mse", "max", "percentile"],
                   help="activation range: the power of two with the least quantization error "
                        "(mse), the largest |x| seen, or a percentile of |x| (default: the spec's "
                        "ptq.calibration, else mse)")
    p.add_argument("--percentile", type=_percentile, help="percentile of |x| (default: the spec's "
                   "ptq.percentile, else 99.99)")
    p.add_argument("--batches", type=_spec_int("batches"),
                   help="calibration batches of training sequences "
                   "(default: the spec's ptq.batches, else 8)")
    p.add_argument("--finetune-epochs", type=_spec_int("finetune_epochs"),
                   help="QAT epochs after calibration (default: the spec's "
                   "ptq.finetune_epochs, else 0)")
    p.add_argument("--out", help="output folder (default: build/MODEL)")
    p.add_argument("--force", action="store_true", help="recalibrate even if a checkpoint matches")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("compare", help="post-training quantization per bit width: float, PyTorch "
                       "dynamic int8, calibrated and fine-tuned accuracy; for next_token also bits per "
                       "character and perplexity (compare.md/.csv/.json)")
    p.add_argument("model", help=model_help + " (its ptq section sets calibration and the float "
                   "checkpoint; without one the float model is trained)")
    p.add_argument("--bits", default="4-8", help="widths, e.g. 4-8 or 4,6,8 (default 4-8)")
    p.add_argument("--vary", default="all", help="what the width applies to (as in sweep; "
                   "default all)")
    p.add_argument("--finetune-epochs", type=_spec_int("finetune_epochs"), default=None,
                   help="QAT epochs of the "
                   "fine-tuned column (default: the spec's ptq.finetune_epochs, else 10)")
    p.add_argument("--out", help="folder (default: build/compare/MODEL)")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("export", help="export the trained model to build/MODEL/model.onnx")
    p.add_argument("model", help=model_help)
    p.add_argument("--out", metavar="DIR", help=out_help + "; its checkpoint.pt is exported")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("run", help="execute a QONNX file on some input")
    p.add_argument("file", help="a QONNX file exported from a Brevitas fixed-point QuantLSTM")
    p.add_argument("--input", required=True, help="float32 .npy in the graph's input layout")
    p.add_argument("--output", required=True, help="where to write the output .npy (float32)")
    p.add_argument("--backend", default="reference", choices=["reference", "rtl", "hls"],
                   help="reference: the int64 golden model (default); rtl: the generated Verilog "
                        "on Verilator; hls: the generated HLS C++ in g++ C simulation (both "
                        "built once per file and folding, under build/run/)")
    p.add_argument("--pe", type=_spec_int("pe"), default=0,
                   help="rtl and hls: gate rows per cycle (0: all)")
    p.add_argument("--simd", type=_spec_int("simd"), default=0,
                   help="rtl and hls: columns per cycle (0: all)")
    p.add_argument("--state", action="append", metavar="NAME=FILE.npy",
                   help="an initial-state graph input (Brevitas's hx or cx, float32 [layers * "
                        "directions, batch, hidden]); once per state input the graph has")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("quantize-input", help="turn raw input features into the input codes a "
                       "built design takes (standardized and quantized as in training)")
    p.add_argument("design", help="a build folder (build/MODEL) or its rtl/ or hls/ folder")
    p.add_argument("input", help="raw features, float .npy [T, C] or [N, T, C] (unstandardized, "
                   "as the dataset files hold them)")
    p.add_argument("output", help="where to write the int64 codes (.npy, same shape)")
    p.set_defaults(func=_cmd_quantize_input)

    p = sub.add_parser("build", help="generate the hardware sources into DIR/rtl/ and DIR/hls/ "
                       "(and the folded IR into DIR/ir/)")
    p.add_argument("model", help=model_help + ", a QONNX file (.onnx), or a folder holding a "
                   "saved IR (ir.json and ir.npz, e.g. build/MODEL/ir)")
    p.add_argument("--out", required=True, help="output folder (DIR/ir/, DIR/rtl/ and DIR/hls/ "
                   "are written)")
    p.add_argument("--pe", type=_spec_int("pe"), default=None,
                   help="gate rows per cycle (default: the "
                   "spec's folding, else all)")
    p.add_argument("--simd", type=_spec_int("simd"), default=None,
                   help="columns per cycle (default: the "
                   "spec's folding, else all)")
    p.add_argument("--max-steps", type=_spec_int("max_steps"), default=None,
                   help="longest sequence a design "
                   "with a reverse direction buffers (default: the spec's folding.max_steps, "
                   "else 32)")
    p.add_argument("--interleave", type=_spec_int("interleave"), default=None,
                   help="sequences sharing the engine, entering step by step round-robin "
                   "(one-layer, one-direction LSTMs without initial states or a per-step "
                   "head; default: the spec's folding.interleave, else 1)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("reload", help="rewrite a generated design's weight, bias and table data "
                       "files (rtl/mem/*.hex) for another model of the same shapes and widths, "
                       "leaving its RTL as it is",
                       description="Rewrite the data files of DESIGN (rtl/mem/*.hex, the "
                       "manifest, design.json, ir.txt) from the folded IR NEW_IR, e.g. a model "
                       "retrained at the same shapes and built with `hwgen build` at the same "
                       "folding. Refused, with nothing written and exit status 2, when NEW_IR "
                       "would not generate exactly the same RTL (the one line names the first "
                       "difference: instance or file, and parameter, width or scale). The HLS "
                       "sources keep their constants: build them again.")
    p.add_argument("design", help="a build folder (DIR) or its rtl/ folder")
    p.add_argument("--ir", required=True, metavar="NEW_IR", help="a folder holding the new "
                   "model's saved, folded IR (ir.json and ir.npz, e.g. DIR2/ir from `hwgen build "
                   "... --out DIR2`)")
    p.set_defaults(func=_cmd_reload)

    p = sub.add_parser("hw", help="train (cached), export, build, verify the reference, RTL and "
                       "HLS bit for bit, cost; write build/MODEL/report.*")
    p.add_argument("model", help=model_help + " (a QONNX file goes to build or run)")
    p.add_argument("--out", metavar="DIR", help=out_help)
    p.add_argument("--force", action="store_true", help="retrain even if a checkpoint matches")
    p.add_argument("--pe", type=_spec_int("pe"), default=None,
                   help="gate rows per cycle (default: the spec's folding)")
    p.add_argument("--simd", type=_spec_int("simd"), default=None,
                   help="columns per cycle (default: the spec's folding)")
    p.add_argument("--lanes", type=_spec_int("lanes"), default=None,
                   help="units per cycle of the gate, cell and hidden stages, dividing the "
                   "hidden size; 0: auto (default: the spec's folding.lanes)")
    p.add_argument("--interleave", type=_spec_int("interleave"), default=None,
                   help="sequences sharing the engine, entering step by step round-robin "
                   "(one-layer, one-direction LSTMs without initial states or a per-step "
                   "head; default: the spec's folding.interleave)")
    p.add_argument("--device", default=DEFAULT_DEVICE, type=ecp5_device_arg,
                   help=f"the ECP5 part of synth_ecp5's fit check and of place and route: "
                   f"{', '.join(ECP5_DEVICES)} as nextpnr-ecp5 names them (LFE5U, LFE5UM, "
                   f"LFE5UM5G; 25k, 45k or 85k LUTs; CABGA381 package), or ecp5-85, "
                   f"ecp5-um-45, LFE5U-85F (default {DEFAULT_DEVICE})")
    p.add_argument("--clock-mhz", type=_clock_mhz, default=None, metavar="MHZ",
                   help="the clock place and route aims at, up to 1000 (default: the spec's "
                   "folding.clock_mhz, 100); the report says whether Fmax meets it")
    p.add_argument("--no-pnr", action="store_true",
                   help="skip nextpnr place and route (no Fmax, no time figures: cycles only)")
    p.add_argument("--no-ecp5", action="store_true",
                   help="skip the ECP5 synthesis and place and route (Xilinx counts only)")
    p.add_argument("--no-synth", action="store_true",
                   help="skip Yosys and nextpnr altogether: verification only (no resources, "
                   "no Fmax, no time figures)")
    p.add_argument("--fmax", action="store_true",
                   help="no effect, kept for old scripts: place and route now runs by default")
    p.add_argument("--tb-sequences", default="20", type=_tb_sequences, metavar="N|all",
                   help="test sequences in the testbench vectors of rtl/tb/ (default 20)")
    p.add_argument("--part", default=DEFAULT_PART, type=_part, metavar="PART",
                   help="the Xilinx part of hls/build.tcl, rtl/package_ip.tcl and the report's "
                   f"utilisation: a device ({', '.join(XILINX_DEVICES)}) or a full part name "
                   f"of one (e.g. xc7z020clg400-1; default {DEFAULT_PART})")
    p.add_argument("--clock-ns", default=10.0, type=_clock_ns, metavar="NS",
                   help="the clock period hls/build.tcl asks Vitis HLS for (default 10)")
    steps = ", ".join(STEP_NAMES)
    p.add_argument("--from", dest="first", default="train", metavar="STEP",
                   help=f"start at this step; the artifacts of the steps before it are used as "
                   f"they are in the build folder (steps: {steps}; default train)")
    p.add_argument("--to", dest="last", default="report", metavar="STEP",
                   help="stop after this step (default report)")
    p.set_defaults(func=_cmd_hw)

    p = sub.add_parser("sweep", help="accuracy and hardware cost over bit widths "
                       "(writes results.csv/.json/.md and plots)")
    p.add_argument("model", help=model_help)
    p.add_argument("--bits", help="widths, e.g. 2,3,4,5,6,8 or 2-8 (default: the spec's "
                   "sweep.bits, else 2-8)")
    p.add_argument("--vary", help="what the width applies to: all (weights and activations "
                   "together), weights, activations, or one key of the spec's bits (e.g. weight, "
                   "io, cell_state); the rest keep the spec's widths (default: the spec's "
                   "sweep.vary, else all)")
    p.add_argument("--seed", type=_spec_int("seed"),
                   help="training seed of every point (default: the spec's)")
    _add_executor_options(p, "points")
    p.add_argument("--out", help="sweep folder (default: build/sweep/MODEL-VARY); finished "
                   "points found there are not run again")
    p.add_argument("--device", default=DEFAULT_DEVICE, type=ecp5_device_arg,
                   help=f"the ECP5 part of each point's device cost (LUT4, EBR and MULT18 as "
                   f"shares of it, summed) and of --fmax: {', '.join(ECP5_DEVICES)}, or ecp5-85, "
                   f"LFE5U-85F (default {DEFAULT_DEVICE})")
    p.add_argument("--fmax", action="store_true",
                   help="also place and route every point for ECP5 with nextpnr (Fmax)")
    p.add_argument("--no-ecp5", action="store_true",
                   help="skip each point's synth_ecp5 run: no ECP5 counts and no device cost "
                   "(such a sweep cannot be a search's --baseline; ignored with --fmax)")
    p.add_argument("--simulate", action="store_true",
                   help="also stream the test set through each point's RTL on Verilator (its "
                        "mismatches and simulated cycles join the table; about 2 min more per "
                        "fully parallel 32-unit point)")
    p.add_argument("--pe", type=_spec_int("pe"), default=None,
                   help="gate rows per cycle (default: the "
                   "spec's folding)")
    p.add_argument("--simd", type=_spec_int("simd"), default=None,
                   help="columns per cycle (default: the "
                   "spec's folding)")
    p.add_argument("--finetune-epochs", type=_spec_int("finetune_epochs"), default=None,
                   help="specs with a ptq section: "
                   "QAT epochs after calibration at every point (default: the spec's)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("search", help="hardware-aware mixed precision: search every "
                       "quantizer's width and the folding for an ECP5 device (Optuna NSGA-II, "
                       "cost model), then verify the front's best points with the whole flow")
    p.add_argument("model", help=model_help)
    p.add_argument("--device", default=DEFAULT_DEVICE, type=ecp5_device_arg,
                   help=f"the ECP5 part whose LUT4, EBR and MULT18 the cost counts against: "
                   f"{', '.join(ECP5_DEVICES)}, or ecp5-85, ecp5-um-45, LFE5U-85F "
                   f"(default {DEFAULT_DEVICE})")
    p.add_argument("--budget", metavar="KEY=N,...", help="at most N of LUT4, FF, EBR or MULT18 "
                   "(default: what the device has)")
    p.add_argument("--max-ns-per-step", type=float, metavar="NS",
                   help="at most this time per step (cost model at --clock-mhz)")
    p.add_argument("--clock-mhz", type=float, default=100.0,
                   help="the clock of the cost model's time per step (default 100)")
    p.add_argument("--trials", type=_int_in(1, 100000), default=48,
                   help="trials to run in all, resumed trials included (default 48)")
    p.add_argument("--batch", type=_int_in(2, 4096), default=8,
                   help="trials per generation, NSGA-II's population (default 8)")
    p.add_argument("--widths", default="2-8", help="widths a quantizer may take (default 2-8)")
    p.add_argument("--qat-epochs", type=_int_in(1, 100000), default=None,
                   help="QAT epochs per trial after calibrating the base model's float weights "
                   "(default: the spec's train.qat_epochs, the verified points' schedule)")
    p.add_argument("--seed", type=_spec_int("seed"), default=0,
                   help="the study's seed (default 0); training seeds are the spec's")
    p.add_argument("--seeds", type=_int_in(1, 100), default=3,
                   help="training seeds per verified point, from the spec's: accuracy mean and "
                   "spread (default 3)")
    p.add_argument("--screen", type=_int_in(0, 1000), default=6,
                   help="best trials, front by front, trained with every seed (--seeds) and the "
                   "verified schedule before the verified points are chosen from the front of "
                   "their means (default 6; 0: choose from the trials' one-seed front)")
    p.add_argument("--verify", type=_int_in(0, 100), default=3,
                   help="points verified by the whole flow (default 3)")
    p.add_argument("--verify-qat-epochs", type=_int_in(1, 100000), default=None,
                   help="QAT epochs of each verified point and seed after calibration (default: "
                   "the spec's train.qat_epochs, the schedule the spec itself trains with)")
    p.add_argument("--baseline", metavar="SWEEP",
                   help="a `hwgen sweep` folder of the same model (or its results.json): its "
                   "most accurate point, trained again with --seeds seeds, is compared with each "
                   "verified point (mean accuracy at <= 70 %% of its cost, or more accuracy at no "
                   "more cost) in search.md")
    p.add_argument("--no-pnr", action="store_true",
                   help="verify without nextpnr place and route (no Fmax)")
    _add_executor_options(p, "trials")
    p.add_argument("--out", help="search folder (default: build/search/MODEL-DEVICE); a rerun "
                   "there resumes")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("bench", help="benchmark fixed hardware workloads (seeded random "
                       "weights): mismatches, cycles, Yosys and ECP5 resources, Fmax, ns/step, "
                       "GOPS; writes OUT/bench.json and bench.md")
    p.add_argument("--only", metavar="NAME,...", help="run only these workloads (lstm4b, "
                   "hidden8, lstm_pynq, torch_dq_layer; default: all)")
    p.add_argument("--out", default="build/bench", help="bench folder (default build/bench); "
                   "a workload whose inputs are unchanged is not run again")
    p.add_argument("--quick", action="store_true", help="one tiny workload (input 3, hidden 4)")
    p.add_argument("--no-pnr", action="store_true",
                   help="skip nextpnr place and route (no Fmax, no time figures)")
    p.add_argument("--dry-run", action="store_true", help="only build each workload's IR, RTL "
                   "and HLS sources (no simulation, no synthesis, no bench.json)")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("cost", help="the cost model's resources per stage (Xilinx, ECP5 or a "
                       "generic ASIC gate-count estimate, from the IR alone, no tool run) and the "
                       "cycle model's cycles and latency")
    p.add_argument("model", help="a QONNX file (.onnx) or a folder holding a saved IR (ir.json)")
    p.add_argument("--target", choices=("xilinx", "ecp5", "generic", "all"), default="all",
                   help="synth_xilinx's or synth_ecp5's resources, or generic: an ASIC estimate "
                   "(gates in NAND2 equivalents and flip-flops; no Liberty file) (default: all)")
    p.add_argument("--pe", type=int, default=None, help="fold again: rows per cycle (0: all; "
                   "without --pe, --simd, --lanes and --multipliers the IR's own folding)")
    p.add_argument("--simd", type=int, default=None, help="fold again: columns per cycle (0: all)")
    p.add_argument("--lanes", type=int, default=None,
                   help="fold again: elementwise units per cycle (0: auto)")
    p.add_argument("--multipliers", choices=("auto", "lut", "dsp"), default=None,
                   help="how products are built (default: the IR's own)")
    p.add_argument("--clock-mhz", type=float, default=None,
                   help="also give ns per step and latency at this clock")
    p.set_defaults(func=_cmd_cost)

    p = sub.add_parser("cost-calibrate", help="build and synthesize (Yosys) the cost model's "
                       "calibration designs, refit its coefficients and print its error per "
                       "design (models/cost_calibration.json; minutes per design)")
    p.add_argument("--only", metavar="NAME,...", help="build only these designs")
    p.add_argument("--force", action="store_true",
                   help="synthesize designs whose figures are already recorded")
    p.add_argument("--fit-only", action="store_true",
                   help="no synthesis: refit the coefficients from the recorded figures")
    p.set_defaults(func=_cmd_cost_calibrate)
    return parser


def main(argv=None) -> int:
    """Run the hwgen command line; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a bad argument (already reported on one line)
        return exc.code
    # Keep the terminal for hwgen's own output: torch's C++ exporter warns about every custom op,
    # and Brevitas about optional packages it does not need here.
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        args.func(args)
    except VerificationError as exc:
        print(f"hwgen: error: {_capped(str(exc), 1000)}", file=sys.stderr)
        return EXIT_VERIFICATION
    except HwgenError as exc:
        print(f"hwgen: error: {_capped(str(exc), 1000)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UnicodeDecodeError as exc:  # a last resort: the specific checks name the file
        print(f"hwgen: error: not UTF-8 text ({exc.reason} at byte {exc.start})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a last resort: permission, a directory, a full disk
        print(f"hwgen: error: {_capped(_os_error_line(exc), 1000)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hwgen: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
