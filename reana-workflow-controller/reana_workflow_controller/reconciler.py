"""Reconciler: fails alive runs whose runtime side is gone (nothing stays running).

A level-triggered loop (Argo's pattern): every ``REANA_RECONCILE_INTERVAL``
seconds it lists the ``pending`` and ``running`` runs, asks their run manager
whether the engine and job controller are still there, and fails a run that
has been found dead (or without a runtime handle) for longer than
``REANA_RECONCILE_GRACE`` seconds, with the reason in its logs; what is left
of its processes (the job controller stops its jobs) is then ended. The grace
lets the job-status consumer apply the final status an engine sent just before
exiting. ``queued`` runs are the scheduler's: its database scan starts them.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from reana_commons import metrics
from reana_commons.config import get_config
from reana_db.database import new_session
from reana_db.enums import RunStatus
from reana_db.locking import lock_run
from reana_db.models import RunHandle, Workflow
from reana_db.status import abandon_jobs, set_workflow_status
from sqlalchemy import select

from reana_workflow_controller.run_managers import RunManagerError, get_run_manager
from reana_workflow_controller.run_managers.base import ENGINE_ENDED_CLEANLY

log = logging.getLogger(__name__)

NO_HANDLE = "its runtime handle was never recorded (the start did not complete)"


def action_cause(reason: str) -> str:
    """A reconciler action's cause as a metric label (the reasons hold details)."""
    if reason == NO_HANDLE:
        return "start_incomplete"
    if reason == ENGINE_ENDED_CLEANLY:
        return "final_status_lost"
    return "runtime_gone"
FINAL_STATUS_GRACE = 60.0
"""Seconds the consumer gets to apply the final status of an engine that exited with 0."""
ENGINE_OUTPUT_TAIL = 4000
START_GRACE = 45.0
"""Seconds a run may stay without a handle once its run manager no longer says it is starting
(:meth:`~.run_managers.base.RunManager.starting`: its job controller runs and has not listened
yet, which may take long on a loaded machine; the run manager bounds it)."""


def unpublished(output: str, logs: str | None) -> str:
    """The lines of an engine's output that its status messages did not bring already.

    An engine's log lines go to its output *and* ride along with its status
    messages; a crash's traceback, or what it wrote after its last message, only
    to its output.
    """
    published = set((logs or "").splitlines())
    return "\n".join(line for line in output.splitlines() if line not in published)


class Reconciler:
    """Compares alive runs with the runtime and fails the vanished ones."""

    def __init__(
        self, grace: float | None = None, interval: float | None = None, drained_at=None
    ):
        """``drained_at()``: when the job-status consumer last found its queue empty.

        With it, a run is failed only once the consumer has drained every
        message sent before the run was found dead (its final status may be
        one of them), so a slow consumer never turns a finished run into a failed one.
        """
        config = get_config()
        self.drained_at = drained_at
        self.grace = config.reconcile_grace if grace is None else grace
        self.interval = config.reconcile_interval if interval is None else interval
        self.suspects: dict[uuid.UUID, float] = {}
        self.stopping = threading.Event()

    def run_forever(self) -> None:
        """Reconcile every interval until :attr:`stopping` is set."""
        while not self.stopping.is_set():
            try:
                self.reconcile_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("reconcile pass failed")
            self.stopping.wait(self.interval)

    def start_thread(self) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread."""
        thread = threading.Thread(target=self.run_forever, name="reconciler", daemon=True)
        thread.start()
        return thread

    def reconcile_once(self, now: float | None = None) -> list[uuid.UUID]:
        """One pass; returns the runs it failed."""
        now = time.monotonic() if now is None else now
        with new_session() as session:
            rows = session.execute(
                select(Workflow.id_, RunHandle.runtime, RunHandle.handle)
                .outerjoin(RunHandle, RunHandle.workflow_id == Workflow.id_)
                .where(Workflow.status.in_([RunStatus.pending, RunStatus.running]))
            ).all()
        seen, dead = set(), []
        for run_id, runtime, handle in rows:
            seen.add(run_id)
            reason = self._problem(runtime, handle)
            if reason == NO_HANDLE and self._starting(runtime, run_id):
                reason = None  # its job controller is coming up (bounded by the start timeout)
            if reason is None:
                self.suspects.pop(run_id, None)
                continue
            first = self.suspects.setdefault(run_id, now)
            grace = self.grace
            if reason == NO_HANDLE:
                grace = max(self.grace, START_GRACE)
            elif reason == ENGINE_ENDED_CLEANLY:
                # Its final status was published: the consumer gets time to apply it.
                grace = max(self.grace, FINAL_STATUS_GRACE)
            drained = self.drained_at is None or self.drained_at() > first
            if now - first >= grace and drained:
                dead.append((run_id, runtime, handle, reason))
        for run_id in list(self.suspects):
            if run_id not in seen:
                del self.suspects[run_id]
        failed = []
        for run_id, runtime, handle, reason in dead:
            if self._fail(run_id, reason, self._engine_output(runtime, handle)):
                metrics.RECONCILER_ACTIONS.labels(action_cause(reason)).inc()
                failed.append(run_id)
                self._end(run_id, runtime, handle)
            self.suspects.pop(run_id, None)
        return failed

    def _problem(self, runtime: str | None, handle: dict | None) -> str | None:
        if runtime is None or not handle or not handle.get("job_controller_url"):
            return NO_HANDLE
        try:
            manager = get_run_manager(runtime)
        except RunManagerError as error:
            return str(error)
        try:
            return manager.problem(handle)
        except Exception as error:  # noqa: BLE001 - the runtime cannot answer: not a death
            log.warning("could not check run handle %s: %s", handle, error)
            return None

    def _starting(self, runtime: str | None, run_id: uuid.UUID) -> bool:
        try:
            return bool(runtime) and get_run_manager(runtime).starting(run_id)
        except Exception:  # noqa: BLE001 - unknown: judged as without a handle
            return False

    def _engine_output(self, runtime: str | None, handle: dict | None) -> str:
        """The end of the engine's own output (a traceback, when it crashed), whole lines."""
        try:
            text = get_run_manager(runtime).engine_logs(handle) if runtime else ""
        except Exception:  # noqa: BLE001 - the output is a bonus
            return ""
        if len(text) > ENGINE_OUTPUT_TAIL:
            text = text[-ENGINE_OUTPUT_TAIL:].partition("\n")[2]
        return text

    def _fail(self, run_id: uuid.UUID, reason: str, output: str = "") -> bool:
        with new_session() as session:
            workflow = lock_run(session, run_id)
            if workflow is None or RunStatus(workflow.status) not in RunStatus.active():
                return False
            message = (
                f"Workflow {workflow.full_name} failed: {reason} "
                f"(detected by the reconciler after {self.grace:g} s)."
            )
            output = unpublished(output, workflow.logs)
            if output:
                message += "\nLast output of the engine:\n" + output
            set_workflow_status(session, workflow, RunStatus.failed, logs=message)
            abandon_jobs(session, run_id, reason)
            session.commit()
            log.warning("run %s failed: %s", run_id, reason)
            return True

    def _end(self, run_id: uuid.UUID, runtime: str | None, handle: dict | None) -> None:
        if not runtime:
            return
        try:
            manager = get_run_manager(runtime)
            manager.stop(None, handle)
            manager.cleanup(handle)
        except Exception:  # noqa: BLE001 - best effort on a run already failed
            log.exception("cleanup of %s failed", run_id)
