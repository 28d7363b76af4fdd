"""Fixtures of the yadage engine's unit tests: the engine in-process, jobs as local processes.

The engine's own process, with a real job controller and real messaging, is
exercised by the engine conformance suite and the end-to-end tests (``tests/``);
here :class:`LocalJobs` stands in for the job controller's client with the same
contract (``sh -c <cmd>``, terminal statuses, logs, stop), so the engine's logic
runs in the test process and its published messages can be inspected.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("yadage", reason="the yadage engine's tests run in .venv-engines")

from reana_commons.engine.harness import EngineRun, execute  # noqa: E402
from reana_commons.engine.reporter import RunReporter  # noqa: E402
from reana_workflow_engine_yadage.engine import LOGGER_NAME, run_yadage  # noqa: E402

MULTISTAGE = Path(__file__).parent / "workflows" / "multistage"


class LocalJobs:
    """The job controller client's contract, with each job a local ``sh -c`` process."""

    base_url = "http://127.0.0.1:9"  # nothing listens: a stop through a new client fails
    token = None

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self.jobs: dict[str, dict] = {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        return None

    def submit(self, cmd: str, **fields) -> str:
        job_id = str(uuid.uuid4())
        process = subprocess.Popen(["sh", "-c", cmd], cwd=self.workspace, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        with self.lock:
            self.jobs[job_id] = dict(fields, job_id=job_id, cmd=cmd, status="running",
                                     started=time.monotonic(), logs="")
            self.processes[job_id] = process
        return job_id

    def get(self, job_id: str) -> dict:
        with self.lock:
            return dict(self.jobs[job_id])

    def wait(self, job_id: str, timeout: float | None = None) -> dict:
        process = self.processes[job_id]
        output, _ = process.communicate(timeout=timeout)
        with self.lock:
            job = self.jobs[job_id]
            if job["status"] == "running":
                job["status"] = "finished" if process.returncode == 0 else "failed"
            job.update(exit_code=process.returncode, logs=output, ended=time.monotonic())
            return dict(job)

    def logs(self, job_id: str) -> str:
        with self.lock:
            return self.jobs[job_id]["logs"]

    def stop(self, job_id: str) -> None:
        with self.lock:
            self.jobs[job_id]["status"] = "stopped"
        try:
            import os

            os.killpg(self.processes[job_id].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class EngineHarness:
    """One run of the engine in this process; ``messages`` are what it published."""

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self.messages: list[dict] = []
        self.jobs = LocalJobs(workspace)

    def publish(self, workflow_uuid, status, logs="", message=None, seq=None):
        self.messages.append({"workflow_uuid": workflow_uuid, "status": status, "logs": logs,
                              "message": message, "seq": seq})

    def engine_run(self, workflow_file=None, parameters=None, options=None,
                   specification=None) -> EngineRun:
        reporter = RunReporter(str(uuid.uuid4()), LOGGER_NAME, publish=self.publish,
                               stream=None)
        return EngineRun(reporter.workflow_uuid, str(self.workspace), specification or {},
                         parameters or {}, options or {}, workflow_file, self.jobs, reporter)

    def run(self, workflow_file=None, parameters=None, options=None,
            specification=None) -> int:
        """The exit code the engine process would have (0: finished)."""
        return execute(self.engine_run(workflow_file, parameters, options, specification),
                       run_yadage)

    @property
    def logs(self) -> str:
        return "".join(m["logs"] or "" for m in self.messages)

    def progress(self, key: str) -> list:
        """Every ``key`` counter the run published, in order."""
        return [m["message"]["progress"][key] for m in self.messages
                if m["message"] and key in m["message"]["progress"]]

    def job_ids(self, key: str) -> set[str]:
        return {j for item in self.progress(key) for j in item["job_ids"]}


@pytest.fixture
def engine(tmp_path) -> EngineHarness:
    return EngineHarness(tmp_path)


@pytest.fixture
def multistage(tmp_path) -> EngineHarness:
    """A workspace holding the multi-stage workflow and its inputs."""
    shutil.copytree(MULTISTAGE, tmp_path, dirs_exist_ok=True)
    return EngineHarness(tmp_path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> EngineHarness:
    """One successful run of the multi-stage workflow (each stage pauses 1 s), shared."""
    workspace = tmp_path_factory.mktemp("multistage")
    shutil.copytree(MULTISTAGE, workspace, dirs_exist_ok=True)
    harness = EngineHarness(workspace)
    parameters = {"names": ["jane", "joe", "ada"], "namesfile": "data/names.txt",
                  "fail_on": "nobody", "pause": 1}
    assert harness.run("workflow/workflow.yaml", parameters) == 0, harness.logs
    return harness


@pytest.fixture
def parameters() -> dict:
    """The multi-stage workflow's parameters (as its reana.yaml has them)."""
    return {"names": ["jane", "joe", "ada"], "namesfile": "data/names.txt",
            "fail_on": "nobody", "pause": 0}
