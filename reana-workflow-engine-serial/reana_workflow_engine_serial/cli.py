"""``run-serial-workflow``: the serial engine process of one run (the engine kit's harness)."""

from __future__ import annotations

from reana_commons.engine.harness import engine_cli

from reana_workflow_engine_serial.engine import run_serial

run_serial_workflow = engine_cli("serial", run_serial)
