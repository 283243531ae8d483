"""Simulation and synthesis: the design description both simulators read (design), finding the
tools (tools), the Verilator/cocotb (rtl_run) and g++ C-simulation (hls_run) runners, Yosys and
nextpnr costs (synth)."""
