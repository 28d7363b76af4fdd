# One venv with every component installed editable, plus the test tools.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMPONENTS := reana-commons reana-db reana-server reana-workflow-controller \
              reana-job-controller reana-client k8s-double htcondor-double reana-testing
# Workflow engines (docs/adr, "engine seam"): ENGINES go into the services' venv (editable);
# an engine whose dependencies clash with the services' goes into ENGINE_VENVS instead, installed
# with reana-commons into one venv of their own, $(ENGINES_VENV), whose bin/ the run managers
# search for engine console scripts (REANA_WORKFLOW_ENGINES_BIN_DIR, default .venv-engines/bin).
ENGINES := reana-workflow-engine-serial reana-workflow-engine-cwl reana-workflow-engine-snakemake
ENGINE_VENVS := reana-workflow-engine-yadage
ENGINES_VENV := .venv-engines
# Written by the last step of `make install`: only a venv with it is trusted (a venv left by an
# interrupted or failed install is completed by the next `make install`, `make test`, `make demo`).
INSTALLED := $(VENV)/.reana-installed

.PHONY: install test lint up down demo bench slurm-up slurm-down htcondor-up htcondor-down clean \
        cwl-conformance cwl-conformance-cwltool

$(BIN)/python:
	$(PY) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/pip install -q --upgrade pip

$(INSTALLED):
	$(MAKE) install

install: $(BIN)/python
	rm -f $(INSTALLED)
	$(BIN)/pip install -q $(addprefix -e ,$(COMPONENTS) $(ENGINES)) -r requirements-test.txt \
		-r requirements-demos.txt
ifneq ($(strip $(ENGINE_VENVS)),)
	test -x $(ENGINES_VENV)/bin/python || $(PY) -m venv $(ENGINES_VENV)
	$(ENGINES_VENV)/bin/pip install -q -e reana-commons -e reana-testing $(addprefix -e ,$(ENGINE_VENVS)) \
	  pytest pytest-timeout
	@echo "engines $(ENGINE_VENVS) installed into $(ENGINES_VENV)"
endif
	touch $(INSTALLED)
	@echo "installed into $(VENV)"

# The suite runs in TEST_WORKERS parallel pytest workers, a test module to one worker (a
# module's live platform stays in one process); tests marked `exclusive` (they restart a
# service the others use) run afterwards, alone. The real reana-client 0.9.6 is installed
# first (its own venv), so no test waits for pip.
# Tests of the engines in ENGINE_VENVS import their engine: they run with that venv's pytest.
TEST_WORKERS ?= 3
test: $(INSTALLED)
	$(BIN)/python -m reana_testing.reana_client_096
	$(BIN)/pytest -q -rs --durations=30 -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not exclusive"
	$(BIN)/pytest -q -rs -m exclusive
ifneq ($(strip $(ENGINE_VENVS)),)
	$(ENGINES_VENV)/bin/pytest -q -rs $(addsuffix /tests,$(ENGINE_VENVS))
endif

lint: $(INSTALLED)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(ENGINES_VENV) .reana

# The platform in the background (supervisord; docs/adr/0004). Embedded profile unless
# REANA_SQLALCHEMY_DATABASE_URI / RABBIT_MQ are set; REANA_HOME defaults to .reana.
up:
	scripts/up.sh

down:
	scripts/down.sh

# install if needed, run examples/resonance-fit with reana-client (on the platform `make up`
# started, left running; else on one of its own, stopped at the end), show what it computed.
demo:
	scripts/demo.sh

bench: $(INSTALLED)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The CWL v1.2 conformance suite (../shared/reference/cwl-v1.2, or CWL_CONFORMANCE_SUITE) run by
# the stock cwltest through reana-cwl-runner on a platform of its own (own REANA_HOME and ports);
# result in benchmarks/results/cwl-conformance.json. CWL_CONFORMANCE_ARGS: e.g. "-j 2 -n 1-40".
# cwl-conformance-cwltool: the same cwltest run with cwltool --no-container (the reference count).
cwl-conformance: $(INSTALLED)
	$(BIN)/python scripts/cwl_conformance.py $(CWL_CONFORMANCE_ARGS)

cwl-conformance-cwltool: $(INSTALLED)
	$(BIN)/python scripts/cwl_conformance.py --tool cwltool $(CWL_CONFORMANCE_ARGS)

# A real single-node Slurm (munge, slurmdbd on MariaDB, slurmctld, slurmd) plus the sshd of its
# SSH mode, configured from deploy/slurm/; needs root. Both are idempotent.
slurm-up:
	scripts/services/slurm.sh up
	scripts/services/sshd.sh up

slurm-down:
	scripts/services/sshd.sh down
	scripts/services/slurm.sh down

# The HTCondor double (htcondor-double/; no HTCondor daemons exist for Debian): its schedd as a
# system daemon and condor_submit/condor_q/condor_history/condor_rm/... in /usr/local/bin, also
# reached through the sshd of slurm-up. Needs root; idempotent.
htcondor-up:
	scripts/services/htcondor.sh up

htcondor-down:
	scripts/services/htcondor.sh down
