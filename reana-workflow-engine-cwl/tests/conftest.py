"""Fixtures of the CWL engine tests: a real job controller, real messaging, the engine CLI.

The engine does not touch the database or the broker itself (the kit does, and has
its own tests on every profile), so these tests use the embedded profile only.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.pytest_plugin import apply_env

ENGINE_MAIN = "from reana_workflow_engine_cwl.cli import run_cwl_workflow as r; r()"


def b64json(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@pytest.fixture
def database_uri(reana_home):
    """SQLite only (see the module docstring)."""
    return f"sqlite:///{reana_home / 'reana.db'}"


@pytest.fixture
def broker(reana_home):
    """The embedded broker only (see the module docstring)."""
    return f"sqla+sqlite:///{reana_home / 'broker.db'}", "cwltest-"


@dataclass
class Platform:
    workflow: object
    job_controller: JobControllerProcess

    @property
    def workspace(self) -> Path:
        return Path(self.workflow.workspace_path)

    def start_engine(self, spec: dict, parameters: dict | None = None,
                     options: dict | None = None) -> subprocess.Popen:
        """Start ``run-cwl-workflow`` for the workflow."""
        env = dict(os.environ, REANA_JOB_CONTROLLER_URL=self.job_controller.url,
                   REANA_JOB_CONTROLLER_TOKEN=self.job_controller.token)
        return subprocess.Popen(
            [sys.executable, "-c", ENGINE_MAIN,
             "--workflow-uuid", str(self.workflow.id_),
             "--workflow-workspace", self.workflow.workspace_path,
             "--workflow-json", b64json(spec),
             "--workflow-parameters", b64json(parameters or {}),
             "--operational-options", b64json(options or {})],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def run_engine(self, spec, parameters=None, options=None, timeout=120):
        """Run the engine to its end; returns ``(returncode, stderr)``."""
        process = self.start_engine(spec, parameters, options)
        _out, err = process.communicate(timeout=timeout)
        return process.returncode, err

    def messages(self, timeout: float = 1.0) -> list[dict]:
        """Every ``jobs-status`` message published so far, in order."""
        from reana_commons.engine.conformance import collect_status_messages

        return collect_status_messages(timeout)

    def jobs(self) -> dict:
        """The job controller's jobs by id."""
        return requests.get(self.job_controller.url + "/jobs", headers=self.job_controller.headers,
                            timeout=5).json()["jobs"]

    def write(self, relative: str, text: str) -> Path:
        path = self.workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


@pytest.fixture
def platform(db, user, reana_env, broker, monkeypatch, reana_home):
    """A workflow with its running job controller; messaging on the embedded broker."""
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


@pytest.fixture
def pack(tmp_path):
    """``pack(files)``: the packed document of ``files`` (CWL YAML by name), as
    ``cwltool --pack`` (and so reana-client) makes it."""
    folder = tmp_path / "cwl-sources"
    folder.mkdir()
    return lambda files, main="main.cwl": _pack(folder, files, main)


def _pack(folder: Path, files: dict[str, str], main: str) -> dict:
    import io

    from cwltool.main import main as cwltool_main

    for name, text in files.items():
        (folder / name).write_text(text)
    out, err = io.StringIO(), io.StringIO()
    code = cwltool_main(["--pack", str(folder / main)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())
