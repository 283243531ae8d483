"""hwgen: a quantized LSTM from training to bit-exact FPGA/ASIC hardware."""

__version__ = "0.1.0"  # kept equal to pyproject.toml's version
