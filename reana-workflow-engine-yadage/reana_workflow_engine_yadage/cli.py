"""``run-yadage-workflow``: the yadage engine process of one run (REANA's engine arguments)."""

from __future__ import annotations

from reana_commons.engine.harness import engine_cli

from reana_workflow_engine_yadage.engine import LOGGER_NAME, run_yadage

run_yadage_workflow = engine_cli("yadage", run_yadage, logger_name=LOGGER_NAME)
