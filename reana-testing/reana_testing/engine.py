"""An engine's process against a real job controller and real messaging, for engines' tests.

Each engine's ``tests/conftest.py`` makes its ``platform`` fixture with
:func:`platform_fixture` of a subclass of :class:`EnginePlatform` that knows its
engine's command line (``engine_main`` and the arguments of ``start_engine``).
Engines that touch neither the database nor the broker themselves (the kit and
the job controller do, tested on every profile) run on the embedded profile
only: their conftest imports :func:`sqlite_only` and :func:`embedded_broker_only`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.pytest_plugin import apply_env


def b64json(value) -> str:
    """How run managers pass JSON arguments on an engine's command line."""
    return base64.b64encode(json.dumps(value).encode()).decode()


@dataclass
class EnginePlatform:
    """A workflow with its running job controller; starts the engine's console script."""

    workflow: object
    job_controller: JobControllerProcess
    engine_main = ""
    """Python code running the engine's console script (``python -c``)."""
    messages_timeout = 1.0
    """Seconds :meth:`messages` waits for one more message."""

    @property
    def workspace(self) -> Path:
        return Path(self.workflow.workspace_path)

    def write(self, relative: str, text: str) -> Path:
        """Write ``text`` (dedented) into the workspace."""
        path = self.workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def start_process(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        """Start the engine for the workflow with ``args`` after its uuid and workspace
        (``env``: variables added to this process's environment)."""
        env = dict(os.environ, REANA_JOB_CONTROLLER_URL=self.job_controller.url,
                   REANA_JOB_CONTROLLER_TOKEN=self.job_controller.token, **(env or {}))
        argv = [sys.executable, "-c", self.engine_main,
                "--workflow-uuid", str(self.workflow.id_),
                "--workflow-workspace", self.workflow.workspace_path, *args]
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def messages(self, timeout: float | None = None) -> list[dict]:
        """Every ``jobs-status`` message published since the last call, in order."""
        from reana_commons.engine.conformance import collect_status_messages

        return collect_status_messages(self.messages_timeout if timeout is None else timeout)

    def jobs(self) -> dict:
        """The job controller's jobs by id."""
        return requests.get(self.job_controller.url + "/jobs",
                            headers=self.job_controller.headers, timeout=5).json()["jobs"]


class JsonSpecEnginePlatform(EnginePlatform):
    """An engine given its specification as JSON on its command line (serial, CWL)."""

    run_timeout = 60.0

    def start_engine(self, spec: dict, parameters: dict | None = None,
                     options: dict | None = None, extra_args=()) -> subprocess.Popen:
        return self.start_process("--workflow-json", b64json(spec),
                                  "--workflow-parameters", b64json(parameters or {}),
                                  "--operational-options", b64json(options or {}), *extra_args)

    def run_engine(self, spec, parameters=None, options=None, timeout=None, extra_args=()):
        """Run the engine to its end; returns ``(returncode, stderr)``."""
        process = self.start_engine(spec, parameters, options, extra_args)
        _out, err = process.communicate(timeout=timeout or self.run_timeout)
        return process.returncode, err


@contextmanager
def engine_platform(cls: type[EnginePlatform], db, user, reana_env, reana_home, monkeypatch,
                    broker: tuple[str, str]) -> Iterator[EnginePlatform]:
    """A running workflow with its job controller (killed after), messaging on ``broker``."""
    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})
    workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"])
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    try:
        yield cls(workflow, process)
    finally:
        process.kill()
        from reana_commons.messaging import close_shared_connections

        close_shared_connections()


def platform_fixture(cls: type[EnginePlatform]):
    """The ``platform`` fixture of an engine's tests: :func:`engine_platform` of ``cls``."""

    @pytest.fixture
    def platform(db, user, reana_env, broker, monkeypatch, reana_home):
        with engine_platform(cls, db, user, reana_env, reana_home, monkeypatch,
                             broker) as running:
            yield running

    return platform


@pytest.fixture(name="database_uri")
def sqlite_only(reana_home):
    """SQLite only, for tests whose code does not touch the database itself."""
    return f"sqlite:///{reana_home / 'reana.db'}"


@pytest.fixture(name="broker")
def embedded_broker_only(reana_home):
    """The embedded broker only, for tests whose code does not touch the broker itself."""
    return f"sqla+sqlite:///{reana_home / 'broker.db'}", "enginetest-"
