"""The jobs of one run: create, follow, stop; no Flask in here.

One :class:`JobController` per process. It creates jobs through their
backend's :class:`~reana_job_controller.job_managers.base.JobManager` cycle and
follows them two ways: backends that push events (``local``: a thread waits
on each process) report an end within milliseconds, and one monitor thread,
started explicitly, resyncs every non-terminal job of the run from the
database at a fixed interval (a level-triggered loop: a missed event, or a
controller restarted while jobs ran, is caught up there). Waiters of
:meth:`JobController.wait_for_job` are woken through a condition variable.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from reana_commons.config import get_config, job_controller_dir
from reana_commons.live_logs import remove_run_live_dir
from reana_db.enums import JobStatus

from reana_job_controller.errors import (
    BackendError,
    JobNotFound,
    JobRequestError,
    ShuttingDown,
)
from reana_job_controller.job_cache import JobCache
from reana_job_controller.job_managers import (
    JOB_MANAGERS,
    BackendContext,
    BackendState,
    JobManager,
    JobRecord,
    load_job_manager,
)
from reana_job_controller.log_pump import LogPump
from reana_job_controller.provenance import ProvenanceRecorder
from reana_job_controller.quantities import InvalidQuantity, memory_bytes
from reana_job_controller.secrets import UserSecrets
from reana_job_controller.store import IDLE_RELEASE_SECONDS, JobStore

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_SECONDS = 10.0
IDLE_RESYNC_SECONDS = 15.0
PUSHED_RESYNC_SECONDS = 5.0
"""Seconds between two monitor passes while every backend in use pushes job ends itself
(``local``: a pidfd per job): the pass is then only a safety net, and each costs a query."""


class JobController:
    """Creates and follows the jobs of one workflow run."""

    def __init__(self, workflow_uuid: str, workspace: str | Path, run_dir: Path | None = None,
                 database_uri: str | None = None, resync_interval: float = 0.5):
        config = get_config()
        try:
            self.workflow_uuid = str(uuid.UUID(str(workflow_uuid)))
        except ValueError:
            raise JobRequestError(f"Invalid workflow UUID {workflow_uuid}.") from None
        self.workspace = Path(workspace).resolve()
        self.run_dir = Path(run_dir or job_controller_dir(self.workflow_uuid, config))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.resync_interval = resync_interval
        self.store = JobStore(self.workflow_uuid, database_uri)
        self.secrets = UserSecrets(self.store, self.run_dir)
        self.provenance = ProvenanceRecorder(self.store, self.workspace)
        self.cache = JobCache(self.store, self.workspace)
        self.context = BackendContext(
            workflow_uuid=self.workflow_uuid,
            workspace=self.workspace,
            run_dir=self.run_dir,
            job_env=self.secrets.env,
            secret_files_dir=self.secrets.files_dir,
        )
        self.enabled_backends = tuple(config.compute_backends)
        self.default_backend = config.default_compute_backend
        self._managers: dict[str, JobManager] = {}
        self._managers_lock = threading.Lock()
        self._cond = threading.Condition()
        self._ended: dict[str, JobRecord] = {}
        """Jobs that ended while this process ran (without logs), for the long-poll."""
        self._live: dict[str, JobRecord] = {}
        self._launching: set[str] = set()
        self._shutting_down = False
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self.log_pump = LogPump(self.workflow_uuid, self._running_jobs, self.manager,
                                config.live_log_interval)

    # --- backends --------------------------------------------------------------------------
    def manager(self, name: str) -> JobManager:
        """The started job manager of backend ``name`` (created on first use)."""
        with self._managers_lock:
            manager = self._managers.get(name)
            if manager is None:
                manager = load_job_manager(name)(self.context)
                manager.start(self._on_completion)
                self._managers[name] = manager
            return manager

    def _backend_for(self, requested: str | None) -> str:
        name = requested or self.default_backend
        if name not in self.enabled_backends or name not in JOB_MANAGERS:
            raise JobRequestError(
                f"Compute backend {name} is not supported by this deployment "
                f"(available: {', '.join(b for b in self.enabled_backends if b in JOB_MANAGERS)})."
            )
        return name

    # --- create ----------------------------------------------------------------------------
    def create_job(self, request: dict) -> JobRecord:
        """Validate a (schema-loaded) job request, insert and submit it; returns the job."""
        if str(request.get("workflow_uuid")) != self.workflow_uuid:
            raise JobRequestError(
                f"This job controller serves workflow {self.workflow_uuid}, "
                f"not {request.get('workflow_uuid')}."
            )
        if Path(request["workflow_workspace"]).resolve() != self.workspace:
            raise JobRequestError("The job's workspace is not the workspace of this workflow.")
        backend = self._backend_for(request.get("compute_backend"))
        try:
            memory_bytes(request.get("kubernetes_memory_limit"))
        except InvalidQuantity as error:
            raise JobRequestError(str(error)) from None
        try:
            manager = self.manager(backend)
        except Exception as error:
            log.exception("compute backend %s could not be started", backend)
            raise BackendError(f"Could not submit the job to {backend}: {error}") from error
        try:
            manager.check_request(request)  # the backend's own refusals, before any row
        except ValueError as error:
            raise JobRequestError(str(error)) from None
        job = JobRecord(
            id=str(uuid.uuid4()),
            workflow_uuid=self.workflow_uuid,
            status=JobStatus.created,
            cmd=request.get("cmd", ""),
            docker_img=request["docker_img"],
            job_name=request.get("job_name") or "",
            prettified_cmd=request.get("prettified_cmd") or request.get("cmd", ""),
            compute_backend=backend,
            env_vars=request.get("env_vars") or {},
            cvmfs_mounts=request.get("cvmfs_mounts") or "",
            spec=request,
        )
        with self._cond:
            if self._shutting_down:
                raise ShuttingDown("The job controller is shutting down: no new jobs.")
            self._launching.add(job.id)
            self._live[job.id] = job
        try:
            start = self._begin_provenance(job)
            if start is not None and self._served_from_cache(job, start):
                return job
            self.manager(backend).launch(self.store, job)
            log.info("job %s submitted to %s", job.id, backend, extra={"job_id": job.id})
        except Exception as error:
            self.provenance.forget(job.id)
            with self._cond:
                self._live.pop(job.id, None)
            log.exception("submission of job %s failed", job.id, extra={"job_id": job.id})
            raise BackendError(f"Could not submit the job to {backend}: {error}") from error
        finally:
            with self._cond:
                self._launching.discard(job.id)
                self._cond.notify_all()
        return job

    def _begin_provenance(self, job: JobRecord):
        try:
            return self.provenance.begin(job)
        except Exception:  # noqa: BLE001 - the job runs anyway; its inputs stay unknown
            log.exception("could not scan the workspace before job %s", job.id)
            return None

    def _served_from_cache(self, job: JobRecord, start) -> bool:
        """With ``CACHE=on``: store ``job`` as done when an earlier job did the same."""
        try:
            if not self.cache.enabled():
                return False
            hit = self.cache.serve(start)
        except Exception:  # noqa: BLE001 - an unusable cache entry: the job just runs
            log.exception("job cache lookup for job %s failed", job.id)
            return False
        if hit is None:
            return False
        self.store.insert(job)
        note = (f"[reana] cached: same image, command, environment and inputs as job "
                f"{hit.job_id} of run {hit.run}; not run again, its outputs restored "
                f"({', '.join(o['path'] for o in hit.outputs) or 'none'})\n")
        self.store.finish(job, BackendState(JobStatus.finished, 0),
                          note + self.store.job_logs_of(hit.job_id))
        job.environment = {"runtime": "cache"}
        self.provenance.end(job, outputs=hit.outputs, cached_from=hit.job_id)
        self._mark_ended(job)
        return True

    # --- read ------------------------------------------------------------------------------
    def get_job(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def list_jobs(self) -> list[JobRecord]:
        return self.store.list()

    def wait_for_job(self, job_id: str, timeout: float) -> JobRecord:
        """The job once terminal, or as it is after ``timeout`` seconds.

        Jobs this process follows are answered from memory (no database read on the
        hot path); others are read from the database first.
        """
        with self._cond:
            ended = self._ended.get(job_id)
            live = job_id in self._live
        if ended is not None:
            return ended
        if not live:
            job = self.get_job(job_id)
            if job.is_terminal or timeout <= 0:
                return job
        deadline = time.monotonic() + timeout
        with self._cond:
            while job_id not in self._ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            ended = self._ended.get(job_id)
            current = self._live.get(job_id)
        if ended is not None:
            return ended
        # Still running. A followed job is answered from memory: the end of a long-poll then
        # never waits for the database (a busy pool waits up to 30 s, which on top of a 60 s
        # poll outlasts the engine's 90 s read timeout).
        return current if current is not None else self.get_job(job_id)

    def job_logs(self, job_id: str) -> str:
        """The job's logs: from the backend while it runs, from the database after."""
        job = self.get_job(job_id)
        if job.is_terminal or not job.backend_job_id:
            return job.logs
        manager = self.manager(job.compute_backend)
        if not manager.logs_while_running:
            return job.logs
        return manager.logs(job)

    def _running_jobs(self) -> list[JobRecord]:
        """The jobs this process follows (for the live-log pump)."""
        with self._cond:
            return list(self._live.values())

    # --- end of jobs -----------------------------------------------------------------------
    def _mark_ended(self, job: JobRecord) -> None:
        log.info("job %s ended: %s (exit code %s)", job.id, job.status.name, job.exit_code,
                 extra={"job_id": job.id})
        with self._cond:
            self._ended[job.id] = replace(job, logs="", spec={})
            self._live.pop(job.id, None)
            self._cond.notify_all()
        self.log_pump.forget(job.id)  # the database holds its whole log now

    def _complete(self, manager: JobManager, job: JobRecord, state: BackendState) -> None:
        if manager.complete(self.store, job, state):
            self.provenance.end(job)  # before the end is announced: it is there once seen
        else:
            job = self.store.get(job.id) or job  # someone else stored the end: theirs counts
        self._mark_ended(job)

    def _on_completion(self, job_id: str, state: BackendState) -> None:
        """Event from a backend: a job ended (runs on the backend's thread)."""
        with self._cond:
            job = self._live.get(job_id)
        try:
            job = job or self.store.get(job_id)
            if job is not None:
                self._complete(self.manager(job.compute_backend), job, state)
        except Exception:  # noqa: BLE001 - the monitor's resync will retry
            log.exception("could not store the end of job %s", job_id, extra={"job_id": job_id})

    def stop_job(self, job_id: str) -> None:
        """Stop a job and keep its logs (nothing happens to an ended job)."""
        job = self.get_job(job_id)
        if job.is_terminal:
            return
        self._terminate(job)

    def _terminate(self, job: JobRecord, reason: str = "stopped") -> None:
        try:
            changed = self.manager(job.compute_backend).terminate(self.store, job, reason)
        except Exception as error:
            raise BackendError(f"Connection to compute backend failed: {error}") from error
        if changed:
            self.provenance.end(job)
        else:
            job = self.store.get(job.id) or job
        self._mark_ended(job)

    def shutdown(self) -> tuple[list[str], list[str]]:
        """Refuse new jobs, stop every running one; ``(stopped ids, ids that could not be)``."""
        with self._cond:
            self._shutting_down = True
            deadline = time.monotonic() + SHUTDOWN_WAIT_SECONDS
            while self._launching and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        # The database's live jobs and this process's: a run failed from outside has its jobs
        # marked failed in the database first, yet their processes still run.
        jobs = {job.id: job for job in self.store.list(alive_only=True)}
        with self._cond:
            for job_id, job in self._live.items():
                jobs.setdefault(job_id, job)
        stopped, failures = [], []
        for job in jobs.values():
            try:
                self._terminate(job, reason="stopped: the job controller was shut down")
                stopped.append(job.id)
            except Exception:  # noqa: BLE001 - report and go on with the others
                log.exception("could not stop job %s", job.id)
                failures.append(job.id)
        return stopped, failures

    # --- monitor ---------------------------------------------------------------------------
    def resync(self) -> None:
        """One level-triggered pass: ask the backends about every non-terminal job."""
        groups: dict[str, list[JobRecord]] = defaultdict(list)
        for job in self.store.list(alive_only=True, activity=False):
            if not job.backend_job_id:
                self._fail_if_orphan(job)
                continue
            groups[job.compute_backend].append(job)
        for name, jobs in groups.items():
            manager = self.manager(name)
            states = manager.status([job.backend_job_id for job in jobs])
            for job in jobs:
                state = states.get(job.backend_job_id) or BackendState(
                    JobStatus.failed, reason=f"the {name} backend does not know this job")
                if state.is_terminal:
                    self._complete(manager, job, state)
                else:
                    self._keep_following(job)
        self.store.release_if_idle()

    def _keep_following(self, job: JobRecord) -> None:
        """A running job found by the monitor (e.g. of a previous job controller) is ours now:
        its long-poll is answered from memory and a shutdown stops it."""
        with self._cond:
            if job.id not in self._ended:
                self._live.setdefault(job.id, job)

    def _fail_if_orphan(self, job: JobRecord) -> None:
        # Order matters: a launch still running is in _launching; one that finished before the
        # check has committed its backend id, which the fresh read below sees.
        with self._cond:
            if job.id in self._launching:
                return
        fresh = self.store.get(job.id)
        if fresh is None or fresh.backend_job_id or fresh.is_terminal:
            return
        manager = self.manager(fresh.compute_backend or self.default_backend)
        self._complete(manager, fresh, BackendState(
            JobStatus.failed, reason="the job was lost before it was submitted"))

    def start_monitor(self) -> None:
        """Start the monitor thread (first pass at once: adopts jobs of a previous controller)."""
        if self._monitor is not None:
            return
        self._monitor = threading.Thread(target=self._monitor_loop, name="job-monitor",
                                         daemon=True)
        self._monitor.start()
        self.log_pump.start()

    def _monitor_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.resync()
            except Exception:  # noqa: BLE001 - keep following; the next pass retries
                log.exception("job monitor pass failed")
            self._stop.wait(self._pass_interval())

    def _pass_interval(self) -> float:
        """A quiet run (no job activity for a while) is resynced rarely: its ends still arrive
        as events, and each pass opens a database connection again. A busy run whose backends
        all push their jobs' ends is resynced every few seconds only."""
        if self.store.idle_seconds() >= IDLE_RELEASE_SECONDS:
            return max(self.resync_interval, IDLE_RESYNC_SECONDS)
        with self._managers_lock:
            managers = list(self._managers.values())
        if managers and all(manager.pushes_completion for manager in managers):
            return max(self.resync_interval, PUSHED_RESYNC_SECONDS)
        return self.resync_interval

    def close(self) -> None:
        """Stop the monitor and release resources; running jobs are left running."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        self.log_pump.close()
        for manager in list(self._managers.values()):
            manager.close()
        self.store.close()
        remove_run_live_dir(self.workflow_uuid)  # only when no job's live log is left
