"""Simulation: finding the tools (Verilator, cocotb) and running simulations with them."""
