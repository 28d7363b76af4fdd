"""A polled batch-system job manager: what Slurm and HTCondor backends have in common.

A batch backend (``slurm``, ``htcondorcern``) submits a script with a command of
its cluster and learns the end of its jobs by asking the cluster, not by being
told. This module owns everything around those two calls, so each backend is
only its batch system's words:

* **where commands run** (:class:`~.batch_transport.LocalTransport` on this host,
  or :class:`~.batch_transport.SSHTransport` on a login node with the run
  owner's credentials from their secrets, ``<PREFIX>_USER`` or REANA's
  ``CERN_USER``, ``<PREFIX>_SSH_PRIVATE_KEY`` (env or file secret) or
  ``<PREFIX>_SSH_PASSWORD``);
* **files**: a shared file system, or the workspace staged over SFTP
  (:class:`~.batch_staging.WorkspaceStager`), outputs staged back before a job is
  reported ended;
* **the job wrapper** (:func:`~.batch_wrapper.job_script`);
* **one monitor thread** asking the cluster about *all* live jobs of the run with
  one :meth:`PolledBatchJobManager.query` per period, reporting ended jobs
  through the completion callback; ``status()`` answers from its view.

A backend implements :meth:`~PolledBatchJobManager.settings`,
:meth:`~PolledBatchJobManager.submit_job`, :meth:`~PolledBatchJobManager.query`,
:meth:`~PolledBatchJobManager.map_state` and :meth:`~PolledBatchJobManager.cancel`.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState, JobManager, JobRecord
from reana_job_controller.job_managers.batch_staging import WorkspaceStager
from reana_job_controller.job_managers.batch_transport import (
    BatchCommandError,
    LocalTransport,
    SSHTransport,
    load_private_key,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchSettings:
    """How one batch backend is reached and followed (from the platform's configuration)."""

    label: str
    """The batch system's name in messages (``Slurm``, ``HTCondor``)."""
    secret_prefix: str
    """Secrets ``<prefix>_USER``, ``<prefix>_SSH_PRIVATE_KEY``, ... hold the SSH login."""
    hostname: str = ""
    """Login node; empty: the commands run on this host."""
    port: int = 22
    ssh_timeout: float = 60
    ssh_banner_timeout: float = 60
    ssh_auth_timeout: float = 60
    monitor_interval: float = 2.0
    shared_file_system: bool = True
    remote_workdir: str = "reana"
    unknown_grace_seconds: float = 60.0
    """How long a job may be unknown to the cluster before it counts as lost."""


@dataclass
class Tracked:
    """What the monitor knows about one batch job."""

    job_id: str | None
    since: float
    state: BackendState
    stop_requested: bool = False
    reported: bool = False


class PolledBatchJobManager(JobManager):
    """Submits through a batch system and follows all live jobs with one query per period."""

    pushes_completion = True
    logs_while_running = True
    survives_restart = True

    def __init__(self, context):
        super().__init__(context)
        self.batch = self.settings()
        self.interval = max(self.batch.monitor_interval, 0.05)
        self.remote = bool(self.batch.hostname)
        self.shared_fs = self.batch.shared_file_system
        self._transport: LocalTransport | SSHTransport | None = None
        self._stager: WorkspaceStager | None = None
        self._remote_base: str | None = None
        self._tracked: dict[str, Tracked] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._monitor: threading.Thread | None = None
        self.queries = 0
        """State queries made so far: one per period, whatever the number of jobs."""

    # --- hooks a batch backend implements ---------------------------------------------------
    @abstractmethod
    def settings(self) -> BatchSettings:
        """This backend's settings (read once, when the manager is built)."""

    @abstractmethod
    def submit_job(self, job: JobRecord, *, cmd: str, workdir: str, env: dict[str, str]) -> str:
        """Write the job's script into :meth:`jobs_dir` and submit it; returns the batch id.

        ``cmd`` and ``workdir`` already point at the cluster's copy of the workspace.
        """

    @abstractmethod
    def query(self, ids: list[str]) -> dict[str, object]:
        """What the cluster says about ``ids`` (as few commands as possible); unknown ids absent."""

    @abstractmethod
    def map_state(self, batch_id: str, raw: object, stop_requested: bool) -> BackendState:
        """REANA's view of one answer of :meth:`query`."""

    @abstractmethod
    def cancel(self, batch_id: str) -> None:
        """Ask the cluster to end the job (``scancel``, ``condor_rm``)."""

    def local_env(self) -> dict[str, str] | None:
        """Environment of the cluster's commands in local mode (``None``: this process's)."""
        return None

    def collect_outputs(self, batch_id: str) -> None:  # noqa: B027 - optional hook
        """Put an ended job's outputs into the (cluster's copy of the) workspace."""

    def job_files(self, job: JobRecord) -> list[str]:
        """Files of an ended job to remove at cleanup (its script and log by default)."""
        return [self.log_path(job.id), posixpath.join(self.jobs_dir(), f"{job.id}.sh")]

    # --- where things are ---------------------------------------------------------------------
    @property
    def transport(self) -> LocalTransport | SSHTransport:
        with self._lock:
            if self._transport is None:
                self._transport = (self._ssh_transport() if self.remote
                                   else LocalTransport(self.local_env()))
            return self._transport

    def _ssh_transport(self) -> SSHTransport:
        prefix, label = self.batch.secret_prefix, self.batch.label
        secrets = self.context.job_env()
        username = secrets.get(f"{prefix}_USER") or secrets.get("CERN_USER")
        if not username:
            raise BatchCommandError(
                f"{label} over SSH needs the secret {prefix}_USER (or CERN_USER)")
        key_text = secrets.get(f"{prefix}_SSH_PRIVATE_KEY")
        files_dir = self.context.secret_files_dir()
        if key_text is None and files_dir is not None:
            key_file = files_dir / f"{prefix}_SSH_PRIVATE_KEY"
            key_text = key_file.read_text() if key_file.is_file() else None
        password = secrets.get(f"{prefix}_SSH_PASSWORD")
        if key_text is None and password is None:
            raise BatchCommandError(f"{label} over SSH needs the secret "
                                    f"{prefix}_SSH_PRIVATE_KEY or {prefix}_SSH_PASSWORD")
        pkey = (load_private_key(key_text, secrets.get(f"{prefix}_SSH_KEY_PASSPHRASE"))
                if key_text else None)
        b = self.batch
        return SSHTransport(b.hostname, b.port, username, pkey=pkey, password=password,
                            timeout=b.ssh_timeout, banner_timeout=b.ssh_banner_timeout,
                            auth_timeout=b.ssh_auth_timeout)

    @property
    def remote_base(self) -> str:
        """Per-run folder on the cluster (SSH mode): job scripts, logs, staged workspace."""
        if self._remote_base is None:
            root = self.batch.remote_workdir
            if not root.startswith("/"):
                root = posixpath.join(self.transport.home(), root)
            self._remote_base = posixpath.join(root, self.context.workflow_uuid)
        return self._remote_base

    @property
    def stager(self) -> WorkspaceStager | None:
        """The SFTP stager when the cluster does not share our file system."""
        if self.shared_fs or not self.remote:
            return None
        with self._lock:
            if self._stager is None:
                self._stager = WorkspaceStager(self.transport, self.context.workspace,
                                               posixpath.join(self.remote_base, "workspace"))
            return self._stager

    def jobs_dir(self) -> str:
        """Where job scripts and logs live (the cluster's side)."""
        if self.remote:
            return posixpath.join(self.remote_base, "jobs")
        path = self.context.run_dir / self.name
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def log_path(self, job_id: str) -> str:
        return posixpath.join(self.jobs_dir(), f"{job_id}.log")

    # --- submit ---------------------------------------------------------------------------------
    def submit(self, job: JobRecord) -> str:
        cmd, workdir = job.cmd, str(self.context.workspace)
        stager = self.stager
        if stager is not None:
            stager.stage_in()
            cmd, workdir = stager.rewrite(cmd), stager.remote
        env = {str(k): str(v) for k, v in (job.env_vars or {}).items()}
        env.update(REANA_WORKSPACE=workdir, REANA_WORKFLOW_UUID=self.context.workflow_uuid)
        batch_id = self.submit_job(job, cmd=cmd, workdir=workdir, env=env)
        with self._lock:
            self._tracked[batch_id] = Tracked(job.id, time.monotonic(),
                                              BackendState(JobStatus.queued))
        return batch_id

    # --- monitor --------------------------------------------------------------------------------
    def follow(self, job: JobRecord) -> None:
        self._ensure_monitor()
        self._wake.set()

    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._monitor is None or not self._monitor.is_alive():
                self._monitor = threading.Thread(target=self._monitor_loop, daemon=True,
                                                 name=f"{self.name}-monitor")
                self._monitor.start()

    def status(self, backend_job_ids: Sequence[str]) -> dict[str, BackendState]:
        """The monitor's latest view (jobs it did not follow yet are adopted)."""
        with self._lock:
            for batch_id in backend_job_ids:
                self._tracked.setdefault(
                    batch_id, Tracked(None, time.monotonic(), BackendState(JobStatus.running)))
            result = {i: self._tracked[i].state for i in backend_job_ids}
        self._ensure_monitor()
        return result

    def _monitor_loop(self) -> None:
        while not self._closing.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep following; the next period retries
                log.exception("%s monitor pass failed", self.batch.label)
            self._wake.clear()
            self._closing.wait(max(self.interval - (time.monotonic() - started), 0.01))

    def _live_ids(self) -> list[str]:
        with self._lock:
            return [i for i, t in self._tracked.items() if not t.state.is_terminal]

    def poll_once(self) -> None:
        """One monitor period: query every live job at once, then report the ended ones."""
        live = self._live_ids()
        if not live:
            return
        self.queries += 1
        found = self.query(live)
        now = time.monotonic()
        for batch_id in live:
            with self._lock:
                tracked = self._tracked.get(batch_id)
            if tracked is None or tracked.reported:
                continue  # cleaned up or reported meanwhile
            if batch_id in found:
                state = self.map_state(batch_id, found[batch_id], tracked.stop_requested)
            elif now - tracked.since > self.batch.unknown_grace_seconds:
                label = self.batch.label
                state = BackendState(JobStatus.failed,
                                     reason=f"{label} job {batch_id} is unknown to {label}")
            else:
                continue
            if state.is_terminal:
                self._finish(batch_id, tracked, state)
            else:
                tracked.state = state

    def _finish(self, batch_id: str, tracked: Tracked, state: BackendState) -> None:
        stager = self.stager
        if state.status != JobStatus.stopped:
            try:
                self.collect_outputs(batch_id)
                if stager is not None:
                    stager.stage_out()
            except Exception as error:  # noqa: BLE001 - report the job, note the failure
                state = BackendState(JobStatus.failed, state.exit_code,
                                     f"outputs could not be copied back: {error}")
        with self._lock:
            tracked.state = state
            report = not tracked.reported and tracked.job_id is not None
            tracked.reported = True
        if report and self._on_completion is not None:
            self._on_completion(tracked.job_id, state)

    # --- logs, stop, cleanup --------------------------------------------------------------------
    def logs(self, job: JobRecord) -> str:
        data = self.transport.read_file(self.log_path(job.id))
        return data.decode(errors="replace") if data else ""

    def output_since(self, job: JobRecord, offset: int, limit: int) -> bytes:
        """The output file from ``offset`` (one small read per live-log pass, ADR 0026)."""
        return self.transport.read_file_from(self.log_path(job.id), offset, limit)

    def stop(self, backend_job_id: str) -> None:
        with self._lock:
            tracked = self._tracked.setdefault(
                backend_job_id,
                Tracked(None, time.monotonic(), BackendState(JobStatus.running)))
            tracked.stop_requested = True
        self.cancel(backend_job_id)

    def cleanup(self, job: JobRecord) -> None:
        for path in self.job_files(job):
            try:
                self.transport.remove(path)
            except Exception:  # noqa: BLE001 - leftovers are harmless
                log.warning("could not remove %s", path)
        # the tracked entry stays: status() keeps answering for the ended job

    def close(self) -> None:
        self._closing.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout=5)
        if self._transport is not None:
            self._transport.close()
