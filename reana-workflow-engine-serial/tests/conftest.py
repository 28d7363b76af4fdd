"""Fixtures of the serial engine tests: a real job controller, real messaging, the engine CLI."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.pytest_plugin import apply_env


def b64json(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@dataclass
class Platform:
    workflow: object
    job_controller: JobControllerProcess

    @property
    def workspace(self) -> Path:
        return Path(self.workflow.workspace_path)

    def start_engine(self, spec: dict, parameters: dict | None = None,
                     options: dict | None = None, extra_args=()) -> subprocess.Popen:
        """Start ``run-serial-workflow`` for the workflow."""
        env = dict(os.environ, REANA_JOB_CONTROLLER_URL=self.job_controller.url,
                   REANA_JOB_CONTROLLER_TOKEN=self.job_controller.token)
        return subprocess.Popen(
            [sys.executable, "-c",
             "from reana_workflow_engine_serial.cli import run_serial_workflow as r; r()",
             "--workflow-uuid", str(self.workflow.id_),
             "--workflow-workspace", self.workflow.workspace_path,
             "--workflow-json", b64json(spec),
             "--workflow-parameters", b64json(parameters or {}),
             "--operational-options", b64json(options or {}), *extra_args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def run_engine(self, spec, parameters=None, options=None, timeout=60, extra_args=()):
        """Run the engine to its end; returns ``(returncode, stderr)``."""
        process = self.start_engine(spec, parameters, options, extra_args)
        _out, err = process.communicate(timeout=timeout)
        return process.returncode, err

    def messages(self, timeout: float = 1.0) -> list[dict]:
        """Every ``jobs-status`` message published so far, in order."""
        from reana_commons.messaging import BaseConsumer, get_connection, jobs_status_queue

        bodies: list[dict] = []

        class Collector(BaseConsumer):
            queue = staticmethod(jobs_status_queue)

            def handle(self, body, message):
                bodies.append(body)

        connection = get_connection()
        try:
            Collector(connection=connection).drain(timeout=timeout)
        finally:
            connection.release()
        return bodies


@pytest.fixture
def platform(db, user, reana_env, broker, monkeypatch, reana_home):
    """A running workflow with its job controller; messaging on ``broker``."""
    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})
    workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"])
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield Platform(workflow, process)
    process.kill()
    from reana_commons.messaging import close_shared_connections

    close_shared_connections()
