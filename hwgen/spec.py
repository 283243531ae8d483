"""Model spec files (models/NAME.yaml): parse, validate and fill in defaults.

A spec names the dataset, the network's sizes, the bit width of every quantizer, the training
settings and the hardware folding. Every key is checked: an unknown key or a bad value is a one-line
HwgenError naming the file and the key.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import yaml

from hwgen.types import HwgenError, shown

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_DATASET = "japanese_vowels"
#: What the head's outputs mean (`task:`): classify (the class of the highest score, from the
#: last step), regress (the scores are net.classes real-valued outputs, from the last step) or
#: per_step (the head on every step: net.classes real-valued outputs per step, e.g. next-value
#: forecasting) or next_token (token ids in, through an embedding of net.embedding values per
#: token; the head on every step scores each of the net.classes tokens as the next one: a
#: character-level language model).
TASKS = ("classify", "regress", "per_step", "next_token")
DEFAULT_TASK = "classify"


@dataclass(frozen=True)
class LSTMWidths:
    """Bit width of every quantizer of one QuantLSTM."""

    weight: int = 8  # gate weights (input-to-hidden and hidden-to-hidden)
    bias: int = 16
    io: int = 8  # input and hidden state: Brevitas shares one quantizer
    input_acc: int = 8
    forget_acc: int = 8
    cell_acc: int = 8
    output_acc: int = 8
    sigmoid: int = 8
    tanh: int = 8
    cell_state: int = 8


@dataclass(frozen=True)
class Bits(LSTMWidths):
    """The LSTM's widths plus the head's weights (its bias uses `bias`; scores are exact)."""

    head: int = 8

    def lstm(self) -> LSTMWidths:
        """Return the widths of the LSTM alone."""
        return LSTMWidths(**{f.name: getattr(self, f.name) for f in fields(LSTMWidths)})


@dataclass(frozen=True)
class Net:
    """Network sizes and the recurrent layer's structure (Brevitas QuantLSTM / QuantRNN options)."""

    input_size: int = 12
    hidden_size: int = 32
    num_layers: int = 1
    classes: int = 9  # the head's outputs: classes (task classify) or real-valued outputs (regress)
    cell: str = "lstm"  # lstm (QuantLSTM) or rnn (QuantRNN; its accumulator is bits.input_acc)
    # or gru (hwgen.qat.gru.QuantGRU; accumulators: reset = bits.input_acc, update =
    # bits.forget_acc, new = bits.cell_acc, W_hn h + b_hn = bits.output_acc)
    nonlinearity: str = "tanh"  # rnn only: tanh or relu
    bidirectional: bool = False
    cifg: bool = False  # lstm only: coupled input-forget gates
    bias: bool = True
    per_channel_weights: bool = False  # a power-of-two weight scale per output channel
    shared_input_hidden_weights: bool = False  # bidirectional only: both directions share W_x
    shared_intra_layer_weight_quant: bool = False  # lstm only: one weight scale for all gates
    shared_intra_layer_gate_acc_quant: bool = False  # lstm only: one accumulator for all gates
    # task next_token only: values per token of the embedding table in front of the first layer
    # (its codes are bits.io wide; net.input_size is then this dimension). 0: no embedding.
    embedding: int = 0


@dataclass(frozen=True)
class Train:
    """Training settings (float baseline, then quantization-aware fine-tuning from it)."""

    seed: int = 0
    batch_size: int = 32
    float_epochs: int = 40
    qat_epochs: int = 30
    lr: float = 0.01
    qat_lr: float = 0.003


DEFAULT_CLOCK_MHZ = 100.0  # folding.clock_mhz when a spec gives none


@dataclass(frozen=True)
class Folding:
    """Hardware folding per layer (PE gate rows and SIMD columns in parallel) and buffer depth."""

    pe: int = 0  # 0: fully parallel (PE = hidden size)
    simd: int = 0  # 0: fully parallel (SIMD = row length)
    max_steps: int = 32  # longest sequence a bidirectional design buffers
    multipliers: str = "auto"  # products: auto (logic when an operand has <= 4 bits), lut or dsp
    lanes: int = 0  # elementwise units per cycle, dividing hidden_size; 0: auto (hwgen.passes.fold)
    # sequences sharing one engine, interleaved step by step (one-layer, one-direction LSTM)
    interleave: int = 1
    # h (and c) carry across tlast into the next sequence: the test set is one stream of chunks,
    # the state is zero only at its start (one-direction, non-interleaved designs)
    stateful: bool = False
    # the clock the design is placed and routed for (MHz): nextpnr's timing-driven placement
    # and routing aim at it, and the report says whether the measured Fmax meets it
    clock_mhz: float = DEFAULT_CLOCK_MHZ


@dataclass(frozen=True)
class Sweep:
    """Defaults of `hwgen sweep` for this model: which quantizers vary, over which widths."""

    vary: str = "all"  # a group (all, weights, activations) or one key of bits
    bits: tuple = (2, 3, 4, 5, 6, 7, 8)


@dataclass(frozen=True)
class PTQ:
    """Post-training quantization (section `ptq`): calibrate a float model instead of QAT."""

    float_checkpoint: str = ""  # nn.LSTM/nn.RNN + nn.Linear state dict; "": train it with `train`
    calibration: str = "mse"  # range per activation quantizer: mse, max or percentile of |x|
    percentile: float = 99.99
    batches: int = 8  # calibration batches of train.batch_size training sequences
    finetune_epochs: int = 0  # QAT epochs after calibration (at train.qat_lr)


@dataclass(frozen=True)
class Spec:
    """A whole model spec."""

    name: str
    path: str
    dataset: str
    net: Net
    bits: Bits
    train: Train
    folding: Folding
    sweep: Sweep = Sweep()
    ptq: PTQ | None = None  # set: post-training quantization of a float model instead of QAT
    out: str = ""  # build folder; empty: build/NAME (sweep points live in the sweep's folder)
    task: str = DEFAULT_TASK  # one of TASKS

    def training_hash(self) -> str:
        """Return a digest of everything that determines the trained checkpoint."""
        from hwgen.qat.data import ref_digest

        keyed = {"dataset": ref_digest(self.dataset), "net": self.to_dict()["net"],
                 "bits": asdict(self.bits),
                 "train": asdict(self.train)}
        if self.task != DEFAULT_TASK:  # classify keeps the hashes of checkpoints made before tasks
            keyed["task"] = self.task
        if self.ptq is not None:
            keyed["ptq"] = asdict(self.ptq)
            source = self.float_checkpoint()
            if source is not None:
                keyed["ptq"]["float_checkpoint"] = hashlib.sha256(source.read_bytes()).hexdigest()
        return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]

    def float_checkpoint(self) -> Path | None:
        """Return the ptq section's float checkpoint (relative paths start at the spec's folder)."""
        if self.ptq is None or not self.ptq.float_checkpoint:
            return None
        path = Path(self.ptq.float_checkpoint).expanduser()
        return path if path.is_absolute() else Path(self.path).parent / path

    def to_dict(self) -> dict:
        """Return the spec as plain data (for reports)."""
        net = asdict(self.net)
        if not net["embedding"]:  # specs without one keep their hashes from before the key
            del net["embedding"]
        out = {"name": self.name, "dataset": self.dataset, "task": self.task, "net": net,
               "bits": asdict(self.bits), "train": asdict(self.train),
               "folding": asdict(self.folding)}
        if self.ptq is not None:
            out["ptq"] = asdict(self.ptq)
        return out


_CHOICES = {"cell": ("lstm", "rnn", "gru"), "nonlinearity": ("tanh", "relu"),
            "calibration": ("mse", "max", "percentile"), "multipliers": ("auto", "lut", "dsp")}
_SECTIONS = {"net": Net, "bits": Bits, "train": Train, "folding": Folding, "sweep": Sweep}
_OPTIONAL_SECTIONS = {"ptq": PTQ}
_LIMITS = {
    "bits": (2, 24), "input_size": (1, 4096), "hidden_size": (1, 4096), "num_layers": (1, 8),
    "max_steps": (1, 65536),
    "classes": (1, 4096), "seed": (0, 2**31 - 1), "batch_size": (1, 65536),
    "float_epochs": (0, 100000), "qat_epochs": (0, 100000), "pe": (0, 65536), "simd": (0, 65536),
    "lanes": (0, 65536), "interleave": (1, 1024), "batches": (1, 100000),
    "finetune_epochs": (0, 100000), "embedding": (0, 4096),
}


_FLOAT_LIMITS = {"clock_mhz": 1000.0}  # the highest value of a number key (default: none)


def limits(key: str) -> tuple[int, int]:
    """Return the (lowest, highest) value a spec allows for an integer key (bits: any width)."""
    return _LIMITS.get(key, (0, 2**31 - 1))


def check_value(where: str, section: str, key: str, value, default):
    """Return value converted to the type of default, or raise HwgenError naming the key."""
    full = f"{where}: {section}.{key}"
    if section == "sweep":
        return _check_sweep(full, key, value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise HwgenError(f"{full} must be true or false, got {shown(value)}")
        return value
    if key == "float_checkpoint":
        if not isinstance(value, str):
            raise HwgenError(f"{full} must be a file path, got {shown(value)}")
        return value
    if key == "percentile":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
            raise HwgenError(f"{full} must be a number in (0, 100], got {shown(value)}")
        return float(value)
    if isinstance(default, str):
        choices = _CHOICES[key]
        if value not in choices:
            raise HwgenError(f"{full} must be one of {', '.join(choices)}, got {shown(value)}")
        return value
    if isinstance(default, float):
        top = _FLOAT_LIMITS.get(key, float("inf"))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                0 < value <= top and value < float("inf")):
            raise HwgenError(f"{full} must be a positive number"
                             + (f" up to {top:g}" if top < float("inf") else "")
                             + f", got {shown(value)}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HwgenError(f"{full} must be an integer, got {shown(value)}")
    lo, hi = _LIMITS["bits"] if section == "bits" else _LIMITS.get(key, (0, 2**31 - 1))
    if not lo <= value <= hi:
        raise HwgenError(f"{full} must be in {lo}..{hi}, got {shown(value)}")
    return value


def _check_net(where: str, net: Net) -> None:
    """Raise HwgenError naming the first net option that does not fit the others."""
    lstm_only = ("cifg", "shared_intra_layer_weight_quant", "shared_intra_layer_gate_acc_quant")
    if net.cell == "rnn":
        for key in lstm_only:
            if getattr(net, key):
                raise HwgenError(f"{where}: net.{key} applies to LSTM only (net.cell is rnn)")
    if net.cell == "gru":
        for key in lstm_only + ("per_channel_weights", "shared_input_hidden_weights"):
            if getattr(net, key):
                raise HwgenError(f"{where}: net.{key} is not available with net.cell: gru")
    if net.cell != "rnn" and net.nonlinearity != "tanh":
        raise HwgenError(f"{where}: net.nonlinearity applies to cell: rnn only")
    if net.shared_input_hidden_weights and not net.bidirectional:
        raise HwgenError(f"{where}: net.shared_input_hidden_weights needs net.bidirectional: true")


def _check_task(where: str, value, net: Net) -> str:
    """Return the spec's task, or raise HwgenError naming the key (a classifier needs 2 classes)."""
    if value not in TASKS:
        raise HwgenError(f"{where}: task must be one of {', '.join(TASKS)}, got {shown(value)}")
    if value == "classify" and net.classes < 2:
        raise HwgenError(f"{where}: net.classes must be at least 2 for task classify, got "
                         f"{net.classes}")
    if value in ("per_step", "next_token") and net.bidirectional:
        raise HwgenError(f"{where}: task {value} needs net.bidirectional: false (a per-step "
                         "head after a reverse direction is not supported)")
    if value == "next_token" and not net.embedding:
        raise HwgenError(f"{where}: task next_token needs net.embedding (the values per token "
                         "of the embedding table, at least 1)")
    if value != "next_token" and net.embedding:
        raise HwgenError(f"{where}: net.embedding applies to task next_token only (task is "
                         f"{value})")
    return value


def _embedded_net(where: str, raw_net, net: Net) -> Net:
    """Return net with input_size set to net.embedding (what the first recurrent layer takes),
    or raise HwgenError if the spec gives an input_size that differs."""
    given = raw_net.get("input_size") if isinstance(raw_net, dict) else None
    if given is not None and given != net.embedding:
        raise HwgenError(f"{where}: net.input_size is {given}, but with net.embedding the first "
                         f"layer takes the {net.embedding} embedding values (leave input_size "
                         "out)")
    return replace(net, input_size=net.embedding)


def _check_sweep(full: str, key: str, value):
    """Return a checked sweep.vary (a name; checked against the groups when the sweep starts) or
    sweep.bits (a list of distinct widths in the bits limits)."""
    if key == "vary":
        if not isinstance(value, str) or not value:
            raise HwgenError(f"{full} must be a quantizer name or group, got {shown(value)}")
        return value
    lo, hi = _LIMITS["bits"]
    if (not isinstance(value, list) or not value or len(set(map(repr, value))) != len(value)
            or any(isinstance(b, bool) or not isinstance(b, int) or not lo <= b <= hi
                   for b in value)):
        raise HwgenError(f"{full} must be a list of distinct widths in {lo}..{hi}, "
                         f"got {shown(value)}")
    return tuple(value)


def _section(where: str, name: str, raw, cls):
    """Return the dataclass cls filled from the mapping raw, checking every key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HwgenError(f"{where}: {name} must be a mapping")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise HwgenError(f"{where}: unknown key {shown(f'{name}.{key}')} "
                             f"(known: {', '.join(known)})")
        values[key] = check_value(where, name, key, value, known[key].default)
    return cls(**values)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise HwgenError(f"line {line}: key {shown(str(key))} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent, index):
        # An alias can expand to gigabytes ("billion laughs"); a spec never needs one.
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise HwgenError(f"line {event.start_mark.line + 1}: anchors and aliases (& and *) "
                             "are not allowed in a spec")
        return super().compose_node(parent, index)


_ONNX_HINT = ("; for a QONNX file use `hwgen build {0} --out DIR` or "
              "`hwgen run {0} --input X.npy --output Y.npy`")


def resolve_path(model: str) -> Path:
    """Return the spec file for a model name in models/ or a path to a spec file."""
    candidate = Path(model)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise HwgenError(f"{model}: no such spec file")
        if candidate.suffix not in (".yaml", ".yml"):
            raise HwgenError(f"{model}: not a spec file (a spec is a .yaml file)"
                             + _ONNX_HINT.format(model) * (candidate.suffix == ".onnx"))
        return candidate
    named = MODELS_DIR / f"{model}.yaml"
    if not named.is_file():
        known = sorted(p.stem for p in MODELS_DIR.glob("*.yaml"))
        raise HwgenError(f"unknown model {model!r} (models/ has: {', '.join(known)})")
    return named


def _spec_text(path: Path) -> str:
    """Return the text of a spec file, or raise HwgenError if it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HwgenError(f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})") from None


def load_spec(model: str) -> Spec:
    """Return the validated Spec for a model name or spec path."""
    from hwgen.qat.data import check_sizes, dataset_ref

    path = resolve_path(model)
    where = str(path)
    try:
        raw = yaml.load(_spec_text(path), Loader=_UniqueKeyLoader)
    except HwgenError as exc:
        raise HwgenError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise HwgenError(f"{where}:{line} not valid YAML") from None
    if not isinstance(raw, dict):
        raise HwgenError(f"{where}: a spec must be a mapping of keys")
    allowed = {"dataset", "task", *_SECTIONS, *_OPTIONAL_SECTIONS}
    for key in raw:
        if key not in allowed:
            raise HwgenError(f"{where}: unknown key {shown(str(key))} "
                             f"(known: {', '.join(sorted(allowed))})")
    dataset = dataset_ref(raw.get("dataset", DEFAULT_DATASET), path.parent, where)
    parts = {name: _section(where, name, raw.get(name), cls) for name, cls in _SECTIONS.items()}
    _check_net(where, parts["net"])
    task = _check_task(where, raw.get("task", DEFAULT_TASK), parts["net"])
    if task == "next_token":
        parts["net"] = _embedded_net(where, raw.get("net"), parts["net"])
    for name, cls in _OPTIONAL_SECTIONS.items():
        parts[name] = _section(where, name, raw[name], cls) if name in raw else None
    if parts["ptq"] is None and parts["train"].qat_epochs == 0:
        # The activation quantizers take their ranges from training batches: with none, every
        # export of the checkpoint fails. A ptq section calibrates them instead.
        raise HwgenError(f"{where}: train.qat_epochs must be at least 1 (or add a ptq section "
                         f"to calibrate without QAT)")
    spec = Spec(name=path.stem, path=where, dataset=dataset, task=task, **parts)
    check_folding_fits(spec)
    check_sizes(spec)
    source = spec.float_checkpoint()
    if source is not None and not source.is_file():
        raise HwgenError(f"{where}: ptq.float_checkpoint {source} is not a file")
    return spec


def check_folding_fits(spec: Spec, where: str = "") -> None:
    """Raise HwgenError if the folding (PE, SIMD) does not divide every recurrent weight matrix or
    the lanes the hidden size."""
    from hwgen.passes.fold import check_folding, check_lanes

    net, f = spec.net, spec.folding
    check_lanes(net.hidden_size, f.lanes, where or spec.path)
    if f.stateful and (net.bidirectional or f.interleave > 1
                       or spec.task not in ("next_token", "per_step")):
        raise HwgenError(f"{where or spec.path}: folding.stateful needs task next_token or "
                         "per_step, net.bidirectional: false and folding.interleave: 1 (state "
                         "carries across chunks of one stream, one direction, one sequence)")
    if f.interleave > 1 and (net.cell != "lstm" or net.num_layers > 1 or net.bidirectional
                             or spec.task not in ("classify", "regress")):
        raise HwgenError(f"{where or spec.path}: folding.interleave={f.interleave} needs a "
                         "one-layer, one-direction LSTM with a head on the last step")
    gates = 1 if net.cell == "rnn" else 3 if net.cifg or net.cell == "gru" else 4
    inputs = net.input_size
    for layer in range(net.num_layers):
        for part, cols in (("input", inputs), ("hidden", net.hidden_size)):
            check_folding(gates * net.hidden_size, cols, f.pe, f.simd,
                          f"{where or spec.path}: folding (layer {layer} {part} weights)")
        inputs = net.hidden_size * (2 if net.bidirectional else 1)
