"""The `hwgen` command. Bad input is one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from hwgen.types import HwgenError

EXIT_BAD_INPUT = 2


def _cmd_train(args) -> None:
    from hwgen.flow import step_train
    from hwgen.spec import load_spec

    step_train(load_spec(args.model), force=args.force)


def _cmd_export(args) -> None:
    from hwgen.flow import step_export
    from hwgen.spec import load_spec

    step_export(load_spec(args.model))


def _cmd_hw(args) -> None:
    from hwgen.flow import hw
    from hwgen.spec import load_spec

    hw(load_spec(args.model))


def _load_input(path: str):
    """Return the array in an .npy file, or raise HwgenError naming the file."""
    import numpy as np

    if not Path(path).is_file():
        raise HwgenError(f"{path}: no such file")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise HwgenError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None


def _cmd_run(args) -> None:
    import numpy as np

    from hwgen.onnx.execute import check_input, run_reference
    from hwgen.onnx.graph import load_model

    model = load_model(args.file)
    x = check_input(model, _load_input(args.input), args.input)
    if args.backend != "reference":
        raise HwgenError(f"backend {args.backend!r} is not available yet")
    try:
        y = run_reference(model, x)
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


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the hwgen command."""
    parser = argparse.ArgumentParser(
        prog="hwgen", description="Quantized LSTM from training to bit-exact hardware.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    model_help = "a model name from models/ (e.g. lstm4b) or a path to a spec file"

    p = sub.add_parser("train", help="train the float baseline and the QAT model")
    p.add_argument("model", help=model_help)
    p.add_argument("--force", action="store_true", help="retrain even if a checkpoint matches")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("export", help="export the trained model to build/MODEL/model.onnx")
    p.add_argument("model", help=model_help)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("run", help="execute a QONNX file on some input")
    p.add_argument("file", help="a QONNX file exported from a Brevitas fixed-point QuantLSTM")
    p.add_argument("--input", required=True, help="float32 .npy in the graph's input layout")
    p.add_argument("--output", required=True, help="where to write the output .npy (float32)")
    p.add_argument("--backend", default="reference", choices=["reference"],
                   help="reference: the int64 golden model (default)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("hw", help="train (cached), export, verify; write build/MODEL/report.*")
    p.add_argument("model", help=model_help)
    p.set_defaults(func=_cmd_hw)
    return parser


def main(argv=None) -> int:
    """Run the hwgen command line; return the exit status."""
    args = build_parser().parse_args(argv)
    # Keep the terminal for hwgen's own output: torch's C++ exporter warns about every custom op,
    # and Brevitas about optional packages it does not need here.
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        args.func(args)
    except HwgenError as exc:
        print(f"hwgen: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hwgen: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
