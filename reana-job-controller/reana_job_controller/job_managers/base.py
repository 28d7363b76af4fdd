"""The job manager interface: what a compute backend implements, and the cycle around it.

A backend implements four small methods (:meth:`JobManager.submit`,
:meth:`JobManager.status`, :meth:`JobManager.logs`, :meth:`JobManager.stop`).
The base class drives the bookkeeping around them (Airflow ``BaseExecutor``
style), so no backend can forget it:

* :meth:`JobManager.launch`: insert the job row → ``submit`` → record the
  backend id and status → ``follow`` (optional event source);
* :meth:`JobManager.complete`: fetch the logs → store status, exit code and
  logs in one update → ``cleanup``;
* :meth:`JobManager.terminate`: ``stop`` → store the logs so far → ``stopped``.

Backends report; the controller writes: they never touch the database.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from reana_db.enums import JobStatus


@dataclass
class JobRecord:
    """A snapshot of one job row (what backends and the REST API see)."""

    id: str
    workflow_uuid: str
    status: JobStatus
    cmd: str = ""
    docker_img: str = ""
    job_name: str = ""
    prettified_cmd: str = ""
    compute_backend: str = "local"
    backend_job_id: str | None = None
    env_vars: dict = field(default_factory=dict)
    cvmfs_mounts: str = ""
    exit_code: int | None = None
    spec: dict = field(default_factory=dict)
    logs: str = ""
    started_at: object = None
    finished_at: object = None
    created: object = None
    environment: dict = field(default_factory=dict)
    """Where and how the job ran, as its backend reported (:meth:`JobManager.environment`)."""

    @property
    def is_terminal(self) -> bool:
        return self.status in JobStatus.terminal()

    @property
    def workspace(self) -> str:
        return self.spec.get("workflow_workspace", "")


@dataclass(frozen=True)
class BackendState:
    """What a backend reports about one job."""

    status: JobStatus
    exit_code: int | None = None
    reason: str = ""

    @property
    def is_terminal(self) -> bool:
        return self.status in JobStatus.terminal()


@dataclass
class BackendContext:
    """Where a backend works: the run, its workspace and its private directory."""

    workflow_uuid: str
    workspace: Path
    run_dir: Path
    """Private to the job controller, outside the user's workspace listing (logs, secrets)."""
    job_env: Callable[[], dict]
    """Extra environment for every job (the user's secrets), computed once on first use."""
    secret_files_dir: Callable[[], Path | None]
    """Directory holding the user's file secrets (created on first use), or ``None``."""


CompletionCallback = Callable[[str, BackendState], None]
"""``callback(job_id, state)``: a backend that pushes events calls it when a job ended."""


class JobManager(ABC):
    """Base class of every compute backend; subclasses implement the four hooks."""

    name: ClassVar[str] = ""
    pushes_completion: ClassVar[bool] = False
    """True when the backend calls the completion callback itself (event-driven end)."""
    logs_while_running: ClassVar[bool] = True
    """True when :meth:`logs` returns the output so far while the job runs."""
    survives_restart: ClassVar[bool] = True
    """True when a restarted job controller can keep following jobs from their backend id."""
    libraries: ClassVar[tuple[str, ...]] = ()
    """Modules the backend imports on first use that cost seconds of CPU (imported before the
    job controller listens, or once by the zygote: never inside a job's submission)."""
    writes_live_log: ClassVar[bool] = False
    """True when a job's output goes straight into its live log file
    (:func:`reana_commons.live_logs.live_log_path`); otherwise the controller copies
    what :meth:`output_since` reports there while the job runs (ADR 0026)."""

    def __init__(self, context: BackendContext):
        self.context = context
        self._on_completion: CompletionCallback | None = None
        self._stopping: dict[str, str] = {}
        """Jobs being stopped → the reason of the stop (whoever stores their end first)."""

    # --- hooks a backend implements -----------------------------------------------------
    @abstractmethod
    def submit(self, job: JobRecord) -> str:
        """Start ``job`` on the backend; returns its backend job id."""

    @abstractmethod
    def status(self, backend_job_ids: Sequence[str]) -> dict[str, BackendState]:
        """Current state of many jobs in one call; ids the backend does not know are failed."""

    @abstractmethod
    def logs(self, job: JobRecord) -> str:
        """The job's output (so far, when :attr:`logs_while_running`)."""

    @abstractmethod
    def stop(self, backend_job_id: str) -> None:
        """Stop the job and everything it started; returns without waiting for the end."""

    def environment(self, job: JobRecord) -> dict:
        """Where and how an ended job ran: ``node``, ``runtime`` and, where the runtime
        reports one, ``image_digest`` (provenance; called before :meth:`cleanup`)."""
        return {"node": socket.gethostname(), "runtime": self.name}

    def output_since(self, job: JobRecord, offset: int, limit: int) -> bytes:
        """At most ``limit`` bytes of the running job's output from byte ``offset`` on.

        The default reads the whole output through :meth:`logs`; a backend that can
        read from an offset overrides it.
        """
        return self.logs(job).encode()[offset:offset + limit]

    def check_request(self, request: dict) -> None:  # noqa: B027 - optional hook
        """Refuse (``ValueError``) a job request this backend cannot run, before any row exists."""

    def follow(self, job: JobRecord) -> None:  # noqa: B027 - optional hook
        """Start watching a freshly recorded job (event-driven backends)."""

    def cleanup(self, job: JobRecord) -> None:  # noqa: B027 - optional hook
        """Release what the backend kept for an ended job (files, objects)."""

    def start(self, on_completion: CompletionCallback) -> None:
        """Begin pushing completion events (called once, by the controller)."""
        self._on_completion = on_completion

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release backend resources when the job controller exits (jobs keep running)."""

    # --- the cycle (not to be overridden) -----------------------------------------------
    def launch(self, store, job: JobRecord) -> JobRecord:
        """Insert the row, submit, record the backend id; returns the recorded job."""
        store.insert(job)
        try:
            job.backend_job_id = self.submit(job)
        except Exception as error:
            store.finish(job, BackendState(JobStatus.failed, reason=str(error)),
                         f"[reana] submission to {self.name} failed: {error}\n")
            raise
        store.record_submission(job, JobStatus.running)
        self.follow(job)
        return job

    def complete(self, store, job: JobRecord, state: BackendState) -> bool:
        """Store the end of ``job`` (logs, exit code, status); False if it had ended already."""
        reason = self._stopping.get(job.id)
        if reason is not None:
            # The end was caused by our stop signal: the job was stopped, not failed, and for
            # the stop's reason, also when the backend's end event (its own words: "cancelled",
            # an exit code) is stored before the stop.
            state = BackendState(JobStatus.stopped, state.exit_code, reason)
        try:
            logs = self.logs(job)
        except Exception as error:  # noqa: BLE001 - the end must be stored anyway
            logs = f"[reana] could not read the job logs: {error}\n"
        if state.reason:
            logs = (logs or "") + f"[reana] {state.reason}\n"
        changed = store.finish(job, state, logs)
        if changed:
            self._stopping.pop(job.id, None)
            try:
                job.environment = self.environment(job)
            except Exception as error:  # noqa: BLE001 - provenance must not lose the end
                job.environment = {"runtime": self.name, "error": str(error)}
            self.cleanup(job)
        return changed

    def terminate(self, store, job: JobRecord, reason: str = "stopped") -> bool:
        """Stop a job and store it as stopped with its logs so far."""
        self._stopping[job.id] = reason
        if job.backend_job_id:
            self.stop(job.backend_job_id)
        return self.complete(store, job, BackendState(JobStatus.stopped, reason=reason))
