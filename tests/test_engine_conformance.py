"""Engine conformance: every registered engine speaks REANA's process and status protocol.

Each engine registered in the ``reana.workflow_engines.conformance`` entry-point group
(in this environment or in the engines' venv) runs its tiny workflows
(:mod:`reana_commons.engine.conformance`) through its console script, against a real
job controller process and real messaging: running first, seq from 1, exactly one
end, progress totals; SIGTERM → failed with its reason and its jobs stopped; the job
controller gone → failed; the platform's stop → jobs stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from reana_commons.engine.conformance import (
    FAILED,
    FINISHED,
    ConformanceWorkflow,
    check_progress,
    check_protocol,
    collect_status_messages,
    conformance_workflows,
)
from reana_commons.engine.harness import UNEXPECTED_EXIT
from reana_commons.engine.job_controller_client import JobControllerClient
from reana_commons.workflow_types import engine_executable, workflow_type
from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.pytest_plugin import apply_env

WORKFLOWS = conformance_workflows()
ENGINES = sorted(WORKFLOWS)
RUN_TIMEOUT = 180

pytestmark = [
    pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
    pytest.mark.parametrize("broker", ["embedded"], indirect=True),
    pytest.mark.parametrize("engine", ENGINES),
]


@dataclass
class Run:
    """One engine process on one workflow, with its job controller."""

    engine: str
    workflow: object
    job_controller: JobControllerProcess
    process: subprocess.Popen | None = None

    @property
    def workspace(self) -> Path:
        return Path(self.workflow.workspace_path)

    def start(self, variant: str) -> ConformanceWorkflow:
        spec = WORKFLOWS[self.engine][variant]
        spec.write_files(self.workspace)
        type_ = workflow_type(self.engine)
        argv = type_.engine_argv(self.workflow.id_, self.workspace, spec.specification,
                                 spec.workflow_file, spec.parameters, spec.options)
        executable = engine_executable(argv[0])
        assert executable, f"{argv[0]} is not installed"
        env = dict(os.environ, REANA_JOB_CONTROLLER_URL=self.job_controller.url,
                   REANA_JOB_CONTROLLER_TOKEN=self.job_controller.token)
        self.process = subprocess.Popen([executable, *argv[1:]], env=env, cwd=self.workspace,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        return spec

    def end(self, timeout: float = RUN_TIMEOUT) -> tuple[int, str]:
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, output

    def messages(self) -> list[dict]:
        return collect_status_messages(timeout=0.5)

    def jobs(self) -> dict:
        return JobControllerClient(self.job_controller.url, token=self.job_controller.token).list()

    def wait_for_running_job(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [j for j, job in self.jobs().items() if job["status"] == "running"]
            if running:
                return running[0]
            assert self.process.poll() is None, self.end()[1]
            time.sleep(0.05)
        raise AssertionError("no job started running")

    def leftover_processes(self) -> list[psutil.Process]:
        """Processes of the run's jobs (tagged with the run's uuid) still alive."""
        left = []
        for process in psutil.process_iter():
            try:
                if process.environ().get("REANA_WORKFLOW_UUID") == str(self.workflow.id_):
                    left.append(process)
            except (psutil.Error, OSError):
                continue
        return left


@pytest.fixture
def run(engine, db, user, reana_env, broker, monkeypatch, reana_home):
    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})
    workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"],
                               name=f"conformance-{uuid.uuid4().hex[:6]}")
    workflow.type_ = engine
    db.commit()
    job_controller = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                          reana_home / "run" / str(workflow.id_))
    job_controller.start()
    current = Run(engine, workflow, job_controller)
    yield current
    if current.process is not None and current.process.poll() is None:
        current.process.kill()
        current.process.communicate(timeout=10)
    job_controller.kill()
    from reana_commons.messaging import close_shared_connections

    close_shared_connections()


def _logs(messages: list[dict]) -> str:
    return "".join(m.get("logs") or "" for m in messages)


def test_two_jobs_finish(run):
    spec = run.start("two_jobs")
    code, output = run.end()
    messages = run.messages()
    assert code == 0, output + _logs(messages)
    assert check_protocol(messages, run.workflow.id_) == FINISHED
    check_progress(messages, spec.jobs)
    assert all(job["status"] == "finished" for job in run.jobs().values())


def test_failing_job_fails_the_run(run):
    spec = run.start("failing")
    code, output = run.end()
    messages = run.messages()
    assert code == 1, output
    assert check_protocol(messages, run.workflow.id_) == FAILED
    check_progress(messages, spec.jobs, failed=1)


def test_sigterm_fails_with_its_reason_and_stops_the_jobs(run):
    run.start("long")
    run.wait_for_running_job()
    run.process.send_signal(signal.SIGTERM)
    code, output = run.end(timeout=30)
    messages = run.messages()
    assert code == 1, output
    assert check_protocol(messages, run.workflow.id_) == FAILED
    assert UNEXPECTED_EXIT in messages[-1]["logs"]
    jobs = run.jobs()
    assert jobs and all(job["status"] == "stopped" for job in jobs.values()), jobs
    assert not run.leftover_processes()


def test_job_controller_gone_fails_the_run(run):
    run.start("long")
    run.wait_for_running_job()
    run.job_controller.kill()
    started = time.monotonic()
    code, output = run.end(timeout=60)
    assert code == 1, output
    assert time.monotonic() - started < 45
    assert check_protocol(run.messages(), run.workflow.id_) == FAILED


def test_stop_stops_the_jobs(run, db):
    """A user's stop, as the local run manager does it (job controller shutdown, SIGTERM)."""
    from reana_db.enums import JobStatus
    from reana_db.models import Job
    from reana_workflow_controller.run_managers import get_run_manager
    from sqlalchemy import select

    run.start("long")
    run.wait_for_running_job()
    handle = {"workflow_uuid": str(run.workflow.id_),
              "job_controller_url": run.job_controller.url}
    for name, process in (("engine", run.process), ("job_controller", run.job_controller.process)):
        created = psutil.Process(process.pid).create_time()
        handle[name] = {"pid": process.pid, "create_time": created}
    get_run_manager("local").stop(None, handle)
    code, output = run.end(timeout=30)
    assert code != 0, output
    check_protocol(run.messages(), run.workflow.id_)
    db.expire_all()
    statuses = db.scalars(select(Job.status).where(Job.workflow_uuid == run.workflow.id_)).all()
    assert statuses and all(JobStatus(s) == JobStatus.stopped for s in statuses), statuses
    assert not run.leftover_processes()
