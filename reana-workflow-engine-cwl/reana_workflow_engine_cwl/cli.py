"""``run-cwl-workflow``: the CWL engine process of one run (REANA's engine arguments)."""

from __future__ import annotations

from reana_commons.engine.harness import engine_cli

from reana_workflow_engine_cwl.engine import run_workflow

run_cwl_workflow = engine_cli("cwl", run_workflow)
