"""Job managers of a polled batch backend (Slurm, HTCondor) driven in-process by tests.

:class:`ManagerFactory` builds started managers of one backend on one workspace (all
for the same run, as a restarted job controller would be), records every job end the
managers report, and closes them all at the end. The backend's monitor period is
shortened and SSH is switched off (the managers submit locally).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

MONITOR_VARIABLES = {
    "slurm": ("REANA_SLURM_MONITOR_INTERVAL", "SLURM_HOSTNAME"),
    "htcondorcern": ("REANA_HTCONDOR_MONITOR_INTERVAL", "HTCONDOR_HOSTNAME"),
}
"""Per backend: the variable of its monitor period, the one that switches SSH on."""


class ManagerFactory:
    """``factory(secrets, files_dir)`` builds and starts one more manager of ``backend``."""

    def __init__(self, backend: str, tmp_path: Path, monkeypatch, interval: str = "0.3"):
        from reana_commons.config import reset_config

        interval_variable, hostname_variable = MONITOR_VARIABLES[backend]
        monkeypatch.setenv("REANA_HOME", str(tmp_path / "home"))
        monkeypatch.setenv(interval_variable, interval)
        monkeypatch.delenv(hostname_variable, raising=False)
        reset_config()
        self.backend = backend
        self.run_dir = tmp_path / "run"
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.workflow_uuid = str(uuid.uuid4())
        self._managers: list = []
        self._ended: dict = {}
        self._cond = threading.Condition()

    def __call__(self, secrets: dict | None = None, files_dir: Path | None = None):
        from reana_job_controller.job_managers import BackendContext, load_job_manager

        context = BackendContext(workflow_uuid=self.workflow_uuid, workspace=self.workspace,
                                 run_dir=self.run_dir, job_env=lambda: secrets or {},
                                 secret_files_dir=lambda: files_dir)
        manager = load_job_manager(self.backend)(context)
        manager.start(self._on_completion)
        self._managers.append(manager)
        return manager

    def _on_completion(self, job_id, state) -> None:
        with self._cond:
            self._ended[job_id] = state
            self._cond.notify_all()

    def wait_ended(self, job_ids, timeout: float = 60.0) -> dict:
        """The end state each of ``job_ids`` was reported with (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(i in self._ended for i in job_ids):
                assert self._cond.wait(max(deadline - time.monotonic(), 0)), "jobs did not end"
            return {i: self._ended[i] for i in job_ids}

    def close(self) -> None:
        from reana_commons.config import reset_config

        for manager in self._managers:
            manager.close()
        reset_config()
