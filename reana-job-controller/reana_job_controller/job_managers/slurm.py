"""The ``slurm`` backend (also REANA's name ``slurmcern``): batch jobs on a Slurm cluster.

Mode: with ``SLURM_HOSTNAME`` empty, ``sbatch`` runs on this host; otherwise on
that login node over SSH (paramiko, port ``SLURM_CLUSTER_PORT``) as the run
owner, whose credentials come from their secrets: user name ``SLURM_USER`` (or
REANA's ``CERN_USER``), private key ``SLURM_SSH_PRIVATE_KEY`` (an env or file
secret; PEM/OpenSSH text or its base64; optional ``SLURM_SSH_KEY_PASSPHRASE``)
or password ``SLURM_SSH_PASSWORD``. Kerberos (REANA's ``CERN_KEYTAB``) is not
supported. With a shared file system (default only in local mode,
``REANA_SLURM_SHARED_FILE_SYSTEM``) the command runs in the workspace itself;
otherwise the workspace is staged over SFTP into
``~/<REANA_SLURM_REMOTE_WORKDIR>/<workflow uuid>/workspace``.

Per step: ``slurm_partition`` and ``slurm_time`` (defaults ``SLURM_PARTITION``,
``SLURM_JOB_TIMELIMIT``), ``unpacked_img``. The user's secrets are not handed to
Slurm jobs (as in REANA). One monitor thread asks Slurm about *all* live jobs
of the run with one ``squeue`` per period (``REANA_SLURM_MONITOR_INTERVAL``,
default 2 s), falling back to one ``sacct`` for jobs ``squeue`` has forgotten.
A job is reported ended only after its outputs were staged back.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from reana_commons.config import get_config
from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState, JobManager, JobRecord
from reana_job_controller.job_managers.slurm_script import (
    batch_script,
    parse_exit_code,
    sbatch_options,
    state_for,
)
from reana_job_controller.job_managers.slurm_staging import WorkspaceStager
from reana_job_controller.job_managers.slurm_transport import (
    LocalTransport,
    SlurmCommandError,
    SSHTransport,
    load_private_key,
)

log = logging.getLogger(__name__)

UNKNOWN_GRACE_SECONDS = 60.0
"""How long a job may be unknown to squeue and sacct before it counts as lost."""
SQUEUE_FORMAT = "JobID:|,State:|,exit_code:"


@dataclass
class _Tracked:
    """What the monitor knows about one Slurm job."""

    job_id: str | None
    since: float
    state: BackendState
    stop_requested: bool = False
    reported: bool = False


class SlurmJobManager(JobManager):
    """Submits jobs with ``sbatch`` and follows all of them with one query per period."""

    name = "slurm"
    pushes_completion = True
    logs_while_running = True
    survives_restart = True

    def __init__(self, context):
        super().__init__(context)
        config = get_config()
        self.config = config
        self.interval = max(config.slurm_monitor_interval, 0.05)
        self.remote = bool(config.slurm_hostname)
        self.shared_fs = config.slurm_shared_file_system
        self._transport: LocalTransport | SSHTransport | None = None
        self._stager: WorkspaceStager | None = None
        self._remote_base: str | None = None
        self._tracked: dict[str, _Tracked] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._monitor: threading.Thread | None = None
        self.queries = 0
        """Slurm state queries made so far: one per period, whatever the number of jobs."""

    # --- where things are ---------------------------------------------------------------------
    @property
    def transport(self) -> LocalTransport | SSHTransport:
        with self._lock:
            if self._transport is None:
                self._transport = self._ssh_transport() if self.remote else LocalTransport()
            return self._transport

    def _ssh_transport(self) -> SSHTransport:
        secrets = self.context.job_env()
        username = secrets.get("SLURM_USER") or secrets.get("CERN_USER")
        if not username:
            raise SlurmCommandError("Slurm over SSH needs the secret SLURM_USER (or CERN_USER)")
        key_text = secrets.get("SLURM_SSH_PRIVATE_KEY")
        files_dir = self.context.secret_files_dir()
        if key_text is None and files_dir is not None:
            key_file = files_dir / "SLURM_SSH_PRIVATE_KEY"
            key_text = key_file.read_text() if key_file.is_file() else None
        password = secrets.get("SLURM_SSH_PASSWORD")
        if key_text is None and password is None:
            raise SlurmCommandError(
                "Slurm over SSH needs the secret SLURM_SSH_PRIVATE_KEY or SLURM_SSH_PASSWORD")
        pkey = (load_private_key(key_text, secrets.get("SLURM_SSH_KEY_PASSPHRASE"))
                if key_text else None)
        c = self.config
        return SSHTransport(c.slurm_hostname, c.slurm_cluster_port, username, pkey=pkey,
                            password=password, timeout=c.slurm_ssh_timeout,
                            banner_timeout=c.slurm_ssh_banner_timeout,
                            auth_timeout=c.slurm_ssh_auth_timeout)

    @property
    def remote_base(self) -> str:
        """Per-run folder on the cluster (SSH mode): job scripts, logs, staged workspace."""
        if self._remote_base is None:
            root = self.config.slurm_remote_workdir
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

    def _jobs_dir(self) -> str:
        if self.remote:
            return posixpath.join(self.remote_base, "jobs")
        path = self.context.run_dir / "slurm"
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def log_path(self, job_id: str) -> str:
        return posixpath.join(self._jobs_dir(), f"{job_id}.log")

    # --- submit ---------------------------------------------------------------------------------
    def submit(self, job: JobRecord) -> str:
        spec = job.spec or {}
        workspace = str(self.context.workspace)
        cmd, workdir = job.cmd, workspace
        stager = self.stager
        if stager is not None:
            stager.stage_in()
            cmd, workdir = stager.rewrite(cmd), stager.remote
        env = {str(k): str(v) for k, v in (job.env_vars or {}).items()}
        env.update(REANA_WORKSPACE=workdir, REANA_WORKFLOW_UUID=self.context.workflow_uuid)
        script = batch_script(cmd=cmd, image=job.docker_img, workdir=workdir, bind=workdir,
                              unpacked=bool(spec.get("unpacked_img")), env=env)
        script_path = posixpath.join(self._jobs_dir(), f"{job.id}.sh")
        self.transport.write_file(script_path, script.encode(), 0o700)
        options = sbatch_options(
            job_name=job.job_name, log_path=self.log_path(job.id), workdir=workdir,
            partition=spec.get("slurm_partition") or self.config.slurm_partition,
            time_limit=str(spec.get("slurm_time") or self.config.slurm_job_timelimit or ""),
        )
        output = self.transport.run(["sbatch", *options, script_path]).strip()
        slurm_id = output.splitlines()[-1].split(";")[0].strip() if output else ""
        if not slurm_id.isdigit():
            raise SlurmCommandError(f"sbatch did not return a job id: {output!r}")
        with self._lock:
            self._tracked[slurm_id] = _Tracked(job.id, time.monotonic(),
                                               BackendState(JobStatus.queued))
        return slurm_id

    # --- monitor --------------------------------------------------------------------------------
    def follow(self, job: JobRecord) -> None:
        self._ensure_monitor()
        self._wake.set()

    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._monitor is None or not self._monitor.is_alive():
                self._monitor = threading.Thread(target=self._monitor_loop, daemon=True,
                                                 name="slurm-monitor")
                self._monitor.start()

    def status(self, backend_job_ids: Sequence[str]) -> dict[str, BackendState]:
        """The monitor's latest view (jobs it did not follow yet are adopted)."""
        with self._lock:
            for slurm_id in backend_job_ids:
                self._tracked.setdefault(
                    slurm_id, _Tracked(None, time.monotonic(), BackendState(JobStatus.running)))
            result = {i: self._tracked[i].state for i in backend_job_ids}
        self._ensure_monitor()
        return result

    def _monitor_loop(self) -> None:
        while not self._closing.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep following; the next period retries
                log.exception("Slurm monitor pass failed")
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
        found = self._query_squeue(live)
        missing = [i for i in live if i not in found]
        if missing:
            found.update(self._query_sacct(missing))
        now = time.monotonic()
        for slurm_id in live:
            with self._lock:
                tracked = self._tracked.get(slurm_id)
            if tracked is None or tracked.reported:
                continue  # cleaned up or reported meanwhile
            if slurm_id in found:
                slurm_state, exit_code = found[slurm_id]
                state = state_for(slurm_id, slurm_state, exit_code, tracked.stop_requested)
            elif now - tracked.since > UNKNOWN_GRACE_SECONDS:
                state = BackendState(JobStatus.failed,
                                     reason=f"Slurm job {slurm_id} is unknown to Slurm")
            else:
                continue
            if state.is_terminal:
                self._finish(slurm_id, tracked, state)
            else:
                tracked.state = state

    def _query_squeue(self, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        output = self.transport.run(
            ["squeue", "-h", "--states=all", "-j", ",".join(ids), "-O", SQUEUE_FORMAT],
            check=False)
        return self._parse(output, ids)

    def _query_sacct(self, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        output = self.transport.run(
            ["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", ",".join(ids)],
            check=False)
        return self._parse(output, ids)

    @staticmethod
    def _parse(output: str, ids: list[str]) -> dict[str, tuple[str, int | None]]:
        wanted, found = set(ids), {}
        for line in output.splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) >= 3 and fields[0] in wanted:
                try:
                    found[fields[0]] = (fields[1], parse_exit_code(fields[2]))
                except ValueError:
                    found[fields[0]] = (fields[1], None)
        return found

    def _finish(self, slurm_id: str, tracked: _Tracked, state: BackendState) -> None:
        stager = self.stager
        if stager is not None and state.status != JobStatus.stopped:
            try:
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

    def environment(self, job: JobRecord) -> dict:
        """The node(s) Slurm ran the job on (``sacct``) and how the step ran on them."""
        nodes = None
        if job.backend_job_id:
            output = self.transport.run(["sacct", "-X", "-n", "-P", "-o", "JobID,NodeList",
                                         "-j", job.backend_job_id], check=False)
            for line in output.splitlines():
                fields = line.split("|")
                if len(fields) == 2 and fields[0].strip() == job.backend_job_id:
                    nodes = fields[1].strip() or None
        runtime = "slurm"
        log = (job.logs or "").splitlines()  # stored just before (JobManager.complete)
        if log and log[0].startswith("[reana]"):
            runtime = f"slurm: {log[0].removeprefix('[reana]').strip()}"
        return {"node": nodes, "runtime": runtime[:255]}

    def stop(self, backend_job_id: str) -> None:
        with self._lock:
            tracked = self._tracked.setdefault(
                backend_job_id,
                _Tracked(None, time.monotonic(), BackendState(JobStatus.running)))
            tracked.stop_requested = True
        self.transport.run(["scancel", backend_job_id])

    def cleanup(self, job: JobRecord) -> None:
        for path in (self.log_path(job.id), posixpath.join(self._jobs_dir(), f"{job.id}.sh")):
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

