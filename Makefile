# hwgen: the two commands a user needs are `make hw MODEL=<name>` and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml or requirements.lock change.

PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed
MODEL  ?= lstm4b
PYTEST_ARGS ?=

.PHONY: hw test test-slow train export venv clean help

help:
	@echo "make hw MODEL=<name>   train (cached), export, and check the model bit for bit (see README)"
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
	$(VENV)/bin/hwgen hw $(MODEL)

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
