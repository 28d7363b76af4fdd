"""The engine process contract: REANA's ``run-<type>-workflow`` arguments, signals, exit codes.

:func:`engine_cli` turns ``run(EngineRun) -> bool`` into the console script of an
engine. The harness decodes REANA's arguments (base64 JSON for the
specification, parameters and operational options), builds the run's
:class:`EngineRun` (job-controller client, :class:`.RunReporter`), and makes sure
every run ends exactly once, whatever happens:

- SIGTERM (a stop, a deleted pod): the jobs the engine tracks are stopped and
  the run fails with "Workflow exited unexpectedly." (REANA's words); exit 1;
- an exception: the run fails with "Workflow failed: <message>"; exit 1;
- ``run`` returns without an end: True publishes ``finished``, False a failure.

The exit code is 0 exactly when the run ended ``finished``.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from reana_commons.config import get_config
from reana_commons.engine.job_controller_client import JobControllerClient
from reana_commons.engine.jobs import WorkflowResources
from reana_commons.engine.reporter import FINISHED, LIVE_FLUSH_SECONDS, RunReporter

DEFAULT_JOB_CONTROLLER_URL = "http://127.0.0.1:5000"
JOB_CONTROLLER_URL_FILE = "REANA_JOB_CONTROLLER_URL_FILE"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
UNEXPECTED_EXIT = "Workflow exited unexpectedly."
NO_RESULT = "Workflow failed: the engine ended without a result."


def decode_b64_json(value: str | None, default):
    """REANA's ``--workflow-json`` encoding: base64 of JSON (empty → ``default``)."""
    if not value:
        return default
    return json.loads(base64.b64decode(value).decode())


def read_option(options: dict | None, name: str, default=None):
    """Operational option ``name`` of ``options``, matched case-insensitively."""
    for key, value in (options or {}).items():
        if str(key).upper() == name.upper():
            return value
    return default


def job_controller_url() -> str:
    """Where the run's job controller listens, when the environment says it up front
    (``REANA_JOB_CONTROLLER_URL``; see :func:`published_job_controller_url`)."""
    return os.environ.get("REANA_JOB_CONTROLLER_URL") or DEFAULT_JOB_CONTROLLER_URL


def published_job_controller_url(timeout: float) -> str | None:
    """The URL the run's job controller wrote to the file ``REANA_JOB_CONTROLLER_URL_FILE``
    names (a local run's job controller binds a free port itself and publishes it there),
    waiting up to ``timeout`` seconds for it; None when no such file is named."""
    url_file = os.environ.get(JOB_CONTROLLER_URL_FILE)
    if not url_file:
        return None
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            url = Path(url_file).read_text().strip()
        except FileNotFoundError:
            url = ""
        if url:
            return url
        if time.monotonic() >= deadline:
            raise RuntimeError(f"the job controller did not start within {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def job_controller_token() -> str | None:
    """The token the run's job controller expects, if any (``REANA_JOB_CONTROLLER_TOKEN``)."""
    return os.environ.get("REANA_JOB_CONTROLLER_TOKEN") or None


def job_controller_client() -> JobControllerClient:
    """A client of the run's job controller, as the environment describes it."""
    return JobControllerClient(job_controller_url(), token=job_controller_token(),
                               submit_timeout=get_config().job_controller_start_timeout)


@dataclass
class EngineRun:
    """One run as the engine sees it: its arguments, its job controller, its reporter."""

    workflow_uuid: str
    workspace: str
    specification: dict
    parameters: dict
    options: dict
    workflow_file: str | None
    jobs: JobControllerClient
    reporter: RunReporter
    job_controller_wait: float = READY_TIMEOUT_SECONDS
    resources: WorkflowResources = field(default_factory=WorkflowResources.from_environment)
    """The run's ``workflow.resources`` (from REANA's engine environment)."""
    _tracked: set[str] = field(default_factory=set, repr=False)
    _tracked_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def log(self):
        """The engine's logger (see :attr:`.RunReporter.log`)."""
        return self.reporter.log

    def option(self, name: str, default=None):
        """Operational option ``name`` (case-insensitive), or ``default``."""
        return read_option(self.options, name, default)

    def jobs_ready(self) -> None:
        """Block until the job controller answers (call it after :meth:`.RunReporter.running`,
        so the broker connection and the job controller's start-up overlap); :attr:`jobs`
        then talks to the URL the job controller published, when it publishes one."""
        url = published_job_controller_url(self.job_controller_wait)
        if url:
            self.jobs = JobControllerClient(url, token=self.jobs.token,
                                            submit_timeout=self.jobs.submit_timeout)
        self.jobs.wait_until_ready(timeout=self.job_controller_wait)

    def track(self, job_id: str) -> None:
        """Stop ``job_id`` if the engine is terminated before it ends."""
        with self._tracked_lock:
            self._tracked.add(job_id)

    def untrack(self, job_id: str) -> None:
        """``job_id`` ended: nothing to stop any more."""
        with self._tracked_lock:
            self._tracked.discard(job_id)

    def tracked(self) -> list[str]:
        """The jobs that would be stopped now."""
        with self._tracked_lock:
            return sorted(self._tracked)

    def submit(self, cmd: str, **fields) -> str:
        """Submit shell string ``cmd`` as a job (fields: :func:`.jobs.job_request`) and track it."""
        job_id = self.jobs.submit(cmd, **fields)
        self.track(job_id)
        return job_id

    def wait(self, job_id: str, timeout: float | None = None) -> dict:
        """The job once it ended (untracked then), or as it is after ``timeout``."""
        job = self.jobs.wait(job_id, timeout=timeout)
        if job["status"] in ("finished", "failed", "stopped"):
            self.untrack(job_id)
        return job

    def stop_jobs(self) -> None:
        """Stop every tracked job (best effort: the job controller may be gone)."""
        # A fresh client: the signal may have interrupted a call on this thread's connection.
        client = JobControllerClient(self.jobs.base_url, timeout=STOP_TIMEOUT_SECONDS,
                                     token=self.jobs.token)
        for job_id in self.tracked():
            try:
                client.stop(job_id)
            except Exception:  # noqa: BLE001 - the job controller may be gone already
                pass

    def fail(self, reason: str) -> None:
        """Log ``reason`` and publish the run failed with it (unless it ended)."""
        self.log.error("%s", reason)
        self.reporter.failed(reason)


def _terminate(run: EngineRun, _signum, _frame) -> None:
    run.stop_jobs()

    def fail_and_exit() -> None:
        run.fail(UNEXPECTED_EXIT)
        raise SystemExit(1)

    run.reporter.when_idle(fail_and_exit)


def execute(run: EngineRun, engine: Callable[[EngineRun], bool]) -> int:
    """Run ``engine`` on ``run`` so that the run ends exactly once; the exit code."""
    try:
        result = engine(run)
        if not run.reporter.ended:
            if result:
                run.reporter.finished()
            else:
                run.fail(NO_RESULT)
    except Exception as error:  # noqa: BLE001 - any error fails the run with its text
        try:
            run.fail(f"Workflow failed: {getattr(error, 'message', None) or error}")
        except Exception as publish_error:  # noqa: BLE001 - e.g. the broker is down too
            run.log.error("could not publish the failure: %s", publish_error)
    return 0 if run.reporter.end_status == FINISHED else 1


def engine_cli(name: str, run: Callable[[EngineRun], bool],
               logger_name: str | None = None) -> click.Command:
    """The ``run-<name>-workflow`` command calling ``run`` (its logger: ``logger_name``)."""

    @click.command(name=f"run-{name}-workflow")
    @click.option("--workflow-uuid", required=True)
    @click.option("--workflow-workspace", required=True)
    @click.option("--workflow-json", default="", help="Base64 JSON of the specification.")
    @click.option("--workflow-file", default=None, help="The workflow file, in the workspace.")
    @click.option("--workflow-parameters", default="", help="Base64 JSON of the parameters.")
    @click.option("--operational-options", default="",
                  help="Base64 JSON of the operational options.")
    @click.option("--job-controller-wait", default=None, type=float,
                  help="Seconds to wait for the job controller to answer (default: "
                       "REANA_JOB_CONTROLLER_START_TIMEOUT, 300: as long as the run manager "
                       "waits for it, which ends this engine when the start fails).")
    def command(workflow_uuid, workflow_workspace, workflow_json, workflow_file,
                workflow_parameters, operational_options, job_controller_wait):
        reporter = RunReporter(workflow_uuid, logger_name or f"reana-workflow-engine-{name}",
                               flush_seconds=LIVE_FLUSH_SECONDS)
        if job_controller_wait is None:
            job_controller_wait = get_config().job_controller_start_timeout
        engine_run = EngineRun(workflow_uuid, workflow_workspace, {}, {}, {}, workflow_file,
                               job_controller_client(), reporter, job_controller_wait)
        signal.signal(signal.SIGTERM, lambda signum, frame: _terminate(engine_run, signum, frame))

        def decoded_then_run(current: EngineRun) -> bool:
            current.specification = decode_b64_json(workflow_json, {})
            current.parameters = decode_b64_json(workflow_parameters, {})
            current.options = decode_b64_json(operational_options, {})
            return run(current)

        sys.exit(execute(engine_run, decoded_then_run))

    command.help = f"Run one {name} workflow through its job controller (REANA's engine CLI)."
    return command
