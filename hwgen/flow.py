"""The named steps of `make hw`; each reads saved artifacts and writes one.

train -> export -> lower -> fold -> reference -> emit_rtl, emit_hls -> sim_rtl, sim_hls -> cost
-> report. The artifacts live in the spec's build folder (out_dir: build/NAME for a spec in
models/): checkpoint.pt (keyed by the spec's training hash), model.onnx (keyed in model.onnx.key),
lowered/ (the IR as lowered: ir.json, ir.npz), ir/ (the folded IR, and ir.txt), reference.npy
(the int64 reference's scores of the test set), rtl/, hls/, the simulators' builds, synth/ (cached
Yosys and nextpnr results), report.json and report.md. Every step after export keeps
steps/STEP.json: a digest of its inputs (artifacts, settings, hwgen's code), its result and a
digest of its output; while both hold, the step is reused and says so. RTL and HLS depend only
on ir/. Each file is written whole (hwgen.locks.write_atomic); the CLI holds the folder's lock
for the whole command (hwgen.locks.locked_folder).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from hwgen.codegen.testbench import DEFAULT_SEQUENCES as TB_SEQUENCES
from hwgen.locks import write_atomic
from hwgen.progress import say
from hwgen.parts import DEFAULT_CLOCK_NS, DEFAULT_PART, parse_part
from hwgen.report import (RESOURCE_KEYS, build_report, cost_lines, cycles_per_step,
                          handoff_sections, pct, time_line, write_report)
from hwgen.spec import DEFAULT_CLOCK_MHZ, MODELS_DIR, Spec
from hwgen.types import HwgenError, VerificationError

BUILD_DIR = Path("build")


def out_dir(spec: Spec) -> Path:
    """Return the build folder of a spec (not created): its own `out`, else build/NAME for a spec
    in models/, else build/NAME-HASH, HASH naming the spec file's resolved path."""
    if spec.out:
        return Path(spec.out)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", spec.name).lstrip(".") or "_"
    path = Path(spec.path).resolve()
    if path.parent == MODELS_DIR.resolve():
        return BUILD_DIR / name
    return BUILD_DIR / f"{name}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


def model_arg(spec: Spec) -> str:
    """Return what names the spec on hwgen's command line: NAME for models/, else its path."""
    from_models = Path(spec.path).resolve().parent == MODELS_DIR.resolve()
    return spec.name if from_models else str(spec.path)


def _atomic_save(obj, path: Path) -> None:
    """torch.save obj to path without ever leaving a partial file behind."""
    write_atomic(path, lambda tmp: torch.save(obj, tmp))


def load_checkpoint(path: Path) -> dict:
    """Return a checkpoint dict, loaded with weights_only=True (no arbitrary unpickling)."""
    if not path.is_file():
        raise HwgenError(f"{path}: no checkpoint; run `hwgen train` first")
    try:
        return torch.load(path, weights_only=True)
    except Exception as exc:
        raise HwgenError(f"{path}: not a loadable checkpoint ({type(exc).__name__})") from None


def step_train(spec: Spec, force: bool = False) -> dict:
    """Train the float baseline and the QAT model, or, for a spec with a ptq section, quantize a
    float model after training (reusing a checkpoint of the same spec and float checkpoint)."""
    from hwgen.qat.data import check_sizes, load_dataset, preprocess_of
    from hwgen.qat.model import build_quant, load_float_into_quant
    from hwgen.qat.ptq import post_training, train_float
    from hwgen.qat.train import evaluate, fit, seed_everything

    path = out_dir(spec) / "checkpoint.pt"
    if path.is_file() and not force:
        ckpt = load_checkpoint(path)
        if ckpt.get("spec_hash") == spec.training_hash():
            say(f"reusing {path} (spec unchanged)")
            if "preprocess" not in ckpt:  # a checkpoint from before inputs were described
                ckpt["preprocess"] = preprocess_of(load_dataset(spec.dataset))
                _atomic_save(ckpt, path)
            _print_accuracy(ckpt)
            return ckpt
        say(f"{path} was trained from another spec: retraining")
    data = load_dataset(spec.dataset)
    check_sizes(spec, data)
    t = spec.train
    rng = seed_everything(t.seed)
    start = time.time()
    by_length = spec.net.bidirectional  # a reverse direction must not see any padding
    if spec.ptq is not None:
        ckpt = post_training(spec, data, rng, by_length)
    else:
        float_model = train_float(spec, data, rng, by_length)
        float_q = evaluate(float_model, data, by_length)
        quant = build_quant(spec)
        load_float_into_quant(quant, float_model)
        fit(quant, data.train, t.qat_epochs, t.qat_lr, t.batch_size, rng, "QAT fine-tuning",
            by_length, data.task)
        quant_q = evaluate(quant, data, by_length)
        ckpt = {"quant": quant.state_dict(), "float": float_model.state_dict(),
                "float_accuracy": float_q.get("accuracy"),
                "quant_accuracy": quant_q.get("accuracy"),
                "float_metrics": float_q, "quant_metrics": quant_q}
    ckpt.update({"spec_hash": spec.training_hash(), "model": spec.name, "task": spec.task,
                 "train_seconds": time.time() - start, "preprocess": preprocess_of(data)})
    _atomic_save(ckpt, path)
    say(f"wrote {path} ({ckpt['train_seconds']:.0f} s)")
    _print_accuracy(ckpt)
    return ckpt


def step_float(spec: Spec, path: Path, force: bool = False) -> Path:
    """Train the spec's float model (nn.LSTM or nn.RNN + nn.Linear) and save it to path.

    The file holds {"float": state_dict, ...}: plain tensors and numbers, loadable with
    weights_only=True, and accepted wherever a float checkpoint is (ptq.float_checkpoint,
    `hwgen import`). A file made from the same dataset, net and training settings is reused.
    """
    from hwgen.qat.data import check_sizes, load_dataset, ref_digest
    from hwgen.qat.ptq import train_float
    from hwgen.qat.task import shown
    from hwgen.qat.train import evaluate, seed_everything

    t = spec.train
    keyed = {"dataset": ref_digest(spec.dataset), "net": spec.to_dict()["net"],
             "train": [t.seed, t.batch_size, t.float_epochs, t.lr]}
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(path)
    if path.is_file() and not force:
        old = load_checkpoint(path)
        if old.get("float_hash") == digest:
            figures = old.get("float_metrics") or {"accuracy": old.get("float_accuracy")}
            say(f"reusing {path} (float {shown(figures)})")
            return path
    data = load_dataset(spec.dataset)
    check_sizes(spec, data)
    by_length = spec.net.bidirectional
    model = train_float(spec, data, seed_everything(t.seed), by_length)
    figures = evaluate(model, data, by_length)
    _atomic_save({"float": model.state_dict(), "float_hash": digest,
                  "float_accuracy": figures.get("accuracy"), "float_metrics": figures}, path)
    say(f"wrote {path} (float {shown(figures)})")
    return path


def _print_accuracy(ckpt: dict) -> None:
    """Print the float and quantized test accuracy stored in a checkpoint (and the PTQ figures);
    for a regression model its MSE and MAE."""
    if ckpt.get("task", "classify") != "classify":
        _print_metrics(ckpt)
        return
    print(f"float accuracy:     {pct(ckpt['float_accuracy'])}")
    ptq = ckpt.get("ptq")
    if ptq:
        print(f"torch dynamic int8: {pct(ptq['torch_int8_accuracy'])}  (PyTorch "
              f"quantize_dynamic; with this spec's weight widths: "
              f"{pct(ptq['torch_weights_accuracy'])})")
        print(f"calibrated:         {pct(ptq['calibrated_accuracy'])}  ({ptq['calibration']} "
              f"ranges, float model {ptq['float_source']})")
        if ptq["finetuned_accuracy"] is not None:
            print(f"fine-tuned:         {pct(ptq['finetuned_accuracy'])}  "
                  f"({ptq['finetune_epochs']} QAT epochs)")
    print(f"quantized accuracy: {pct(ckpt['quant_accuracy'])}")


def _print_metrics(ckpt: dict) -> None:
    """Print a non-classifier checkpoint's test figures: float, PTQ's, quantized."""
    from hwgen.qat.task import checkpoint_metrics, shown

    print(f"float:              {shown(checkpoint_metrics(ckpt, 'float'))}")
    ptq = ckpt.get("ptq")
    if ptq:
        m = ptq["metrics"]
        print(f"torch dynamic int8: {shown(m['torch_int8'])}  (with this spec's weight widths: "
              f"{shown(m['torch_weights'])})")
        print(f"calibrated:         {shown(m['calibrated'])}  ({ptq['calibration']} ranges, float "
              f"model {ptq['float_source']})")
        if m["finetuned"] is not None:
            print(f"fine-tuned:         {shown(m['finetuned'])}  ({ptq['finetune_epochs']} QAT "
                  f"epochs)")
    print(f"quantized:          {shown(checkpoint_metrics(ckpt, 'quant'))}")


def quant_model(spec: Spec, ckpt: dict):
    """Return the trained QuantClassifier of a checkpoint, in eval mode."""
    from hwgen.qat.model import build_quant

    model = build_quant(spec)
    try:
        model.load_state_dict(ckpt["quant"], strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise HwgenError(f"checkpoint does not fit spec {spec.path}: {first}") from None
    return model.eval()


# What an export depends on besides the weights and the spec: the code that builds and exports
# the model, and the packages it runs on.
EXPORT_SOURCES = ("qat/export.py", "qat/rnn_export.py", "qat/model.py", "onnx/graph.py",
                  "onnx/lstm_cell.py", "onnx/rnn_cell.py", "qat/gru.py", "onnx/gru_cell.py")
EXPORT_PACKAGES = ("torch", "brevitas", "qonnx", "onnx")


def _export_key(spec: Spec, ckpt: dict) -> str:
    """Return a digest of everything model.onnx is made from."""
    from importlib import metadata

    h = hashlib.sha256(spec.training_hash().encode())
    for name, value in sorted(ckpt["quant"].items()):
        array = value.detach().cpu().numpy()
        h.update(f"{name} {array.dtype} {array.shape}".encode() + array.tobytes())
    package = Path(__file__).resolve().parent
    for source in EXPORT_SOURCES:
        h.update((package / source).read_bytes())
    for name in EXPORT_PACKAGES:
        h.update(metadata.version(name).encode() + b"\0")
    return h.hexdigest()[:16]


def _exported(path: Path, key: str) -> bool:
    """Return True when path holds the model exported with key (its sidecar PATH.key says so)."""
    try:
        record = json.loads(path.with_name(path.name + ".key").read_text())
        return (record.get("key") == key
                and record.get("sha256") == hashlib.sha256(path.read_bytes()).hexdigest())
    except (OSError, ValueError, AttributeError):
        return False


def _checked_checkpoint(spec: Spec) -> dict:
    """Return the spec's checkpoint, or raise HwgenError if it was trained from another spec."""
    path = out_dir(spec) / "checkpoint.pt"
    ckpt = load_checkpoint(path)
    if ckpt.get("spec_hash") != spec.training_hash():
        raise HwgenError(f"{path} was trained from another spec than {spec.path} (its dataset, "
                         f"net, bits or train section changed); run `hwgen train "
                         f"{model_arg(spec)}` first")
    return ckpt


def step_export(spec: Spec, ckpt: dict | None = None) -> Path:
    """Export the trained model to build/MODEL/model.onnx and return its path.

    Without ckpt, the spec's checkpoint is loaded and must have been trained from this spec. An
    existing model.onnx exported from the same weights, spec and exporter is reused.
    """
    from hwgen.qat.export import export_model

    ckpt = ckpt or _checked_checkpoint(spec)
    path = out_dir(spec) / "model.onnx"
    key = _export_key(spec, ckpt)
    if _exported(path, key):
        say(f"reusing {path} (exported from the same checkpoint)")
        return path
    model = quant_model(spec, ckpt)
    example = (torch.zeros(1, 16, dtype=torch.long) if spec.task == "next_token"  # token ids
               else torch.zeros(1, 16, spec.net.input_size))
    export_model(model, example, path)
    record = {"key": key, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    write_atomic(path.with_name(path.name + ".key"),
                 lambda tmp: tmp.write_text(json.dumps(record) + "\n"))
    say(f"wrote {path}")
    return path


@torch.no_grad()
def torch_scores(model, sequences: list, by_length: bool = False) -> list:
    """Return the PyTorch model's scores for every sequence (eval mode, true lengths).

    by_length runs one batch per sequence length (no padding), as bidirectional models need.
    """
    from hwgen.qat.data import pad_batch
    from hwgen.qat.train import batches

    lengths = np.array([len(s) for s in sequences])
    order = np.arange(len(sequences))
    scores = [None] * len(sequences)
    for index in batches(order, lengths, len(sequences), by_length):
        x, lens = pad_batch([sequences[i] for i in index])
        out = model(torch.from_numpy(x), torch.from_numpy(lens)).numpy()
        for row, i in enumerate(index):
            scores[i] = out[row]
    return scores


# --- the steps after export: each reads saved artifacts and writes one --------------------------

STEPS = ("train", "export", "lower", "fold", "reference", "emit_rtl", "emit_hls", "sim_rtl",
         "sim_hls", "cost", "report")
PACKAGE = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE.parent / "templates"


@dataclass
class Build:
    """One run of the flow for a spec: its options, the checkpoint once loaded, the results."""

    spec: Spec
    fmax: bool = False  # place and route on the ECP5 device for Fmax (implies ecp5)
    ecp5: bool = False  # Yosys synth_ecp5 counts and the fit check on the ECP5 device
    synth: bool = True  # Yosys at all (False: the cost step records no counts, no Fmax)
    device: str = "85k"  # the ECP5 part, as nextpnr-ecp5 names it (hwgen.sim.synth.DEVICES)
    force: bool = False
    compile_opt: str = "-O1"  # the Verilator build's C++ optimisation (-O0 builds faster)
    tb_sequences: int | None = TB_SEQUENCES  # test sequences in rtl/tb/'s vectors; None: all
    part: str = DEFAULT_PART  # the Xilinx part of build.tcl, package_ip.tcl and the report
    clock_ns: float = DEFAULT_CLOCK_NS  # the clock period build.tcl asks Vitis HLS for
    ckpt: dict | None = None
    folded: object = None  # the folded IR once loaded
    test: object = None  # the dataset's test set once loaded
    results: dict = field(default_factory=dict)  # step name -> its result

    @property
    def folder(self) -> Path:
        return out_dir(self.spec)

    def path(self, artifact: str) -> Path:
        return self.folder / artifact

    def checkpoint(self) -> dict:
        """Return the checkpoint (train's output), loaded once."""
        if self.ckpt is None:
            self.ckpt = load_checkpoint(self.path("checkpoint.pt"))
        return self.ckpt

    def test_set(self):
        """Return the spec's test set (a SequenceSet), loaded once."""
        from hwgen.qat.data import load_dataset

        if self.test is None:
            self.test = load_dataset(self.spec.dataset).test
        return self.test

    def ir(self):
        """Return the folded IR (fold's output), loaded from ir/ once."""
        from hwgen.ir.store import load_ir

        if self.folded is None:
            self.folded = load_ir(self.path("ir"))
        return self.folded


@dataclass(frozen=True)
class Step:
    """A step: reads its inputs (artifacts in the build folder), writes its output, returns a
    JSON-ready result; show prints the result's figures (also when the step is reused)."""

    name: str
    inputs: tuple
    output: str | None  # None: the result (kept in steps/NAME.json) is the output
    run: Callable
    show: Callable = (lambda result: None)
    params: Callable = (lambda b: {})  # settings other than the inputs that shape the output
    cached: bool = True


def _dataset(b: Build) -> dict:
    from hwgen.qat.data import ref_digest

    return {"dataset": ref_digest(b.spec.dataset)}


def _lower(b: Build) -> dict:
    """Lower the exported graph; the IR also records how raw features become its input (the
    checkpoint's standardization)."""
    from hwgen.ir.graph import Preprocess
    from hwgen.ir.store import save_ir
    from hwgen.onnx.graph import load_model
    from hwgen.passes.lower import lower

    ir = lower(load_model(b.path("model.onnx")))
    pre = b.checkpoint().get("preprocess")
    if pre is not None and "mean" in pre:  # a token model's ids go in unchanged
        ir = dataclasses.replace(ir, preprocess=Preprocess(
            pre["mean"], pre["std"], pre.get("target_mean", ()), pre.get("target_std", ())))
    save_ir(ir, b.path("lowered"))
    say(f"wrote {b.path('lowered')} ({len(ir.stages())} stages)")
    return {"stages": len(ir.stages())}


def _folding(b: Build) -> dict:
    f = b.spec.folding
    keys = {"pe": f.pe, "simd": f.simd, "max_steps": f.max_steps}
    # only when chosen: builds from before the keys keep their step keys
    if f.multipliers != "auto":
        keys["multipliers"] = f.multipliers
    keys = keys if not f.lanes else {**keys, "lanes": f.lanes}
    keys = keys if not f.stateful else {**keys, "stateful": True}
    return keys if f.interleave == 1 else {**keys, "interleave": f.interleave}


def _fold(b: Build) -> dict:
    from hwgen.ir.store import load_ir, save_ir
    from hwgen.passes.fold import fold

    ir = fold(load_ir(b.path("lowered")), **_folding(b))
    b.folded = None
    save_ir(ir, b.path("ir"))
    write_atomic(b.path("ir") / "ir.txt", lambda tmp: tmp.write_text(ir.dump()))
    say(f"wrote {b.path('ir')} (folding {_folding(b)})")
    return {}


def step_inputs(x) -> np.ndarray:
    """Return a test sequence as [T, I]: token ids [T] get their one-element feature axis (as
    hwgen.backends does for `hwgen run`)."""
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x


def _scores_of(ir, result: dict) -> np.ndarray:
    """Return execute's output codes [B, T, K] (per-step head) or [B, K] (scores or last h)."""
    if ir.per_step:
        return np.swapaxes(result["scores"], 0, 1)
    return result["scores"] if ir.head is not None else result["outputs"][-1]


def reference_codes(ir, sequences: list) -> np.ndarray:
    """Return the IR's output codes for every sequence (scores, or the last step's h), run on
    the int64 reference one length-group at a time: [N, out_count], or with a per-step head
    [N, T_max, out_count] (every step's scores, zero after a sequence's end).

    A stateful IR runs the sequences as one stream of chunks in order (execute_chunks): each
    starts from the state the one before ended in, zero only at the first (the hardware's
    reset), as the backends run them."""
    from hwgen.ir.graph import execute, execute_chunks
    from hwgen.reference.luts import quantize_input

    lengths = np.array([len(s) for s in sequences])
    steps = (int(lengths.max()),) if ir.per_step else ()
    out = np.zeros((len(sequences), *steps, ir.out_count), dtype=np.int64)

    def codes(seqs):
        x = np.stack([step_inputs(s) for s in seqs], axis=1)  # [T, B, I]
        return quantize_input(x, ir.input.type, ir.input.rounding, "test sequences")

    def put(index, length, scores):
        if ir.per_step:
            out[index, :length] = scores
        else:
            out[index] = scores

    if ir.stateful:
        results = execute_chunks(ir, [codes([s]) for s in sequences])
        for i, result in enumerate(results):
            put([i], lengths[i], _scores_of(ir, result))
        return out
    for length in np.unique(lengths):
        index = np.flatnonzero(lengths == length)
        put(index, length, _scores_of(ir, execute(ir, codes([sequences[i] for i in index]))))
    return out


def same_outputs(got, want) -> bool:
    """Return whether a sequence's outputs equal the reference's, with ==: per-step outputs
    [T_i, K] against the first T_i rows of the reference's (zero-padded) [T_max, K]."""
    got, want = np.asarray(got), np.asarray(want)
    if got.ndim == 2 and want.ndim == 2:
        want = want[:len(got)]
    return got.shape == want.shape and bool(np.array_equal(got, want))


def _save_array(path: Path, array: np.ndarray) -> None:
    """Write array to path in .npy format (np.save given a name would add ".npy" to it)."""
    with open(path, "wb") as f:
        np.save(f, array)


def _reference(b: Build) -> dict:
    """Run the test set on the folded IR (int64) and compare its scores with the quantized
    PyTorch model's, with ==."""
    ir, test = b.ir(), b.test_set()
    how = "as one stream (state carried)" if ir.stateful else ""
    say(f"running {len(test.x)} test sequences on the integer reference {how}")
    scores = reference_codes(ir, test.x).astype(np.float32) * np.float32(2.0 ** ir.out_type.exp)
    model = quant_model(b.spec, b.checkpoint())
    stateful = _stateful_torch(b, model) if ir.stateful else {}
    quant = stateful.pop("scores", None)
    if quant is None:
        quant = torch_scores(model, test.x, b.spec.net.bidirectional)
    # per step: each sequence's true steps, [T_i, K], against the PyTorch model's
    quant = [q[:len(x)] if q.ndim == 2 else q for q, x in zip(quant, test.x)]
    mismatches = sum(int(not same_outputs(q, a)) for a, q in zip(scores, quant))
    write_atomic(b.path("reference.npy"), lambda tmp: _save_array(tmp, scores))
    figures = backend_figures(b, list(scores), np.argmax(scores, axis=-1))
    return {"reference_accuracy": figures.get("accuracy"), "sequences": len(test.x),
            "mismatches": mismatches, **_metrics_entry(b, figures), **stateful}


def _stateful_torch(b: Build, model) -> dict:
    """Return the quantized PyTorch model's scores of the test set run as one stream, its state
    carried from chunk to chunk and zero at the start only, as the stateful hardware runs it
    ("scores"), and their figures ("quant_metrics": what the backends' must equal)."""
    from hwgen.qat.data import load_dataset
    from hwgen.qat.task import metrics
    from hwgen.qat.train import stateful_outputs

    test = b.test_set()
    if len({len(x) for x in test.x}) != 1:
        raise HwgenError(f"{b.spec.path}: folding.stateful: the test set's chunks differ in "
                         "length; a stream is cut into chunks of one length")
    scores = stateful_outputs(model, test, lanes=1)
    return {"scores": list(scores),
            "quant_metrics": metrics(scores, test, load_dataset(b.spec.dataset))}


def backend_figures(b: Build, values: list, classes) -> dict:
    """Return the task's figures of a backend's dequantized outputs (values) or classes on the
    test set (hwgen.qat.task.backend_metrics)."""
    from hwgen.qat.task import backend_metrics

    return backend_metrics(b.spec.task, values, classes, b.test_set(),
                           b.checkpoint().get("preprocess", {}))


def _metrics_entry(b: Build, figures: dict) -> dict:
    """Return {"metrics": figures} for a task other than classify (whose results keep the
    accuracy alone, as before tasks)."""
    return {} if b.spec.task == "classify" else {"metrics": figures}


def _quality(r: dict, key: str, name: str) -> str:
    """Return the printed start of a step result's line: "NAME accuracy: 96.22 %" padded, or,
    for a task with metrics, "NAME: MSE ..., MAE ..."."""
    from hwgen.qat.task import shown

    if r.get("metrics"):
        return f"{name + ':':<20}{shown(r['metrics'])}"
    return f"{name + ' accuracy:':<20}{shown({'accuracy': r[key]})}"


def _show_reference(r: dict) -> None:
    from hwgen.qat.task import shown

    if r.get("quant_metrics"):  # stateful: the test chunks as one stream
        print(f"{'quantized, carried:':<20}{shown(r['quant_metrics'])}  (the state carried from "
              f"chunk to chunk, as the stateful hardware runs them)")
    print(f"{_quality(r, 'reference_accuracy', 'reference')}  "
          f"({r['mismatches']} of {r['sequences']} sequences differ from the quantized model)")


def _source(b: Build) -> dict:
    return {"source": f"{b.spec.name} ({b.path('model.onnx')})"}


def _emit(kind: str):
    """Return the run function of emit_rtl or emit_hls: write rtl/ or hls/ from the folded IR."""
    def run(b: Build) -> dict:
        if kind == "rtl":
            from hwgen.codegen.rtl import emit_rtl as emit
        else:
            from hwgen.codegen.hls import emit_hls as emit
        ir = b.ir()
        options = {"part": b.part} if kind == "rtl" else {"part": b.part, "clock_ns": b.clock_ns}
        folder = emit(ir, b.folder, _source(b)["source"], **options)
        say(f"wrote {folder} ({len(ir.stages())} stages)")
        if kind == "rtl":
            _testbench(b, folder)
        return {}
    return run


def _testbench(b: Build, rtl: Path) -> None:
    """Write rtl/tb/: the self-checking testbench, on the first tb_sequences test sequences."""
    from hwgen.codegen.testbench import emit_testbench
    from hwgen.sim.design import load_design, quantize_inputs

    if b.ir().interleave > 1:  # its vectors stream sequences one after another
        say(f"no testbench in {rtl / 'tb'}: it does not stream interleaved designs' sequences")
        return
    design, test = load_design(rtl), b.test_set().x
    chosen = test if b.tb_sequences is None else test[:b.tb_sequences]
    tb = emit_testbench(b.ir(), rtl, [quantize_inputs(step_inputs(x), design) for x in chosen],
                        _source(b)["source"])
    say(f"wrote {tb} ({len(chosen)} test sequences; run: sh {tb / 'run.sh'})")


def _emit_rtl_params(b: Build) -> dict:
    return {**_source(b), **_dataset(b), "tb_sequences": b.tb_sequences, "part": b.part}


def differing(outputs, ref_scores, exp: int) -> list[bool]:
    """Return, per sequence, whether a backend's output codes (scaled by 2**exp) differ from the
    reference's scores (per step: every step's scores), compared with == (same_outputs)."""
    scale = np.float32(2.0 ** exp)
    return [not same_outputs(np.asarray(got).astype(np.float32) * scale, want)
            for got, want in zip(outputs, ref_scores)]


def _built(what: str, sources: Path, seconds: float) -> None:
    """Say whether a simulator of sources was built (and how long it took) or reused."""
    if seconds:
        say(f"{what} of {sources} took {seconds:.0f} s")
    else:
        say(f"reusing {what} of {sources} (sources unchanged)")


def _run_backend(b: Build, folder: Path, doing: str, run, what: str) -> tuple:
    """Return (the backend's raw result, its accuracy / mismatches / sequences, the stream order)
    after run(codes) streamed the test set, quantized as folder/design.json says, through the
    design in folder.

    An interleaved design (design.json cycles.interleave = N > 1) runs every test sequence in a
    group of N of equal length (interleave_order: sorted by length, short groups filled with
    repeats); each repeat's outputs are compared too, each test sequence counted once, and the
    figures are those of each sequence's first run. The stream order lists the test sequence
    of every streamed one (the test order itself when N = 1)."""
    from hwgen.sim.design import interleave_order, load_design, quantize_inputs, stream_positions

    test = b.test_set()
    design = load_design(folder)
    codes = [quantize_inputs(step_inputs(x), design) for x in test.x]
    order = interleave_order([len(c) for c in codes], design.raw["cycles"].get("interleave", 1))
    extra = f" (as {len(order)} in groups of equal length)" if len(order) != len(codes) else ""
    say(f"{doing} {len(codes)} test sequences{extra} {what}")
    result = run([codes[i] for i in order])
    wrong = differing(result.outputs, np.load(b.path("reference.npy"))[order], design.y_type.exp)
    positions = stream_positions(order, len(codes))
    first = [ps[0] for ps in positions]
    mismatches = sum(any(wrong[p] for p in ps) for ps in positions)
    scale = np.float32(2.0 ** design.y_type.exp)
    figures = backend_figures(b, [np.asarray(result.outputs[p]).astype(np.float32) * scale
                                  for p in first],
                              [result.classes[p] for p in first] if result.classes else [])
    return result, {"accuracy": figures.get("accuracy"), "mismatches": mismatches,
                    "sequences": len(codes), **_metrics_entry(b, figures)}, order


def _sim_rtl(b: Build) -> dict:
    """Stream the test set through the RTL on Verilator; compare with the reference."""
    from hwgen.passes.cycles import per_step_cycles, sequence_cycles
    from hwgen.sim.rtl_run import run_rtl, run_rtl_interleaved

    ir, rtl = b.ir(), b.path("rtl")
    if ir.interleave > 1:
        result, summary, order = _run_backend(
            b, rtl, "simulating", lambda codes: run_rtl_interleaved(
                rtl, codes, compile_opt=b.compile_opt), "in Verilator, interleaved")
        _built("Verilator build", rtl, result.build_seconds)
        return {**summary, **_interleaved_cycles(ir, result, order,
                                                 [len(x) for x in b.test_set().x])}
    # A stack (or a per-step head after the engine) starts the next sequence while a later stage
    # still works on the previous one; held apart, each sequence's latency is the modelled one.
    isolate = len(ir.layers) > 1 or ir.per_step
    result, summary, _ = _run_backend(
        b, rtl, "simulating", lambda codes: run_rtl(rtl, codes, compile_opt=b.compile_opt,
                                                    isolate=isolate), "in Verilator")
    _built("Verilator build", rtl, result.build_seconds)
    return {**summary,
            "cycles_per_step": {"simulated": result.cycle_summary()["per_step"],
                                "model": per_step_cycles(ir)},
            "latency": {"simulated": [int(v) for v in result.latencies],
                        "model": [sequence_cycles(ir, len(x)) for x in b.test_set().x]}}


def _interleaved_cycles(ir, result, order: list, lengths: list) -> dict:
    """Return the cycle figures of an unstressed interleaved run (result: an InterleavedResult of
    the test sequences streamed in order, lengths: every test sequence's steps) beside the cycle
    model's (ilv_transfer_times of the same stream, started at the run's first input transfer):
    the cycles between two steps of one sequence, each test sequence's latency (its first input
    to its output; of its first run) and how many transfers happen on another cycle than
    modelled."""
    from hwgen.passes.cycles import ilv_transfer_times, per_step_cycles
    from hwgen.sim.design import ilv_transfer_indices, stream_positions
    from hwgen.sim.rtl_run import cycle_stats

    n, steps = ir.interleave, [lengths[i] for i in order]
    model_in, model_out = ilv_transfer_times(ir, steps[::n])
    sim_in = [c - result.in_cycles[0] for c in result.in_cycles]
    sim_out = [c - result.in_cycles[0] for c in result.out_cycles]
    inputs, last = ilv_transfer_indices(n, steps, ir.head is not None)
    gaps = [sim_in[k] - sim_in[j] for idx in inputs for j, k in zip(idx, idx[1:])]
    first = [ps[0] for ps in stream_positions(order, len(lengths))]

    def latency(ins, outs):
        return [int(outs[last[p]] - ins[inputs[p][0]]) for p in first]

    moved = sum(a != b for a, b in zip(sim_in + sim_out, model_in + model_out))
    return {"interleave": n, "streamed": len(order),
            "cycles_per_step": {"simulated": cycle_stats(gaps), "model": per_step_cycles(ir)},
            "latency": {"simulated": latency(sim_in, sim_out),
                        "model": latency(model_in, model_out)},
            "transfers": {"simulated": len(sim_in) + len(sim_out),
                          "model": len(model_in) + len(model_out), "differing": moved}}


def _show_rtl(r: dict) -> None:
    print(f"{_quality(r, 'accuracy', 'rtl')}  ({r['mismatches']} of "
          f"{r['sequences']} sequences differ from the reference)")
    cyc = cycles_per_step(r)
    if r.get("interleave", 1) == 1:
        print(f"cycles per step:    simulated {cyc['simulated']}, model {cyc['model']}")
        return
    moved = r["transfers"]
    print(f"cycles per step:    simulated {cyc['simulated']} in steady state (largest "
          f"{cyc['simulated_max']}, a group's first step), model {cyc['model']}; interleave "
          f"{r['interleave']}: {moved['differing']} of {moved['simulated']} transfers on another "
          "cycle than modelled")


def _sim_hls(b: Build) -> dict:
    """Compile the HLS C++ with g++, run the test set in C simulation, compare."""
    from hwgen.sim.hls_run import run_hls, run_hls_interleaved

    hls = b.path("hls")
    run = run_hls_interleaved if b.ir().interleave > 1 else run_hls
    result, summary, _ = _run_backend(b, hls, "running", lambda codes: run(hls, codes),
                                      "in HLS C simulation (g++)")
    _built("HLS C simulation binary", hls, result.build_seconds)
    return summary


def _show_hls(r: dict) -> None:
    print(f"{_quality(r, 'accuracy', 'hls')}  ({r['mismatches']} of "
          f"{r['sequences']} sequences differ from the reference)")


def _cost(b: Build) -> dict:
    """Return the design's Yosys synth_xilinx counts and, when asked, its ECP5 cost: synth_ecp5
    counts and, when they fit the device and place and route is asked, nextpnr's Fmax."""
    from hwgen.sim.synth import ecp5_cost, resources

    if not b.synth:
        say("no synthesis: resources, Fmax and time not measured (--no-synth)")
        return {"resources": None, "fmax_mhz": None, "ecp5": None}
    res = resources(b.path("rtl"))
    ecp5 = ecp5_cost(b.path("rtl"), b.device, pnr=b.fmax,
                     freq_mhz=b.spec.folding.clock_mhz) if b.ecp5 or b.fmax else None
    pnr = ecp5["pnr"] if ecp5 else None
    return {"resources": {k: res[k] for k in RESOURCE_KEYS},
            "fmax_mhz": pnr["fmax_mhz"] if pnr else None, "ecp5": ecp5}


def _cost_params(b: Build) -> dict:
    keys = {"fmax": b.fmax, "ecp5": b.ecp5 or b.fmax, "device": b.device}
    # only when chosen: results from before --no-synth and the clock target keep their step keys
    keys = keys if b.synth else {**keys, "synth": False}
    clock = b.spec.folding.clock_mhz
    return keys if clock == DEFAULT_CLOCK_MHZ else {**keys, "clock_mhz": clock}


def _show_cost(r: dict) -> None:
    for line in cost_lines(r):
        print(line)


def _report(b: Build) -> dict:
    """Write report.json and report.md; return the report's time figures (None without Fmax)."""
    report = build_report(b.spec.name, b.spec.to_dict(), b.checkpoint(), b.ir(),
                          {k: result_of(b, k) for k in ("reference", "sim_rtl", "sim_hls",
                                                        "cost")})
    report.update(handoff_sections({k: result_of(b, k) for k in ("sim_rtl", "cost")},
                                   step_seconds(b), parse_part(b.part), b.device))
    path = write_report(b.folder, report)
    say(f"wrote {path} and report.md")
    return {"time": report["time"], "no_time": report["no_time"]}


def step_seconds(b: Build) -> dict:
    """Return the wall time of each step before report, from its record (train: the
    checkpoint's training time; None where nothing recorded it)."""
    out = {"train": b.checkpoint().get("train_seconds"), "export": None}
    for name in STEPS[STEPS.index("lower"):STEPS.index("report")]:
        out[name] = (_read_record(_record_path(b, name)) or {}).get("seconds")
    return out


def _show_report(r: dict) -> None:
    if "time" in r:
        print(time_line(r["time"], r["no_time"]))


FLOW = {s.name: s for s in (
    Step("lower", ("model.onnx", "checkpoint.pt"), "lowered", _lower),
    Step("fold", ("lowered",), "ir", _fold, params=_folding),
    Step("reference", ("ir", "checkpoint.pt"), "reference.npy", _reference, _show_reference,
         _dataset),
    Step("emit_rtl", ("ir",), "rtl", _emit("rtl"), params=_emit_rtl_params),
    Step("emit_hls", ("ir",), "hls", _emit("hls"),
         params=lambda b: {**_source(b), "part": b.part, "clock_ns": b.clock_ns}),
    Step("sim_rtl", ("ir", "rtl", "reference.npy"), None, _sim_rtl, _show_rtl,
         lambda b: {**_dataset(b), "compile_opt": b.compile_opt}),
    Step("sim_hls", ("hls", "reference.npy"), None, _sim_hls, _show_hls, _dataset),
    Step("cost", ("rtl",), None, _cost, _show_cost, _cost_params),
    Step("report", ("ir", "checkpoint.pt"), "report.json", _report, _show_report, cached=False),
)}
# The step that writes each artifact (train and export keep their own caches).
MADE_BY = {"checkpoint.pt": "train", "model.onnx": "export",
           **{s.output: s.name for s in FLOW.values() if s.output}}


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """Return a digest of hwgen's code and templates: a step's output depends on both."""
    h = hashlib.sha256()
    files = sorted(PACKAGE.rglob("*.py")) + sorted(p for p in TEMPLATE_DIR.rglob("*")
                                                   if p.is_file())
    for path in files:
        h.update(str(path.relative_to(PACKAGE.parent)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def artifact_digest(path: Path) -> str:
    """Return a digest of a file's bytes, or of every file under a folder (names and bytes);
    "missing" when there is neither."""
    if not path.exists():
        return "missing"
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def _record_path(b: Build, name: str) -> Path:
    return b.path("steps") / f"{name}.json"


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def result_of(b: Build, name: str) -> dict:
    """Return a step's result: from this run, else from its record in the build folder."""
    if name not in b.results:
        record = _read_record(_record_path(b, name))
        if record is None:
            raise HwgenError(f"{_record_path(b, name)}: missing; run `hwgen hw "
                             f"{model_arg(b.spec)} --from {name}` first")
        b.results[name] = record["result"]
    return b.results[name]


def _key(b: Build, step: Step) -> str:
    """Return the digest of everything a step's output is made from."""
    text = json.dumps({"step": step.name, "code": code_digest(), "params": step.params(b),
                       "inputs": {a: artifact_digest(b.path(a)) for a in step.inputs}},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _reusable(b: Build, step: Step, key: str, record: dict | None) -> bool:
    """Return True when a step's record holds this key and its output is what it wrote."""
    if not step.cached or not record or record.get("key") != key:
        return False
    if step.output is None:
        return True
    output = b.path(step.output)
    return output.exists() and record.get("output") == artifact_digest(output)


def run_step(b: Build, step: Step) -> dict:
    """Run one step unless its record shows the same inputs and an intact output; return its
    result and print its figures."""
    key, path = _key(b, step), _record_path(b, step.name)
    record = _read_record(path)
    if _reusable(b, step, key, record):
        say(f"reusing {step.name} result (inputs unchanged): "
            f"{b.path(step.output) if step.output else path}")
        result = record["result"]
    else:
        start = time.time()
        result = step.run(b)
        record = {"key": key, "result": result, "seconds": round(time.time() - start, 1)}
        if step.output is not None:
            record["output"] = artifact_digest(b.path(step.output))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda tmp: tmp.write_text(json.dumps(record, sort_keys=True) + "\n"))
    step.show(result)
    b.results[step.name] = result
    return result


def step_range(first: str = "train", last: str = "report") -> tuple:
    """Return the names of the steps from first to last, or raise HwgenError naming them."""
    for name in (first, last):
        if name not in STEPS:
            raise HwgenError(f"unknown step {name!r} (steps: {', '.join(STEPS)})")
    names = STEPS[STEPS.index(first):STEPS.index(last) + 1]
    if not names:
        raise HwgenError(f"--from {first} comes after --to {last}")
    return names


def check_inputs(b: Build, names: tuple) -> None:
    """Raise HwgenError naming the first artifact the steps need that a skipped step makes and
    that is missing (checked before any step runs)."""
    for name in names:
        for artifact in FLOW[name].inputs if name in FLOW else ():
            maker = MADE_BY[artifact]
            if maker not in names and not b.path(artifact).exists():
                raise HwgenError(f"{b.path(artifact)}: missing (step {maker} makes it); start "
                                 f"at --from {maker} or earlier")
        if name == "report":
            for needed in ("reference", "sim_rtl", "sim_hls", "cost"):
                if needed not in names and not _record_path(b, needed).is_file():
                    raise HwgenError(f"{_record_path(b, needed)}: missing (step {needed} "
                                     f"records it); start at --from {needed} or earlier")


def run_flow(b: Build, names: tuple, skip: tuple = ()) -> dict:
    """Run the named steps in order (train and export with their own caches); return the
    results by step name."""
    check_inputs(b, tuple(n for n in names if n not in skip))
    for name in names:
        if name in skip:
            continue
        if name == "train":
            b.ckpt = step_train(b.spec, force=b.force)
        elif name == "export":
            step_export(b.spec, b.ckpt)
        else:
            run_step(b, FLOW[name])
    return b.results


def verify(b: Build) -> None:
    """Raise VerificationError if a step that ran found a backend differing from the reference."""
    from hwgen.qat.task import checkpoint_metrics

    if not any(step in b.results for step in ("reference", "sim_rtl", "sim_hls")):
        return
    where = b.path("report.json") if "report" in b.results else b.path("steps")
    ref = b.results.get("reference")
    # stateful: the checkpoint's figures run each chunk from zero state; the hardware's carry it
    quant = (result_of(b, "reference")["quant_metrics"] if b.spec.folding.stateful
             else checkpoint_metrics(b.checkpoint(), "quant"))

    def figures(r, key):
        return r.get("metrics") or {"accuracy": r[key]}

    if ref and (ref["mismatches"] or figures(ref, "reference_accuracy") != quant):
        raise VerificationError(f"the integer reference differs from the quantized model on "
                                f"{ref['mismatches']} sequences (see {where})")
    for name, step in (("RTL", "sim_rtl"), ("HLS C simulation", "sim_hls")):
        res = b.results.get(step)
        if res and (res["mismatches"] or figures(res, "accuracy") != quant):
            raise VerificationError(f"the {name} differs from the reference on "
                                    f"{res['mismatches']} sequences (see {where})")


def hw(spec: Spec, force: bool = False, first: str = "train", last: str = "report",
       ecp5: bool = True, pnr: bool = True, device: str = "85k",
       tb_sequences: int | None = TB_SEQUENCES, part: str = DEFAULT_PART,
       clock_ns: float = DEFAULT_CLOCK_NS, synth: bool = True) -> dict:
    """Run the steps first..last for a spec; return the report (empty if report did not run);
    raise VerificationError if any backend differs.

    The cost step synthesizes for Xilinx 7-series and, with ecp5, for the ECP5 device, then (with
    pnr, when the design fits) places and routes it with nextpnr for Fmax and the report's time
    figures; synth=False skips Yosys altogether (the report has no counts and no time figures:
    verification only); force retrains even if the checkpoint matches the spec. tb_sequences:
    how many test sequences the testbench in rtl/tb/ gets (None: all). part: the Xilinx part (hwgen.parts) of
    hls/build.tcl, rtl/package_ip.tcl and the report's utilisation; clock_ns: build.tcl's clock.
    An interleaved spec (folding.interleave = N) runs the test set in groups of N sequences of
    equal length (hwgen.sim.design.interleave_order) and gets no testbench in rtl/tb/.
    """
    parse_part(part)  # a bad part stops here, before any step
    b = Build(spec, fmax=synth and ecp5 and pnr, ecp5=synth and ecp5, device=device,
              force=force, tb_sequences=tb_sequences, part=part, clock_ns=clock_ns, synth=synth)
    run_flow(b, step_range(first, last))
    verify(b)
    return json.loads(b.path("report.json").read_text()) if "report" in b.results else {}


def step_build(model, out: Path, pe: int = 0, simd: int = 0, source: str = "",
               max_steps: int = 32, interleave: int = 1, stateful: bool = False) -> Path:
    """Lower a QONNX file (a path or a loaded graph), or take a lowered model or a saved IR
    folder; fold it, save it to out/ir, and write its RTL into out/rtl and its HLS into out/hls;
    return out/rtl.

    max_steps is the sequence-buffer depth of designs with a reverse direction; interleave: the
    sequences sharing the engine (hwgen.passes.fold); stateful: h and c carry across tlast.
    """
    from hwgen.codegen.hls import emit_hls
    from hwgen.codegen.rtl import emit_rtl
    from hwgen.ir.graph import LoweredModel
    from hwgen.ir.store import load_ir, save_ir
    from hwgen.onnx.graph import load_model
    from hwgen.passes.fold import fold
    from hwgen.passes.lower import lower

    if isinstance(model, LoweredModel):
        ir = model
    elif isinstance(model, (str, Path)) and Path(model).is_dir():
        ir = load_ir(model)
    else:
        ir = lower(load_model(model) if isinstance(model, (str, Path)) else model)
    ir = fold(ir, pe, simd, max_steps, interleave=interleave, stateful=stateful or None)
    out = Path(out)
    save_ir(ir, out / "ir")
    name = source or (Path(model).name if isinstance(model, (str, Path)) else "model")
    rtl = emit_rtl(ir, out, name)
    hls = emit_hls(ir, out, name)
    say(f"wrote {out / 'ir'}, {rtl} and {hls} ({len(ir.stages())} stages)")
    return rtl
