"""Simulator tests (cocotb + Verilator), collected by pytest."""
