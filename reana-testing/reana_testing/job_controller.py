"""Helpers for tests that need a real job controller process (used by engines' tests too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from reana_commons.service_auth import TOKEN_VARIABLE, bearer, run_token


def create_workflow(session, user, shared_volume: Path, name: str = "test-wf"):
    """Insert a ``running`` serial workflow of ``user`` with an empty workspace."""
    import uuid

    from reana_db.enums import RunStatus
    from reana_db.models import Workflow

    workflow_id = uuid.uuid4()
    workspace = Path(shared_volume) / "users" / str(user.id_) / "workflows" / str(workflow_id)
    workspace.mkdir(parents=True)
    workflow = Workflow(id_=workflow_id, name=name, owner_id=user.id_, type_="serial",
                        run_number_major=1, workspace_path=str(workspace),
                        status=RunStatus.running, reana_specification={})
    session.add(workflow)
    session.commit()
    return workflow


class JobControllerProcess:
    """A ``reana-job-controller`` subprocess of one workflow (start, kill, restart)."""

    def __init__(self, workflow_uuid: str, workspace: str | Path, run_dir: Path,
                 extra_args: tuple[str, ...] = ("--resync-interval", "0.2")):
        self.workflow_uuid = str(workflow_uuid)
        self.workspace = str(workspace)
        self.run_dir = Path(run_dir)
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self.stderr_path = self.run_dir / "job-controller.stderr"
        self.token = run_token(self.workflow_uuid)
        """The run token, given as the run manager gives it (``REANA_JOB_CONTROLLER_TOKEN``)."""
        self.headers = bearer(self.token)
        """What a caller of this job controller must send."""

    def start(self, timeout: float = 30.0) -> str:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        url_file = self.run_dir / "job-controller.url"
        if url_file.exists():
            url_file.unlink()
        stderr = open(self.stderr_path, "ab")  # noqa: SIM115 - kept open by the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reana_job_controller.cli", "--workflow-uuid",
             self.workflow_uuid, "--workspace", self.workspace, "--port", "0",
             "--url-file", str(url_file), *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, TOKEN_VARIABLE: self.token},
        )
        stderr.close()
        deadline = time.monotonic() + timeout
        while not url_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("job controller did not start:\n" + self.stderr())
            time.sleep(0.02)
        self.url = url_file.read_text().strip()
        requests.get(self.url + "/jobs", headers=self.headers, timeout=5).raise_for_status()
        return self.url

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text()
        except OSError:
            return ""

    def kill(self, signum: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
