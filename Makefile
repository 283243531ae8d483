# hwgen: the two commands a user needs are `make hw MODEL=<name>` and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml or requirements.lock change.

PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed
MODEL  ?= lstm4b
PYTEST_ARGS ?=
SWEEP_ARGS ?=
COMPARE_ARGS ?=
BENCH_ARGS ?=
COST_ARGS ?=

.PHONY: hw sweep compare bench cost-calibrate test test-slow train export venv clean help

help:
	@echo "make hw MODEL=<name>   train (cached), export, check the model bit for bit, cost it (see README)"
	@echo "                       Xilinx and ECP5 counts, nextpnr Fmax and time per step (ECP5,"
	@echo "                       DEVICE=85k; also 25k 45k um-25k ... um5g-85k); NO_PNR=1 skips"
	@echo "                       place and route; FMAX=1 is accepted and changes nothing;"
	@echo "                       FORCE=1 retrains; OUT=DIR builds in DIR instead of build/MODEL"
	@echo "                       TB_SEQUENCES=N|all: test vectors of the testbench in rtl/tb/"
	@echo "                       PART=xc7z020 (or xczu9eg, xcku040, ..., a full part name): the"
	@echo "                       Xilinx part of hls/build.tcl, rtl/package_ip.tcl and the report;"
	@echo "                       CLOCK_NS=10: the clock period build.tcl asks Vitis HLS for"
	@echo "make sweep MODEL=<name> accuracy and hardware cost over bit widths (build/sweep/)"
	@echo "                       SWEEP_ARGS='--bits 2-8 --vary io --jobs 2 --fmax' etc."
	@echo "make compare MODEL=<name> post-training quantization per width: float, PyTorch int8,"
	@echo "                       calibrated, fine-tuned accuracy (COMPARE_ARGS='--bits 4-8')"
	@echo "make bench             fixed hardware workloads: exactness, cycles, Yosys/ECP5 resources,"
	@echo "                       Fmax, ns/step, GOPS (build/bench/bench.md; hours; not in make test)"
	@echo "                       BENCH_ARGS='--only hidden8 --no-pnr', '--quick', '--dry-run'"
	@echo "make cost-calibrate    synthesize the cost model's calibration designs (Yosys, one at a"
	@echo "                       time, cached), refit it, print its error per design (not in make"
	@echo "                       test); COST_ARGS='--only NAME,...', '--force', '--fit-only'"
	@echo "make test              fast tests and simulator tests (what CI runs)"
	@echo "make test-slow         the long exactness runs kept out of make test"
	@echo "make clean             remove build/ (keeps .venv)"

$(STAMP): pyproject.toml requirements.lock
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(VENV)/bin/python -m pip install --quiet -c requirements.lock -e ".[ray]"
	@touch $(STAMP)

venv: $(STAMP)

hw: $(STAMP)
	$(VENV)/bin/hwgen hw $(MODEL) $(if $(NO_PNR),--no-pnr) $(if $(DEVICE),--device $(DEVICE)) \
		$(if $(FMAX),--fmax) $(if $(FORCE),--force) $(if $(OUT),--out "$(OUT)") \
		$(if $(TB_SEQUENCES),--tb-sequences $(TB_SEQUENCES)) $(if $(PART),--part "$(PART)") \
		$(if $(CLOCK_NS),--clock-ns "$(CLOCK_NS)")

sweep: $(STAMP)
	$(VENV)/bin/hwgen sweep $(MODEL) $(SWEEP_ARGS)

compare: $(STAMP)
	$(VENV)/bin/hwgen compare $(MODEL) $(COMPARE_ARGS)

bench: $(STAMP)
	$(VENV)/bin/hwgen bench $(BENCH_ARGS)

cost-calibrate: $(STAMP)
	$(VENV)/bin/hwgen cost-calibrate $(COST_ARGS)

train: $(STAMP)
	$(VENV)/bin/hwgen train $(MODEL)

export: $(STAMP)
	$(VENV)/bin/hwgen export $(MODEL)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m slow $(PYTEST_ARGS)

clean:
	rm -rf build
