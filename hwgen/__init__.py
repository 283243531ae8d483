"""hwgen: a quantized LSTM from training to bit-exact FPGA/ASIC hardware.

The Python API (see hwgen/api.py and the README's "Python API"): hwgen.build, hwgen.load, the
Design they return, and the presets that make your own Brevitas layers hwgen-compatible
(quant_lstm, quant_rnn, head_quantizers, LSTMWidths, QuantClassifier). Names load on first use,
so `import hwgen` stays fast for the command line.
"""

__version__ = "0.1.0"  # kept equal to pyproject.toml's version

_EXPORTS = {
    "build": "hwgen.api", "load": "hwgen.api", "Design": "hwgen.api", "Outputs": "hwgen.api",
    "head_quantizers": "hwgen.api",
    "quant_lstm": "hwgen.qat.model", "quant_rnn": "hwgen.qat.model",
    "QuantClassifier": "hwgen.qat.model",
    "LSTMWidths": "hwgen.spec", "Net": "hwgen.spec",
    "load_dataset": "hwgen.qat.data",
    "HwgenError": "hwgen.types",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hwgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
