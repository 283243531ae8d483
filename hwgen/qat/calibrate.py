"""Post-training quantization: float checkpoints in, calibrated fixed-point models out.

Brevitas's fixed-point weight quantizers take their power-of-two scale from the weights themselves
(the tensor's or row's largest magnitude), so loading float weights already sets every weight scale.
Activation quantizers learn their scale during training; Brevitas has no calibration for the
quantizers inside its recurrent cells. `calibrate` runs a few batches through the model with every
activation quantizer passing its input through unquantized, records what each quantizer saw, and
sets its range to a power of two: the smallest that covers the observed maximum (max) or
percentile (percentile) of |x|, or the one whose quantization of the observed values has the least
mean square error (mse).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import torch

from hwgen.types import HwgenError

METHODS = ("max", "percentile", "mse")

#: Parameter names of nn.LSTM / nn.RNN: weight_ih_l0, bias_hh_l1_reverse, ...
_RECURRENT_KEY = re.compile(r"^(?:(.*)\.)?((?:weight|bias)_(?:ih|hh)_l\d+(?:_reverse)?)$")


def _tensor_dict(obj) -> bool:
    """Return True if obj is a non-empty mapping of names to tensors."""
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def read_state_dict(path: Path) -> dict:
    """Return the float state dict stored in path, loaded with weights_only=True.

    The file may hold the state dict itself or a checkpoint dict that keeps it under one of the
    usual keys (state_dict, model_state_dict, model, float: hwgen's own checkpoints).
    """
    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"{path}: no such float checkpoint")
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001  (any unpickling failure is the same user error)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights only" in reason.lower() or "weights_only" in reason:
            reason = "holds objects other than tensors (only state dicts are loaded)"
        raise HwgenError(f"{path}: not a loadable float checkpoint: {reason}") from None
    if _tensor_dict(obj):
        return obj
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model", "float"):
            if _tensor_dict(obj.get(key)):
                return obj[key]
    raise HwgenError(f"{path}: no state dict of tensors in it (expected a module's state_dict(), "
                     f"or a dict holding one under state_dict, model_state_dict, model or float)")


def split_state_dict(path: Path, state: dict) -> tuple[dict, dict]:
    """Return (recurrent, head): the nn.LSTM/nn.RNN tensors by their own names and the nn.Linear's.

    The recurrent tensors may sit under any one prefix (rnn., encoder.lstm., none); the head is the
    one other module with exactly a weight and a bias.
    """
    recurrent, prefixes, rest = {}, set(), {}
    for key, value in state.items():
        match = _RECURRENT_KEY.match(key)
        if match:
            prefixes.add(match.group(1) or "")
            recurrent[match.group(2)] = (key, value)
        else:
            rest[key] = value
    if not recurrent:
        raise HwgenError(f"{path}: no nn.LSTM or nn.RNN tensors (weight_ih_l0, ...) in the "
                         f"state dict")
    if len(prefixes) > 1:
        raise HwgenError(f"{path}: recurrent tensors under several modules "
                         f"({', '.join(sorted(p or '<top>' for p in prefixes))}); keep one")
    heads = {}
    for key, value in rest.items():
        module, _, name = key.rpartition(".")
        heads.setdefault(module, {})[name] = (key, value)
    linear = [m for m, params in heads.items() if set(params) == {"weight", "bias"}]
    if len(linear) != 1 or len(heads) != 1:
        found = ", ".join(sorted(rest)) or "nothing"
        raise HwgenError(f"{path}: expected one nn.Linear head (a weight and a bias) next to the "
                         f"recurrent tensors, found {found}")
    return recurrent, heads[linear[0]]


def _load_embedding(path: Path, state: dict, embedding) -> None:
    """Load the one nn.Embedding table of state (a module with a weight and nothing else) into
    embedding and remove it from state; raise HwgenError if there is none or its shape differs."""
    tables = [k for k in state if k.endswith("weight") and k.removesuffix("weight") + "bias"
              not in state and not _RECURRENT_KEY.match(k)]
    if len(tables) != 1:
        raise HwgenError(f"{path}: expected one nn.Embedding table (a weight without a bias) "
                         f"next to the recurrent tensors, found {len(tables)}")
    value = state.pop(tables[0])
    if tuple(value.shape) != tuple(embedding.weight.shape):
        raise HwgenError(f"{path}: tensor {tables[0]} has shape {tuple(value.shape)}, the spec "
                         f"needs {tuple(embedding.weight.shape)}")
    embedding.load_state_dict({"weight": value.to(embedding.weight.dtype)})


def load_float_state(path: Path, float_model) -> None:
    """Load the float checkpoint at path into float_model (a FloatClassifier built from a spec).

    Raises HwgenError naming the first tensor that is missing, extra or of the wrong shape.
    """
    state = read_state_dict(path)
    if getattr(float_model, "embedding", None) is not None:
        _load_embedding(path, state, float_model.embedding)
    recurrent, head = split_state_dict(path, state)
    expected = [("lstm", k, v) for k, v in float_model.lstm.state_dict().items()]
    expected += [("head", k, v) for k, v in float_model.head.state_dict().items()]
    loaded = {"lstm": {}, "head": {}}
    for index, (part, name, want) in enumerate(expected):
        if part == "head" and expected[index - 1][0] == "lstm" and recurrent:
            # every recurrent tensor the spec needs was found: the first one left over is extra
            key = next(iter(recurrent.values()))[0]
            raise HwgenError(f"{path}: tensor {key} is not in the spec's network (check "
                             f"num_layers, bidirectional and cell)")
        found = (recurrent if part == "lstm" else head).pop(name, None)
        if found is None:
            raise HwgenError(f"{path}: no tensor for the spec's {part} {name} "
                             f"(shape {tuple(want.shape)})")
        key, value = found
        if tuple(value.shape) != tuple(want.shape):
            raise HwgenError(f"{path}: tensor {key} has shape {tuple(value.shape)}, the spec "
                             f"needs {tuple(want.shape)}")
        if not value.is_floating_point():
            raise HwgenError(f"{path}: tensor {key} is {value.dtype}, not floating point")
        if not value.isfinite().all():
            raise HwgenError(f"{path}: tensor {key} holds NaN or infinite values")
        loaded[part][name] = value.to(want.dtype)
    float_model.lstm.load_state_dict(loaded["lstm"])
    float_model.head.load_state_dict(loaded["head"])


def activation_quantizers(model) -> dict:
    """Return {name: RescalingIntQuant} of every activation quantizer whose scale is a parameter
    initialized from runtime statistics (each shared quantizer once)."""
    from brevitas.core.quant.int import RescalingIntQuant
    from brevitas.core.scaling.standalone import ParameterFromRuntimeStatsScaling

    found, seen = {}, set()
    for name, module in model.named_modules():
        if (isinstance(module, RescalingIntQuant) and id(module) not in seen
                and isinstance(module.scaling_impl, ParameterFromRuntimeStatsScaling)):
            seen.add(id(module))
            found[name.removesuffix(".fused_activation_quant_proxy.tensor_quant")] = module
    return found


def range_exponent(observed: float) -> int:
    """Return e such that 2**e is the smallest power of two >= observed (0 when nothing seen)."""
    if not observed > 0 or not math.isfinite(observed):
        return 0
    return math.ceil(math.log2(observed))


class _Observer:
    """Records one quantizer's inputs and lets them through unquantized."""

    def __init__(self, method: str):
        self.method = method
        self.peak = 0.0
        self.samples = []

    def __call__(self, module, args, output):
        x = args[0].detach()
        if x.numel():
            self.peak = max(self.peak, float(x.abs().max()))
            if self.method != "max":
                self.samples.append(x.reshape(-1).double().numpy())
        return (args[0],) + tuple(output[1:])

    def exponent(self, percentile: float, bits: int, signed: bool, narrow: bool) -> tuple:
        """Return (observed range, exponent of the power-of-two range to set)."""
        if self.method == "max" or not self.samples:
            return self.peak, range_exponent(self.peak)
        values = np.concatenate(self.samples)
        if self.method == "percentile":
            seen = float(np.percentile(np.abs(values), percentile))
            return seen, range_exponent(seen)
        return self.peak, mse_exponent(values, range_exponent(self.peak), bits, signed, narrow)


def quantize(values: np.ndarray, exponent: int, bits: int, signed: bool,
             narrow: bool) -> np.ndarray:
    """Return values quantized as Brevitas does with the range 2**exponent (round half to even)."""
    scale = 2.0 ** (exponent - (bits - 1 if signed else bits))
    lo = (-(2 ** (bits - 1)) + int(narrow)) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1 - int(narrow)
    return np.clip(np.round(values / scale), lo, hi) * scale


def mse_exponent(values: np.ndarray, top: int, bits: int, signed: bool, narrow: bool,
                 candidates: int = 6) -> int:
    """Return the range exponent, from top down, whose quantization error (mean square) is least.

    A narrower range clips the few large values but resolves the many small ones finer: for a
    low-bit cell state the difference is the model working or not.
    """
    errors = [(float(np.mean((quantize(values, e, bits, signed, narrow) - values) ** 2)), -e)
              for e in range(top, top - candidates, -1)]
    return -min(errors)[1]


@torch.no_grad()
def calibrate(model, inputs, method: str = "mse", percentile: float = 99.99) -> dict:
    """Set every activation quantizer's power-of-two range from the batches in inputs.

    inputs yields (x, lengths) batches for model(x, lengths). Weight scales follow the weights and
    need nothing. Returns {quantizer name: (observed range, exponent of the range set)}.
    """
    if method not in METHODS:
        raise HwgenError(f"calibration method {method!r} is not one of {', '.join(METHODS)}")
    quantizers = activation_quantizers(model)
    observers = {name: _Observer(method) for name in quantizers}
    hooks = [q.register_forward_hook(observers[name]) for name, q in quantizers.items()]
    model.eval()
    try:
        count = 0
        for x, lengths in inputs:
            model(x, lengths)
            count += 1
    finally:
        for hook in hooks:
            hook.remove()
    if count == 0:
        raise HwgenError("calibration got no batches")
    result = {}
    for name, quant in quantizers.items():
        bits = int(quant.msb_clamp_bit_width_impl())
        seen, exponent = observers[name].exponent(percentile, bits, quant.int_quant.signed,
                                                  quant.int_quant.narrow_range)
        impl = quant.scaling_impl
        # The parameter holds log2 of the range; Brevitas rounds it up to an integer and divides
        # the power of two by 2**(bits-1) (signed) or 2**bits (unsigned) to get the scale.
        impl.value.data.fill_(float(exponent))
        impl.counter = impl.collect_stats_steps + 1
        result[name] = (seen, exponent)
    return result
