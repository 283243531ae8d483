"""The post-training path of `step_train`: float model -> calibrated (and optionally fine-tuned)
fixed-point model, with PyTorch's dynamic quantization of the same float model as the baseline."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch import nn

from hwgen.qat.calibrate import calibrate, load_float_state
from hwgen.qat.data import Dataset, pad_batch
from hwgen.qat.train import batches, evaluate, fit


def train_float(spec, data: Dataset, rng: np.random.Generator, by_length: bool):
    """Return the spec's float model trained with its train section (float_epochs at lr)."""
    from hwgen.qat.model import build_float

    t = spec.train
    model = build_float(spec)
    fit(model, data.train, t.float_epochs, t.lr, t.batch_size, rng, "float training", by_length,
        data.task)
    return model.eval()


def float_model(spec, data: Dataset, rng: np.random.Generator, by_length: bool):
    """Return (the spec's float model, its source): loaded from ptq.float_checkpoint, or trained."""
    from hwgen.qat.model import build_float

    source = spec.float_checkpoint()
    if source is None:
        return train_float(spec, data, rng, by_length), "trained"
    model = build_float(spec)
    load_float_state(source, model)
    return model.eval(), str(source)


def torch_dynamic(model, weight_bits: int = 8, head_bits: int = 8):
    """Return torch.ao.quantization.quantize_dynamic applied to a copy of model (its nn.LSTM and
    nn.Linear; an embedding table stays float).

    Weights are symmetric per-tensor at weight_bits (head_bits for the head); activations are
    PyTorch's dynamic 8-bit ones. None for nn.RNN, which PyTorch's dynamic quantization lacks, and
    for a PyTorch without torch.ao.quantization (deprecated there since 2.10).
    """
    if not isinstance(model.lstm, nn.LSTM):
        return None
    try:
        from torch.ao.quantization import MinMaxObserver, QConfig
        from torch.ao.quantization.qconfig import default_dynamic_qconfig
    except ImportError:
        return None

    def qconfig(bits: int) -> QConfig:
        weight = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric,
                                          quant_min=-(2 ** (bits - 1)),
                                          quant_max=2 ** (bits - 1) - 1)
        return QConfig(activation=default_dynamic_qconfig.activation, weight=weight)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its deprecation
        return torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model).eval(), {nn.LSTM: qconfig(min(weight_bits, 8)),
                                          nn.Linear: qconfig(min(head_bits, 8))})


def torch_dynamic_metrics(model, data: Dataset, by_length: bool, weight_bits: int = 8,
                          head_bits: int = 8) -> dict | None:
    """Return the task's test figures (hwgen.qat.train.evaluate) of torch_dynamic(model), or
    None where there is no such model."""
    quantized = torch_dynamic(model, weight_bits, head_bits)
    if quantized is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(quantized, data, by_length)


def calibration_inputs(data: Dataset, count: int, batch_size: int, seed: int):
    """Yield count (x, lengths) batches of training sequences, each of one length (no padding)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.train.x))
    for index in batches(order, data.train.lengths, batch_size, True, rng)[:count]:
        x, lengths = pad_batch([data.train.x[i] for i in index])
        yield torch.from_numpy(x), torch.from_numpy(lengths)


def post_training(spec, data: Dataset, rng: np.random.Generator, by_length: bool) -> dict:
    """Run the spec's post-training quantization; return the checkpoint fields it adds.

    The float model comes from ptq.float_checkpoint (or is trained), the quantized model gets its
    weights, every activation range is calibrated on ptq.batches training batches, and
    ptq.finetune_epochs of QAT follow if asked.
    """
    from hwgen.qat.model import build_quant, load_float_into_quant

    p, t = spec.ptq, spec.train
    model, source = float_model(spec, data, rng, by_length)
    float_q = evaluate(model, data, by_length)
    quant = build_quant(spec)
    load_float_into_quant(quant, model)
    ranges = calibrate(quant, calibration_inputs(data, p.batches, t.batch_size, t.seed),
                       p.calibration, p.percentile)
    calibrated = evaluate(quant, data, by_length)
    finetuned = None
    if p.finetune_epochs:
        fit(quant, data.train, p.finetune_epochs, t.qat_lr, t.batch_size, rng, "QAT fine-tuning",
            by_length, data.task)
        finetuned = evaluate(quant, data, by_length)
    int8 = torch_dynamic_metrics(model, data, by_length)
    weights = torch_dynamic_metrics(model, data, by_length, spec.bits.weight, spec.bits.head)
    ptq = {
        "float_source": source,
        "torch_int8_accuracy": (int8 or {}).get("accuracy"),
        "torch_weights_accuracy": (weights or {}).get("accuracy"),
        "calibrated_accuracy": calibrated.get("accuracy"),
        "finetuned_accuracy": None if finetuned is None else finetuned.get("accuracy"),
        "finetune_epochs": p.finetune_epochs, "calibration": p.calibration,
        "ranges_log2": {name: exponent for name, (_, exponent) in ranges.items()},
        # the task's figures of each (accuracy, or MSE and MAE); None where there is no model
        "metrics": {"torch_int8": int8, "torch_weights": weights, "calibrated": calibrated,
                    "finetuned": finetuned},
    }
    quant_q = calibrated if finetuned is None else finetuned
    return {"quant": quant.state_dict(), "float": model.state_dict(),
            "float_accuracy": float_q.get("accuracy"), "quant_accuracy": quant_q.get("accuracy"),
            "float_metrics": float_q, "quant_metrics": quant_q, "ptq": ptq}
