"""hwgen: a quantized LSTM from training to bit-exact FPGA/ASIC hardware."""
