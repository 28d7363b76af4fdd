"""``run-snakemake-workflow``: the Snakemake engine process of one run (REANA's engine CLI)."""

from __future__ import annotations

from reana_commons.engine.harness import engine_cli

from reana_workflow_engine_snakemake.engine import LOGGER_NAME, run_workflow

run_snakemake_workflow = engine_cli("snakemake", run_workflow, logger_name=LOGGER_NAME)

if __name__ == "__main__":
    run_snakemake_workflow()
