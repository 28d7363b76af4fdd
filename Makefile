# One venv with every component installed editable, plus the test tools.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMPONENTS := reana-commons reana-db reana-server reana-workflow-controller \
              reana-job-controller reana-workflow-engine-serial reana-client

.PHONY: install test lint up down demo bench slurm-up slurm-down clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q $(addprefix -e ,$(COMPONENTS)) -r requirements-test.txt
	@echo "installed into $(VENV)"

test: $(BIN)/python
	$(BIN)/pytest -q

lint:
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .reana

bench: $(BIN)/python
	$(BIN)/python benchmarks/run.py
