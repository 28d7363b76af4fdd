"""Fixtures of the Snakemake engine tests: a real job controller, real messaging, the engine CLI.

One profile only (SQLite, the embedded broker): the engine touches neither the
database nor the broker itself (the job controller and the kit's reporter do,
and their own tests cover PostgreSQL and RabbitMQ).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.pytest_plugin import apply_env

ENGINE = "from reana_workflow_engine_snakemake.cli import run_snakemake_workflow as r; r()"


def b64json(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@dataclass
class Platform:
    workflow: object
    job_controller: JobControllerProcess

    @staticmethod
    def progress_of(message: dict, key: str):
        return ((message.get("message") or {}).get("progress") or {}).get(key)

    @classmethod
    def job_ids(cls, messages: list[dict], key: str) -> list[str]:
        """Every job id published under ``key`` (running, finished, failed), in order."""
        return [job_id for m in messages
                for job_id in (cls.progress_of(m, key) or {}).get("job_ids", [])]

    @staticmethod
    def logs(messages: list[dict]) -> str:
        return "".join(m.get("logs") or "" for m in messages)

    @property
    def workspace(self) -> Path:
        return Path(self.workflow.workspace_path)

    def write(self, name: str, text: str) -> Path:
        path = self.workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def start_engine(self, snakefile: str | None = "Snakefile", parameters: dict | None = None,
                     options: dict | None = None, env: dict | None = None) -> subprocess.Popen:
        env = dict(os.environ, REANA_JOB_CONTROLLER_URL=self.job_controller.url,
                   REANA_JOB_CONTROLLER_TOKEN=self.job_controller.token, **(env or {}))
        argv = [sys.executable, "-c", ENGINE, "--workflow-uuid", str(self.workflow.id_),
                "--workflow-workspace", self.workflow.workspace_path]
        if snakefile:
            argv += ["--workflow-file", snakefile]
        argv += ["--workflow-parameters", b64json(parameters or {}),
                 "--operational-options", b64json(options or {})]
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def run_engine(self, snakefile="Snakefile", parameters=None, options=None, timeout=90,
                   env=None):
        """Run the engine to its end; ``(returncode, stderr, messages)``."""
        process = self.start_engine(snakefile, parameters, options, env)
        _out, err = process.communicate(timeout=timeout)
        return process.returncode, err, self.messages()

    def messages(self, timeout: float = 0.5) -> list[dict]:
        """Every ``jobs-status`` message published since the last call, in order."""
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

    def jobs(self) -> dict:
        import requests

        return requests.get(self.job_controller.url + "/jobs", headers=self.job_controller.headers,
                            timeout=5).json()["jobs"]


@pytest.fixture
def database_uri(reana_home):
    yield f"sqlite:///{reana_home / 'reana.db'}"


@pytest.fixture
def platform(db, user, reana_env, monkeypatch, reana_home):
    """A running workflow with its job controller; messaging on the embedded broker."""
    apply_env(monkeypatch, {"RABBIT_MQ": f"sqla+sqlite:///{reana_home / 'broker.db'}"})
    workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"])
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield Platform(workflow, process)
    process.kill()
    from reana_commons.messaging import close_shared_connections

    close_shared_connections()


@pytest.fixture
def snakemake_in_jobs(monkeypatch):
    """Jobs on the host see this venv (Snakemake's): what a ``run:``/``script:`` rule's job
    needs (in a real deployment, the rule's image: REANA's default is Snakemake's own).
    Request it before ``platform``: the job controller reads it when it starts."""
    venv = Path(sys.prefix)
    apply_env(monkeypatch, {
        "REANA_LOCAL_JOB_READONLY_PATHS": os.pathsep.join((str(venv), sys.base_prefix)),
        "PATH": os.pathsep.join((str(venv / "bin"), os.environ.get("PATH", ""))),
    })
