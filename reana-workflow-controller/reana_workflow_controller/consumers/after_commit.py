"""What the job-status consumer does once a batch is committed, outside every lock.

Applying a batch locks its runs' rows until the commit; nothing in there may
wait on the world outside the database. What does is done here, in a small
thread pool, per ended run and in this order:

1. a failed run's **end cause**: its runtime (the Kubernetes API, with its
   timeouts; the local process table) tells who pulled the plug, e.g. "its
   Kubernetes Job was deleted"; the answer is appended to the run's logs in a
   short transaction of its own;
2. **cleanup**: the run manager stops what is left of the run (asked after the
   cause: a cleanup that deletes the Job would otherwise look like the cause),
   and the job rows nobody follows any more are failed.

The workspace's disk usage is measured after the commit too, by
:mod:`reana_db.disk_measurement` (for every status writer, not only this one).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from reana_db.database import new_session
from reana_db.status import abandon_jobs, append_logs_in_database, log_chunk

from reana_workflow_controller.consumers.status_writer import EndedRun
from reana_workflow_controller.run_managers import end_cause_of, get_run_manager

log = logging.getLogger(__name__)

WORKERS = 2


class AfterCommit:
    """The consumer's pool for the slow, outside work on runs a committed batch ended."""

    def __init__(self, workers: int = WORKERS):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="after-commit")

    def submit(self, ended: list[EndedRun]) -> None:
        """Queue the work on each ended run (call after the commit only)."""
        for run in ended:
            self.pool.submit(finish_run, run)

    def close(self) -> None:
        """Wait for the queued work."""
        self.pool.shutdown(wait=True)


def finish_run(run: EndedRun) -> None:
    """Record a failed run's end cause, then end what is left of its processes."""
    try:
        if run.failed:
            cause = end_cause_of(run.runtime, run.handle)
            if cause:
                record_cause(run, cause)
        if run.runtime and run.handle:
            manager = get_run_manager(run.runtime)
            manager.stop(None, run.handle)
            manager.cleanup(run.handle)
            with new_session() as session:
                if abandon_jobs(session, run.run_id, "the run ended before this job"):
                    session.commit()
    except Exception:  # noqa: BLE001 - best effort: the run's status is already final
        log.exception("after-commit work on run %s failed", run.run_id)


def record_cause(run: EndedRun, cause: str) -> None:
    """Append ``cause`` to the run's logs (one short transaction, no lock held before)."""
    with new_session() as session:
        text = log_chunk(f"Workflow {run.full_name} failed: {cause}.")
        append_logs_in_database(session, {run.run_id: text})
        session.commit()
