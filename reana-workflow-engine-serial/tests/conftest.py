"""Fixtures of the serial engine tests: a real job controller, real messaging, the engine CLI."""

from __future__ import annotations

from reana_testing.engine import JsonSpecEnginePlatform, platform_fixture


class Platform(JsonSpecEnginePlatform):
    engine_main = "from reana_workflow_engine_serial.cli import run_serial_workflow as r; r()"


platform = platform_fixture(Platform)
"""A running workflow with its job controller; the engine started by the test."""
