"""The named steps of `make hw`: train -> export -> reference; each step reads the previous artifact.

Artifacts live in the spec's build folder (out_dir: build/NAME for a spec in models/):
checkpoint.pt (trained weights, keyed by the spec's training hash), model.onnx (QONNX, keyed by the
weights and the exporter in model.onnx.key), rtl/, hls/, the simulators' builds, synth/ (cached
Yosys results), report.json and report.md. Each file is written whole (hwgen.locks.write_atomic);
the CLI holds the folder's lock for the whole command (hwgen.locks.locked_folder).
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from hwgen.locks import write_atomic
from hwgen.spec import MODELS_DIR, Spec
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


def _say(message: str) -> None:
    """Print a progress line."""
    print(f"[hwgen] {message}", flush=True)


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
    from hwgen.qat.data import check_sizes, load_dataset
    from hwgen.qat.model import build_quant, load_float_into_quant
    from hwgen.qat.ptq import post_training, train_float
    from hwgen.qat.train import accuracy, fit, predict, seed_everything

    path = out_dir(spec) / "checkpoint.pt"
    if path.is_file() and not force:
        ckpt = load_checkpoint(path)
        if ckpt.get("spec_hash") == spec.training_hash():
            _say(f"reusing {path} (spec unchanged)")
            _print_accuracy(ckpt)
            return ckpt
        _say(f"{path} was trained from another spec: retraining")
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
        float_acc = accuracy(predict(float_model, data.test, by_length=by_length), data.test.y)
        quant = build_quant(spec)
        load_float_into_quant(quant, float_model)
        fit(quant, data.train, t.qat_epochs, t.qat_lr, t.batch_size, rng, "QAT fine-tuning",
            by_length)
        quant_acc = accuracy(predict(quant, data.test, by_length=by_length), data.test.y)
        ckpt = {"quant": quant.state_dict(), "float": float_model.state_dict(),
                "float_accuracy": float_acc, "quant_accuracy": quant_acc}
    ckpt.update({"spec_hash": spec.training_hash(), "model": spec.name,
                 "train_seconds": time.time() - start})
    _atomic_save(ckpt, path)
    _say(f"wrote {path} ({ckpt['train_seconds']:.0f} s)")
    _print_accuracy(ckpt)
    return ckpt


def step_float(spec: Spec, path: Path, force: bool = False) -> Path:
    """Train the spec's float model (nn.LSTM or nn.RNN + nn.Linear) and save it to path.

    The file holds {"float": state_dict, ...}: plain tensors and numbers, loadable with
    weights_only=True, and accepted wherever a float checkpoint is (ptq.float_checkpoint,
    `hwgen import`). A file made from the same dataset, net and training settings is reused.
    """
    from hwgen.qat.data import check_sizes, load_dataset
    from hwgen.qat.ptq import train_float
    from hwgen.qat.train import accuracy, predict, seed_everything

    t = spec.train
    keyed = {"dataset": spec.dataset, "net": spec.to_dict()["net"],
             "train": [t.seed, t.batch_size, t.float_epochs, t.lr]}
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(path)
    if path.is_file() and not force:
        old = load_checkpoint(path)
        if old.get("float_hash") == digest:
            _say(f"reusing {path} (float accuracy {_pct(old.get('float_accuracy'))})")
            return path
    data = load_dataset(spec.dataset)
    check_sizes(spec, data)
    by_length = spec.net.bidirectional
    model = train_float(spec, data, seed_everything(t.seed), by_length)
    acc = accuracy(predict(model, data.test, by_length=by_length), data.test.y)
    _atomic_save({"float": model.state_dict(), "float_hash": digest, "float_accuracy": acc}, path)
    _say(f"wrote {path} (float accuracy {_pct(acc)})")
    return path


def _pct(value) -> str:
    """Return a 0..1 accuracy as "96.22 %", or "n/a"."""
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _print_accuracy(ckpt: dict) -> None:
    """Print the float and quantized test accuracy stored in a checkpoint (and the PTQ figures)."""
    print(f"float accuracy:     {_pct(ckpt['float_accuracy'])}")
    ptq = ckpt.get("ptq")
    if ptq:
        print(f"torch dynamic int8: {_pct(ptq['torch_int8_accuracy'])}  (PyTorch "
              f"quantize_dynamic; with this spec's weight widths: "
              f"{_pct(ptq['torch_weights_accuracy'])})")
        print(f"calibrated:         {_pct(ptq['calibrated_accuracy'])}  ({ptq['calibration']} "
              f"ranges, float model {ptq['float_source']})")
        if ptq["finetuned_accuracy"] is not None:
            print(f"fine-tuned:         {_pct(ptq['finetuned_accuracy'])}  "
                  f"({ptq['finetune_epochs']} QAT epochs)")
    print(f"quantized accuracy: {_pct(ckpt['quant_accuracy'])}")


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
                  "onnx/lstm_cell.py", "onnx/rnn_cell.py")
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
        _say(f"reusing {path} (exported from the same checkpoint)")
        return path
    model = quant_model(spec, ckpt)
    example = torch.zeros(1, 16, spec.net.input_size)
    export_model(model, example, path)
    record = {"key": key, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    write_atomic(path.with_name(path.name + ".key"),
                 lambda tmp: tmp.write_text(json.dumps(record) + "\n"))
    _say(f"wrote {path}")
    return path


def reference_scores(model, sequences: list) -> list:
    """Return the graph's output for every sequence, run one length-group at a time."""
    from hwgen.onnx.execute import run_reference

    scores = [None] * len(sequences)
    lengths = np.array([len(s) for s in sequences])
    for length in np.unique(lengths):
        index = np.flatnonzero(lengths == length)
        out = run_reference(model, np.stack([sequences[i] for i in index]))
        for row, i in enumerate(index):
            scores[i] = out[row]
    return scores


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


def step_reference(spec: Spec, ckpt: dict, onnx_path: Path) -> dict:
    """Run the test set through the exported graph on the integer reference; compare with torch."""
    from hwgen.onnx.graph import load_model
    from hwgen.qat.data import load_dataset

    data = load_dataset(spec.dataset)
    model = load_model(onnx_path)
    _say(f"running {len(data.test.x)} test sequences on the integer reference")
    ref = reference_scores(model, data.test.x)
    quant = torch_scores(quant_model(spec, ckpt), data.test.x, spec.net.bidirectional)
    mismatches = sum(int(not np.array_equal(a, b)) for a, b in zip(ref, quant))
    ref_pred = np.array([int(np.argmax(s)) for s in ref])
    ref_acc = float(np.mean(ref_pred == data.test.y))
    print(f"reference accuracy: {100 * ref_acc:.2f} %  "
          f"({mismatches} of {len(ref)} sequences differ from the quantized model)")
    return {"reference_accuracy": ref_acc, "sequences": len(ref), "mismatches": mismatches,
            "scores": ref}


def write_report(spec: Spec, ckpt: dict, ref: dict, rtl: dict, hls: dict, cost: dict) -> Path:
    """Write build/MODEL/report.json and report.md; return the JSON path.

    cost is step_cost's result: Yosys resource counts and the ECP5 Fmax (None if not asked).
    """
    sim, model = rtl["cycles_per_step"]["simulated"], rtl["cycles_per_step"]["model"]
    lat_sim, lat_model = rtl["latency"]["simulated"], rtl["latency"]["model"]
    report = {
        "model": spec.name,
        "accuracy": {"float": ckpt["float_accuracy"], "quantized": ckpt["quant_accuracy"],
                     "reference": ref["reference_accuracy"], "rtl": rtl["accuracy"],
                     "hls": hls["accuracy"]},
        "sequences": ref["sequences"],
        "mismatches": {"reference": ref["mismatches"], "rtl": rtl["mismatches"],
                       "hls": hls["mismatches"]},
        "cycles_per_step": {"simulated": sim["max"], "simulated_min": sim["min"], "model": model},
        "latency_cycles_per_sequence": {
            "simulated_mean": float(np.mean(lat_sim)), "model_mean": float(np.mean(lat_model)),
            "max_difference": int(np.max(np.abs(np.array(lat_sim) - np.array(lat_model))))},
        "stages": rtl["stages"],
        "folding": rtl["folding"],
        "resources": {k: cost["resources"][k] for k in RESOURCE_KEYS},
        "fmax_mhz": cost["fmax_mhz"],
        "spec": spec.to_dict(),
    }
    if ckpt.get("ptq"):
        p = ckpt["ptq"]
        report["post_training"] = {
            "float_source": p["float_source"], "calibration": p["calibration"],
            "torch_dynamic_int8": p["torch_int8_accuracy"],
            "torch_dynamic_spec_weights": p["torch_weights_accuracy"],
            "calibrated": p["calibrated_accuracy"], "finetuned": p["finetuned_accuracy"],
            "finetune_epochs": p["finetune_epochs"]}
    path = out_dir(spec) / "report.json"
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(report, indent=2, sort_keys=True)
                                                  + "\n"))
    write_atomic(out_dir(spec) / "report.md", lambda tmp: tmp.write_text(_report_md(report)))
    return path


def _report_md(r: dict) -> str:
    """Return the report for a person."""
    acc, cyc, lat = r["accuracy"], r["cycles_per_step"], r["latency_cycles_per_sequence"]
    lines = [f"# hwgen report: {r['model']}", "",
             "| | accuracy |", "|---|---|",
             *(f"| {k} | {100 * v:.2f} % |" for k, v in acc.items()), "",
             *_post_training_md(r.get("post_training")),
             f"Test sequences: {r['sequences']}. Mismatches against the quantized PyTorch model: "
             f"reference {r['mismatches']['reference']}; against the reference: RTL "
             f"{r['mismatches']['rtl']}, HLS C simulation {r['mismatches']['hls']} (scores "
             "compared with ==).", "",
             f"Folding: {r['folding']}. Cycles per timestep: simulated {cyc['simulated']} "
             f"(min {cyc['simulated_min']}), model {cyc['model']}. Latency per sequence: "
             f"simulated mean {lat['simulated_mean']:.1f}, model mean {lat['model_mean']:.1f} "
             f"(largest difference {lat['max_difference']}).", "",
             "Resources (Yosys synth_xilinx, 7-series): "
             + ", ".join(f"{k} {v}" for k, v in r["resources"].items())
             + (f". Fmax (nextpnr, ECP5 LFE5U-85F): {r['fmax_mhz']:.1f} MHz."
                if r["fmax_mhz"] is not None else ". Fmax: not asked (`hwgen hw --fmax`)."), "",
             "| stage | kind | bits |", "|---|---|---|",
             *(f"| {s['name']} | {s['kind']} | "
               + ", ".join(f"{k}={v}" for k, v in s["bits"].items()) + " |" for s in r["stages"]),
             ""]
    return "\n".join(lines)


def _post_training_md(p: dict | None) -> list[str]:
    """Return the report's lines about post-training quantization (none for a QAT model)."""
    if not p:
        return []
    tuned = (f"; after {p['finetune_epochs']} fine-tuning epochs {_pct(p['finetuned'])}"
             if p["finetuned"] is not None else "; not fine-tuned")
    return [f"Post-training quantization of {p['float_source']} ({p['calibration']} ranges): "
            f"calibrated {_pct(p['calibrated'])}{tuned}. PyTorch dynamic quantization of the "
            f"same float model: int8 {_pct(p['torch_dynamic_int8'])}, with this spec's weight "
            f"widths {_pct(p['torch_dynamic_spec_weights'])}.", ""]


RESOURCE_KEYS = ("LUT", "FF", "DSP", "BRAM")


def step_cost(rtl_dir: Path, fmax: bool = False) -> dict:
    """Return {"resources": Yosys synth_xilinx counts, "fmax_mhz": ECP5 Fmax or None} of a design."""
    from hwgen.sim.synth import fmax_ecp5, resources

    res = resources(rtl_dir)
    print("resources:          " + ", ".join(f"{k} {res[k]}" for k in RESOURCE_KEYS)
          + " (Yosys synth_xilinx)")
    mhz = None
    if fmax:
        mhz = fmax_ecp5(rtl_dir)["fmax_mhz"]
        print(f"fmax:               {mhz:.1f} MHz (nextpnr-ecp5, LFE5U-85F)")
    return {"resources": res, "fmax_mhz": mhz}


def hw(spec: Spec, fmax: bool = False, force: bool = False) -> dict:
    """Run every step for a spec and return the report; raise if any backend differs.

    fmax adds an ECP5 place and route (nextpnr) for the clock frequency; force retrains even if
    the checkpoint matches the spec.
    """
    ckpt = step_train(spec, force=force)
    onnx_path = step_export(spec, ckpt)
    ref = step_reference(spec, ckpt, onnx_path)
    rtl = step_rtl(spec, onnx_path, ref["scores"])
    print(f"rtl accuracy:       {100 * rtl['accuracy']:.2f} %  ({rtl['mismatches']} of "
          f"{ref['sequences']} sequences differ from the reference)")
    cyc = rtl["cycles_per_step"]
    print(f"cycles per step:    simulated {cyc['simulated']['max']}, model {cyc['model']}")
    hls = step_hls(spec, ref["scores"])
    print(f"hls accuracy:       {100 * hls['accuracy']:.2f} %  ({hls['mismatches']} of "
          f"{ref['sequences']} sequences differ from the reference)")
    cost = step_cost(rtl["rtl_dir"], fmax)
    path = write_report(spec, ckpt, ref, rtl, hls, cost)
    _say(f"wrote {path} and report.md")
    if ref["mismatches"] or ref["reference_accuracy"] != ckpt["quant_accuracy"]:
        raise VerificationError(f"the integer reference differs from the quantized model on "
                                f"{ref['mismatches']} sequences (see {path})")
    for name, res in (("RTL", rtl), ("HLS C simulation", hls)):
        if res["mismatches"] or res["accuracy"] != ckpt["quant_accuracy"]:
            raise VerificationError(f"the {name} differs from the reference on "
                                    f"{res['mismatches']} sequences (see {path})")
    return json.loads(path.read_text())


def lowered(onnx_path, pe: int = 0, simd: int = 0, max_steps: int = 0):
    """Return (tidied graph, LoweredModel, batch_first) of a QONNX file.

    max_steps is the sequence-buffer depth of designs with a reverse direction.
    """
    from hwgen.onnx.graph import RECURRENT_OPS, attr, load_model
    from hwgen.passes.lower import lower

    graph = load_model(onnx_path)
    node = next(n for n in graph.graph.node if n.op_type in RECURRENT_OPS)
    return graph, lower(graph, pe, simd, max_steps), bool(attr(node, "batch_first", 0))


def step_build(onnx_path, out: Path, pe: int = 0, simd: int = 0, source: str = "",
               max_steps: int = 32) -> Path:
    """Lower a QONNX file and write its RTL into out/rtl and its HLS into out/hls; return rtl.

    max_steps is the sequence-buffer depth of designs with a reverse direction.
    """
    return _build(onnx_path, out, pe, simd, source, max_steps)[0]


def _build(onnx_path, out: Path, pe: int, simd: int, source: str, max_steps: int) -> tuple:
    """Return (rtl folder, LoweredModel) after writing out/rtl and out/hls as step_build does."""
    from hwgen.codegen.hls import emit_hls
    from hwgen.codegen.rtl import emit_rtl

    _, ir, batch_first = lowered(onnx_path, pe, simd, max_steps)
    rtl = emit_rtl(ir, out, source or Path(onnx_path).name)
    hls = emit_hls(ir, out, source or Path(onnx_path).name)
    _say(f"wrote {rtl} and {hls} ({len(ir.stages())} stages)")
    return rtl, ir


def stage_summary(ir) -> list:
    """Return a JSON-ready description of every stage: name, kind and bit widths."""
    rows = []
    for s in ir.stages():
        bits = {}
        for key in ("weight_type", "in_type", "acc_type", "sum_type", "out_type", "f_type",
                    "i_type", "g_type", "o_type", "tanh_type", "h_type", "c_type", "score_type"):
            t = getattr(s, key, None)
            if t is not None:
                bits[key.replace("_type", "")] = t.describe()
        for key in ("out", "cell"):
            q = getattr(s, key, None)
            if q is not None and hasattr(q, "type"):
                bits[key] = q.type.describe()
        row = {"name": s.name, "kind": s.kind, "bits": bits}
        if s.kind == "matvec":
            row.update(rows=s.rows, cols=s.cols, pe=s.pe, simd=s.simd)
        rows.append(row)
    return rows


def _compare(outputs, classes, ref_scores, labels, exp: int) -> tuple:
    """Return (mismatching sequences, accuracy) of backend scores against the reference."""
    scale = np.float32(2.0 ** exp)
    mismatches = sum(int(not np.array_equal(np.asarray(got).astype(np.float32) * scale, want))
                     for got, want in zip(outputs, ref_scores))
    return mismatches, float(np.mean(np.asarray(classes) == labels))


def _built(what: str, sources: Path, seconds: float) -> None:
    """Say whether a simulator of sources was built (and how long it took) or reused."""
    if seconds:
        _say(f"{what} of {sources} took {seconds:.0f} s")
    else:
        _say(f"reusing {what} of {sources} (sources unchanged)")


def step_hls(spec: Spec, ref_scores: list) -> dict:
    """Compile the emitted HLS C++ with g++, run the test set in C simulation, compare."""
    from hwgen.qat.data import load_dataset
    from hwgen.sim.hls_run import run_hls
    from hwgen.sim.rtl_run import load_design, quantize_inputs

    data = load_dataset(spec.dataset)
    hls = out_dir(spec) / "hls"
    design = load_design(hls)
    codes = [quantize_inputs(x, design) for x in data.test.x]
    _say(f"running {len(codes)} test sequences in HLS C simulation (g++)")
    result = run_hls(hls, codes)
    _built("HLS C simulation binary", hls, result.build_seconds)
    mismatches, acc = _compare(result.outputs, result.classes, ref_scores, data.test.y,
                               design.y_type.exp)
    return {"accuracy": acc, "mismatches": mismatches}


def step_rtl(spec: Spec, onnx_path: Path, ref_scores: list, compile_opt: str = "-O1") -> dict:
    """Emit the RTL, stream the whole test set through Verilator, and compare with the reference.

    compile_opt is the C++ optimisation of the Verilator build (-O0 builds faster, runs slower).
    """
    from hwgen.passes.cycles import per_step_cycles, sequence_cycles
    from hwgen.qat.data import load_dataset
    from hwgen.sim.rtl_run import load_design, quantize_inputs, run_rtl

    data = load_dataset(spec.dataset)
    f = spec.folding
    rtl, ir = _build(onnx_path, out_dir(spec), f.pe, f.simd, f"{spec.name} ({onnx_path})",
                     f.max_steps)
    design = load_design(rtl)
    codes = [quantize_inputs(x, design) for x in data.test.x]
    _say(f"simulating {len(codes)} test sequences in Verilator")
    # A stack starts the next sequence while later layers still work on the previous one; held
    # apart, each sequence's latency is the modelled one.
    result = run_rtl(rtl, codes, compile_opt=compile_opt, isolate=len(ir.layers) > 1)
    _built("Verilator build", rtl, result.build_seconds)
    mismatches, acc = _compare(result.outputs, result.classes, ref_scores, data.test.y,
                               design.y_type.exp)
    layer = ir.layers[0]
    return {
        "rtl_dir": rtl,
        "accuracy": acc,
        "mismatches": mismatches,
        "cycles_per_step": {"simulated": result.cycle_summary()["per_step"],
                            "model": per_step_cycles(ir)},
        "latency": {"simulated": result.latencies,
                    "model": [sequence_cycles(ir, len(x)) for x in data.test.x]},
        "stages": stage_summary(ir),
        "folding": {"pe": layer.x_mv.pe, "simd_x": layer.x_mv.simd, "simd_h": layer.h_mv.simd},
    }
