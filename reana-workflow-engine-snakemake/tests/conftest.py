"""Fixtures of the Snakemake engine tests: a real job controller, real messaging, the engine CLI.

One profile only (SQLite, the embedded broker): the engine touches neither the
database nor the broker itself (the job controller and the kit's reporter do,
and their own tests cover PostgreSQL and RabbitMQ).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from reana_testing.engine import (  # noqa: F401 - fixtures: the embedded profile only
    EnginePlatform,
    b64json,
    embedded_broker_only,
    platform_fixture,
    sqlite_only,
)
from reana_testing.pytest_plugin import apply_env


class Platform(EnginePlatform):
    engine_main = "from reana_workflow_engine_snakemake.cli import run_snakemake_workflow as r; r()"
    messages_timeout = 0.5

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

    def start_engine(self, snakefile: str | None = "Snakefile", parameters: dict | None = None,
                     options: dict | None = None, env: dict | None = None):
        args = ["--workflow-file", snakefile] if snakefile else []
        return self.start_process(*args, "--workflow-parameters", b64json(parameters or {}),
                                  "--operational-options", b64json(options or {}), env=env)

    def run_engine(self, snakefile="Snakefile", parameters=None, options=None, timeout=90,
                   env=None):
        """Run the engine to its end; ``(returncode, stderr, messages)``."""
        process = self.start_engine(snakefile, parameters, options, env)
        _out, err = process.communicate(timeout=timeout)
        return process.returncode, err, self.messages()


platform = platform_fixture(Platform)
"""A running workflow with its job controller; the engine started by the test."""


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
