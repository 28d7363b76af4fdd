"""Live logs of backends whose jobs write elsewhere: copied while the jobs run (ADR 0026).

The ``local`` backend points a job's output straight at its live log file. For
the others (Slurm's ``--output`` file, a pod's log) one thread of the job
controller asks each running job's backend every ``REANA_LIVE_LOG_INTERVAL``
seconds for the output past what it copied so far
(:meth:`~reana_job_controller.job_managers.base.JobManager.output_since`) and
appends it to the job's live log file. Nothing goes to the database: the whole
log is stored once, when the job ends, and the live file is then removed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from reana_commons.live_logs import FILE_MODE, live_log_path, make_run_live_dir, remove_live_log

from reana_job_controller.job_managers.base import JobManager, JobRecord

log = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 4 * 1024 * 1024
"""Output copied per job and pass (a job writing faster is caught up over several passes)."""


class LogPump:
    """Copies the new output of running jobs into their live log files."""

    def __init__(self, workflow_uuid: str, jobs: Callable[[], list[JobRecord]],
                 manager: Callable[[str], JobManager], interval: float):
        self.workflow_uuid = workflow_uuid
        self._jobs = jobs
        self._manager = manager
        self.interval = interval
        self._offsets: dict[str, int] = {}
        self._ended: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="log-pump", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.pump_once()
            except Exception:  # noqa: BLE001 - the next pass retries
                log.exception("copying live logs failed")

    def pump_once(self) -> None:
        """One pass over the running jobs of pumped backends."""
        self.passes += 1
        for job in self._jobs():
            if not job.backend_job_id or job.is_terminal or job.id in self._ended:
                continue
            try:
                manager = self._manager(job.compute_backend)
                if manager.writes_live_log:
                    continue
                offset = self._offset(job.id)
                data = manager.output_since(job, offset, MAX_CHUNK_BYTES)
                if data:
                    self._append(job.id, offset, data)
            except Exception as error:  # noqa: BLE001 - e.g. its pod is gone: its end comes
                log.debug("no output of job %s this time: %s", job.id, error)

    def _offset(self, job_id: str) -> int:
        """Bytes copied so far: a restarted job controller goes on where its file ends."""
        offset = self._offsets.get(job_id)
        if offset is None:
            try:
                offset = os.stat(live_log_path(self.workflow_uuid, job_id)).st_size
            except FileNotFoundError:
                offset = 0
            self._offsets[job_id] = offset
        return offset

    def _append(self, job_id: str, offset: int, data: bytes) -> None:
        with self._lock:
            if job_id in self._ended:
                return  # its end was stored meanwhile: no file is made again
            make_run_live_dir(self.workflow_uuid)
            fd = os.open(live_log_path(self.workflow_uuid, job_id),
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC,
                         FILE_MODE)
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
            finally:
                os.close(fd)
            self._offsets[job_id] = offset + len(data)

    def forget(self, job_id: str) -> None:
        """The job's end and whole log are stored: its live log goes."""
        with self._lock:
            self._ended.add(job_id)
            self._offsets.pop(job_id, None)
            remove_live_log(self.workflow_uuid, job_id)
