"""Workspace disk of ended runs, measured after their status is committed.

Walking a workspace takes as long as it has files, and the status writer holds
locks (the runs' rows, the owner's quota row) until it commits. So
:mod:`reana_db.status` only *requests* a measurement when a run ends
(:func:`request`); once the session commits, the runs are measured in a
background thread of this process, each outside any transaction, and the result
is written in a short transaction of its own: the run's row locked, then the
owner's total moved by the difference. A rolled-back transaction's requests are
forgotten. A run deleted meanwhile keeps its 0 (deletion wins), and a size
recorded by someone else after the walk began (a retention rule that removed
files) is fresher than the walk's and is kept.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session, defer

from reana_db import quota
from reana_db.database import new_session
from reana_db.enums import RunStatus
from reana_db.locking import lock_runs
from reana_db.models import Workflow, utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "reana_db.disk_measurement.pending"
"""Key of ``Session.info`` holding the runs to measure once the session commits."""
WORKERS = 2
UNREAD = ("logs", "reana_specification", "engine_specific")
"""Bulky columns of a run that recording its disk never reads."""

_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_futures: set[Future] = set()
_lock = threading.Lock()


def request(session: Session, run_id: uuid.UUID) -> None:
    """Measure the run's workspace once ``session`` commits (not at all if it rolls back)."""
    session.info.setdefault(PENDING_KEY, set()).add(run_id)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    run_ids = session.info.pop(PENDING_KEY, None)
    for run_id in sorted(run_ids or (), key=str):
        _submit(run_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def _submit(run_id: uuid.UUID) -> None:
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():  # none yet, or forked
            _executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="disk-measurement")
            _executor_pid = os.getpid()
            _futures.clear()
        future = _executor.submit(_measure_logged, run_id)
        _futures.add(future)
    future.add_done_callback(_futures.discard)


def wait_for_measurements(timeout: float | None = 60.0) -> None:
    """Block until the measurements requested so far are recorded (tests, command ends)."""
    with _lock:
        pending = list(_futures)
    wait(pending, timeout=timeout)


def _measure_logged(run_id: uuid.UUID) -> int | None:
    try:
        return measure(run_id)
    except Exception:  # noqa: BLE001 - the quota updater recomputes everything anyway
        log.exception("could not measure the workspace of run %s", run_id)
        return None


def measure(run_id: uuid.UUID) -> int | None:
    """Walk the run's workspace (no transaction open), then record it; the bytes, or None
    when the run is gone or deleted."""
    with new_session() as session:
        row = session.execute(
            select(Workflow.status, Workflow.workspace_path).where(Workflow.id_ == run_id)
        ).one_or_none()
    if row is None or RunStatus(row.status) == RunStatus.deleted:
        return None
    started = utcnow()
    value = quota.directory_size(quota.absolute_workspace(row.workspace_path))
    with new_session() as session:
        if record(session, run_id, value, measured_since=started) is None:
            return None
        session.commit()
    return value


def record(
    session: Session, run_id: uuid.UUID, value: int, measured_since: datetime | None = None
) -> Workflow | None:
    """Record ``value`` bytes as the run's workspace disk, in the writers' one lock order.

    Every writer of a run's disk locks, in this order: the run's row
    (:func:`reana_db.locking.lock_runs`), its owner's disk total, then the usage
    rows of the runs sharing the workspace (:func:`reana_db.quota.account_workspace_disk`)
    — as the status writer does — so two of them wait for each other instead
    of deadlocking (a retention rule applied while the run's disk is measured).
    Nothing is recorded (``None``) for a run that is gone or deleted (deletion
    wins), nor when a size was recorded after ``measured_since`` (the walk that
    began then is staler). Returns the locked run otherwise; the caller commits.
    """
    workflow = lock_runs(session, [run_id], *_UNREAD_OPTIONS).get(run_id)
    if workflow is None or RunStatus(workflow.status) == RunStatus.deleted:
        return None
    if measured_since is not None and quota.disk_recorded_since(session, run_id, measured_since):
        return None  # a retention rule or an upload recorded a fresher size meanwhile
    quota.account_workspace_disk(session, workflow, value)
    return workflow


_UNREAD_OPTIONS = tuple(defer(getattr(Workflow, column)) for column in UNREAD)
"""Built once: :func:`reana_db.locking.lock_runs` keeps one statement per set of options."""
