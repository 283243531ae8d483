"""The Python API: hand hwgen a model trained in your own script and get verified hardware.

    import hwgen
    design = hwgen.build(model, example, "build/mine")   # a Brevitas module, a QONNX file or an IR folder
    report = design.evaluate(sequences, labels)           # reference, RTL and HLS, compared with ==

`model` is a Brevitas model whose recurrent layers use hwgen's presets (quant_lstm, quant_rnn and
head_quantizers below give fixed-point quantizers at the widths you choose; QuantClassifier is
hwgen's own LSTM/RNN + head), or the path of its QONNX export, or a folder holding a saved IR
(ir.json + ir.npz). `sequences` are float arrays [T_i, input features] in the model's input space
(already standardized, as the model saw them in training); the design's input quantizer turns
them into codes exactly as the model's does.

Every problem is a HwgenError (hwgen.HwgenError) with a one-line message, raised before any long
step starts where it can be checked up front.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.types import HwgenError

BACKENDS = ("reference", "rtl", "hls")


def head_quantizers(weight_bits: int, bias_bits: int = 16) -> dict:
    """Return the keyword arguments that make a brevitas.nn.QuantLinear head hwgen-compatible:
    fixed-point weights of weight_bits and a bias with its own power-of-two scale.

    Use as QuantLinear(features, classes, bias=True, **hwgen.head_quantizers(4)).
    """
    import brevitas.quant as bq

    return {"weight_quant": bq.Int8WeightPerTensorFixedPoint, "weight_bit_width": weight_bits,
            "bias_quant": bq.Int8BiasPerTensorFixedPointInternalScaling,
            "bias_bit_width": bias_bits}


def _sequences(sequences, features: int | None = None) -> list:
    """Return sequences as float32 arrays [T_i, C], or raise HwgenError naming the first bad one."""
    if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        sequences = [sequences]
    checked = []
    for k, seq in enumerate(sequences):
        arr = np.asarray(seq, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] < 1:
            raise HwgenError(f"sequence {k}: shape {list(arr.shape)}, want [T >= 1, features]")
        if features is not None and arr.shape[1] != features:
            raise HwgenError(f"sequence {k}: {arr.shape[1]} features per step, the design takes "
                             f"{features}")
        if not np.isfinite(arr).all():
            raise HwgenError(f"sequence {k}: holds NaN or infinite values")
        checked.append(arr)
    if not checked:
        raise HwgenError("no sequences given")
    return checked


def _export(model, example, out: Path) -> Path:
    """Export a Brevitas module to out/model.onnx (example: one input batch [1, T, C])."""
    import torch

    from hwgen.qat.export import export_model

    if example is None:
        raise HwgenError("build: a PyTorch model needs an example input (a tensor [1, T, C])")
    x = example if isinstance(example, torch.Tensor) else torch.as_tensor(
        np.asarray(example, dtype=np.float32))
    if x.ndim == 2:
        x = x[None]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.onnx"
    export_model(model, x, path)
    return path


def build(model, example=None, out="build/api", pe: int = 0, simd: int = 0,
          max_steps: int = 32, stateful: bool = False) -> "Design":
    """Return the Design of a model: lowered once, folded (pe, simd; 0 = fully parallel), saved
    to out/ir, with its RTL in out/rtl and its HLS in out/hls.

    model: a Brevitas module (exported with example to out/model.onnx), a QONNX file or a saved
    IR folder. max_steps: the longest sequence a design with a reverse direction buffers.
    stateful: h and c carry across tlast (one direction): the sequences given to run and
    evaluate are then chunks of one stream, in order, the state zero at the first only.
    """
    from hwgen.flow import step_build
    from hwgen.ir.store import load_ir

    out = Path(out)
    source = model
    if not isinstance(model, (str, Path)):
        source = _export(model, example, out)
    elif not Path(model).exists():
        raise HwgenError(f"build: {model}: no such file or folder")
    step_build(source, out, pe, simd, source=Path(source).name, max_steps=max_steps,
               stateful=stateful)
    return Design(out, load_ir(out / "ir"), None if isinstance(model, (str, Path)) else model)


def load(folder) -> "Design":
    """Return the Design built earlier into folder (its ir/, rtl/ and hls/)."""
    from hwgen.ir.store import load_ir

    folder = Path(folder)
    if not (folder / "ir" / "ir.json").is_file():
        raise HwgenError(f"{folder}: no ir/ir.json (not a folder written by hwgen.build)")
    return Design(folder, load_ir(folder / "ir"))


@dataclass
class Outputs:
    """A backend's outputs, per sequence: integer codes (scores [N], a per-step head's scores
    [T_i, N], or h [T_i, N] for a design without head), their real values (codes * 2**exp), the
    class of each (designs with a head; a per-step head: one per step) and, for the RTL, the
    measured cycles."""

    codes: list
    exp: int
    classes: list
    latencies: list | None = None
    cycles_per_step: int | None = None

    @property
    def values(self) -> list:
        """Return the outputs as float32 real values."""
        scale = np.float32(2.0 ** self.exp)
        return [np.asarray(c).astype(np.float32) * scale for c in self.codes]


@dataclass(frozen=True)
class _Targets:
    """Regression targets [N, K] (per step: one [T_i, K] per sequence) and how outputs become
    their units (output * std + mean)."""

    values: np.ndarray
    mean: object
    std: object


@dataclass
class Design:
    """A generated design: its folder (ir/, rtl/, hls/), its folded IR and, when it was built
    from a PyTorch module, that module (evaluate then checks the reference against it)."""

    folder: Path
    ir: object
    model: object = None

    def codes(self, sequences) -> list:
        """Return the input codes of float sequences, as the design's input quantizer makes them."""
        from hwgen.reference.luts import quantize_input

        seqs = _sequences(sequences, self.ir.in_count)
        return [quantize_input(s, self.ir.input.type, self.ir.input.rounding, "input")
                for s in seqs]

    def run(self, sequences, backend: str = "rtl") -> Outputs:
        """Return the outputs of float sequences on the int64 reference, the RTL (Verilator) or
        the HLS C++ (g++)."""
        if backend not in BACKENDS:
            raise HwgenError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        codes = self.codes(sequences)
        if backend == "reference":
            return self._reference(codes)
        if backend == "hls":
            from hwgen.sim.hls_run import run_hls

            res = run_hls(self.folder / "hls", codes)
            return Outputs(list(res.outputs), self.ir.out_type.exp, list(res.classes))
        from hwgen.sim.rtl_run import run_rtl

        res = run_rtl(self.folder / "rtl", codes, isolate=len(self.ir.layers) > 1)
        return Outputs(list(res.outputs), self.ir.out_type.exp, list(res.classes),
                       [int(v) for v in res.latencies], res.cycle_summary()["per_step"])

    def _reference(self, codes: list) -> Outputs:
        """Return the int64 reference's outputs, one length group at a time (stateful: one
        sequence at a time, in order, the state carried: execute_chunks)."""
        from hwgen.ir.graph import execute, execute_chunks

        lengths = np.array([len(c) for c in codes])
        outputs, classes = [None] * len(codes), [None] * len(codes)
        if self.ir.stateful:
            groups = [([i], r) for i, r in enumerate(execute_chunks(
                self.ir, [np.asarray(c)[:, None, :] for c in codes]))]
        else:
            groups = [(index, execute(self.ir, np.stack([codes[i] for i in index], axis=1)))
                      for index in (np.flatnonzero(lengths == n) for n in np.unique(lengths))]
        for index, result in groups:
            for b, i in enumerate(index):
                if self._per_step:
                    outputs[i], classes[i] = result["scores"][:, b], result["class"][:, b]
                else:
                    outputs[i] = (result["scores"][b] if self.ir.head is not None
                                  else result["outputs"][:, b])
                    classes[i] = int(np.argmax(outputs[i]))
        return Outputs(outputs, self.ir.out_type.exp, classes if self.ir.head is not None else [])

    @property
    def _per_step(self) -> bool:
        """Return whether the design's head runs on every step (task per_step)."""
        return self.ir.per_step

    def evaluate(self, sequences, labels=None, backends=("rtl", "hls"),
                 resources: bool = False, targets=None, target_mean=0.0,
                 target_std=1.0) -> dict:
        """Return a report: every backend's mismatches against the int64 reference (compared with
        ==), accuracy when labels are given (designs with a head), MSE and MAE when regression
        targets [N, K] are (a head's K outputs, as real values times target_std plus
        target_mean, against targets), the RTL's cycles against the cycle model and, with
        resources, Yosys synth_xilinx counts."""
        from hwgen.passes.cycles import per_step_cycles, sequence_cycles

        seqs = _sequences(sequences, self.ir.in_count)
        if targets is not None:
            labels = _Targets(self._targets(targets, seqs), target_mean, target_std)
        for name in backends:
            if name not in BACKENDS[1:]:
                raise HwgenError(f"backend {name!r} is not one of {', '.join(BACKENDS[1:])}")
        ref = self.run(seqs, "reference")
        report = {"sequences": len(seqs), "reference": self._scored(ref, labels)}
        if self.model is not None and self.ir.head is not None:
            report["reference"]["model_mismatches"] = self._model_mismatches(seqs, ref)
        for name in backends:
            out = self.run(seqs, name)
            entry = self._scored(out, labels)
            entry["mismatches"] = sum(int(not (np.shape(a) == np.shape(b) and np.array_equal(a, b)))
                                      for a, b in zip(out.codes, ref.codes))
            if name == "rtl":
                entry["cycles_per_step"] = {"simulated": out.cycles_per_step,
                                            "model": per_step_cycles(self.ir)}
                entry["latency"] = {"simulated": out.latencies,
                                    "model": [sequence_cycles(self.ir, len(s)) for s in seqs]}
            report[name] = entry
        if resources:
            from hwgen.sim.synth import resources as synth

            report["resources"] = synth(self.folder / "rtl")
        return report

    def _model_mismatches(self, seqs: list, ref: Outputs) -> int:
        """Return how many sequences' reference scores differ (==) from the PyTorch module's."""
        import torch

        self.model.eval()
        with torch.no_grad():
            if self.ir.stateful:  # the module's own carried state (forward_state), chunk by chunk
                scores, state = [], None
                for s in seqs:
                    out, state = self.model.forward_state(torch.from_numpy(s[None]), state)
                    scores.append(out.numpy()[0])
            else:
                scores = [self.model(torch.from_numpy(s[None])).numpy()[0] for s in seqs]
        return sum(int(not np.array_equal(a, b)) for a, b in zip(ref.values, scores))

    def _targets(self, targets, seqs: list):
        """Return regression targets as float64 [count, K] (per step: a list of [T_i, K]), or
        raise HwgenError."""
        if self.ir.head is None:
            raise HwgenError("targets: the design has no head (its outputs are h at every step)")
        count = len(seqs)
        if self._per_step:
            return self._step_targets(targets, seqs)
        arr = np.asarray(targets, dtype=np.float64)
        arr = arr.reshape(len(arr), -1) if arr.ndim == 1 else arr
        if arr.shape != (count, self.ir.out_count):
            raise HwgenError(f"targets: {list(np.shape(targets))}, want [{count}, "
                             f"{self.ir.out_count}] (one row of outputs per sequence)")
        return arr

    def _step_targets(self, targets, seqs: list) -> list:
        """Return per-step regression targets, one float64 [T_i, K] per sequence."""
        if len(targets) != len(seqs):
            raise HwgenError(f"targets: {len(targets)} sequences of targets for {len(seqs)} "
                             "sequences")
        out = []
        for k, (t, s) in enumerate(zip(targets, seqs)):
            arr = np.asarray(t, dtype=np.float64)
            arr = arr.reshape(len(arr), -1) if arr.ndim == 1 else arr
            if arr.shape != (len(s), self.ir.out_count):
                raise HwgenError(f"targets[{k}]: {list(arr.shape)}, want [{len(s)}, "
                                 f"{self.ir.out_count}] (one row of outputs per step)")
            out.append(arr)
        return out

    def _scored(self, out: Outputs, labels) -> dict:
        """Return the accuracy of out's classes against labels (when both exist), or MSE and
        MAE against regression targets (per step: over every step of every sequence)."""
        if isinstance(labels, _Targets):
            from hwgen.qat.task import regression_metrics

            join = np.concatenate if self._per_step else np.stack
            return regression_metrics(join(out.values), join(labels.values), labels.mean,
                                      labels.std)
        if labels is None or not out.classes:
            return {}
        if self._per_step:  # one label per step of every sequence
            got = np.concatenate(out.classes)
            want = np.concatenate([np.asarray(v).reshape(-1) for v in labels])
            if want.shape != got.shape:
                raise HwgenError(f"labels: {len(want)} step labels, want one per step "
                                 f"({len(got)})")
            return {"accuracy": float(np.mean(got == want))}
        labels = np.asarray(labels)
        if labels.shape != (len(out.classes),):
            raise HwgenError(f"labels: {list(labels.shape)}, want one per sequence "
                             f"({len(out.classes)})")
        return {"accuracy": float(np.mean(np.asarray(out.classes) == labels))}


__all__ = ["build", "load", "Design", "Outputs", "head_quantizers", "BACKENDS"]
