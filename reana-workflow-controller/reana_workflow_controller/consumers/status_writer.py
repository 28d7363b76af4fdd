"""Apply ``jobs-status`` messages to the database, idempotently and in batches.

One message says what an engine (or the scheduler) learnt about a run:
``{"workflow_uuid", "status": RunStatus int | null, "logs": str,
"message": {"progress": {...}}, ["seq": int]}``. Applying the same message
twice changes nothing: statuses go through the transition table, progress is
a union of job-id sets, and log chunks carry a per-run sequence number (when
the sender gives one) whose applied values are kept in ``run_handle.status_seq``.
Messages carry the start attempt of the engine that sent them (when it has
one): those of an attempt superseded by a later start attempt are ignored.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from reana_commons import metrics
from reana_commons.structured_logs import log_context
from reana_db.enums import RunStatus
from reana_db.locking import lock_runs
from reana_db.models import RunHandle, Workflow, utcnow
from reana_db.status import (
    append_logs_in_database,
    can_transition,
    log_chunk,
    set_workflow_status,
)
from sqlalchemy import String, bindparam, case, func, select, update
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

log = logging.getLogger(__name__)

PROGRESS_KEYS = ("running", "finished", "failed")
MAX_ABOVE = 1000
UNREAD_COLUMNS = (
    defer(Workflow.logs),
    defer(Workflow.reana_specification),
    defer(Workflow.engine_specific),
)
"""Columns a status writer never reads: not loaded (logs are appended in SQL)."""


@dataclass
class EndedRun:
    """A run a batch ended: what the after-commit work needs (cause, cleanup)."""

    run_id: uuid.UUID
    full_name: str
    failed: bool
    runtime: str | None
    handle: dict | None


@dataclass
class BatchResult:
    """What a batch changed: runs that reached a terminal status (to clean up)."""

    ended: list[EndedRun] = field(default_factory=list)
    ended_jobs: dict[str, str] = field(default_factory=dict)
    """Jobs this batch first reported finished or failed: id → outcome (for metrics)."""
    durations: list[tuple] = field(default_factory=list)
    """``(backend, outcome, started, finished)`` of those jobs, read before the commit."""


def apply_batch(session: Session, bodies: list[dict]) -> BatchResult:
    """Apply decoded messages in order within the caller's transaction.

    Each run is written once per batch however many of its messages the batch
    holds: the bulky columns are not loaded, log chunks are gathered and
    appended in SQL, and progress is merged in memory and stored at the end.
    Nothing here leaves the database: why a failed run ended (its runtime) is
    asked after the commit (:mod:`.after_commit`).
    """
    result = BatchResult()
    ids = {_uuid(b.get("workflow_uuid")) for b in bodies} - {None}
    if not ids:
        return result
    workflows = lock_runs(session, ids, *UNREAD_COLUMNS)
    handles = {row.workflow_id: row
               for row in session.execute(_HANDLES, {"ids": list(ids)})}
    changes = _Changes()
    sequences = _Sequences(handles)
    for body in bodies:
        workflow = workflows.get(_uuid(body.get("workflow_uuid")))
        if workflow is None:
            log.warning("jobs-status message for unknown run %s", body.get("workflow_uuid"))
            continue
        handle = handles.get(workflow.id_)
        if _stale_attempt(handle, body):
            log.info("run %s: ignoring a message of superseded attempt %s",
                     workflow.id_, body.get("attempt"))
            continue
        if sequences.already_applied(workflow.id_, body):
            continue
        with log_context(run_id=workflow.id_):
            ended = apply_one(session, workflow, body, changes)
        if ended:
            result.ended.append(
                EndedRun(
                    workflow.id_,
                    workflow.full_name,
                    RunStatus(workflow.status) == RunStatus.failed,
                    handle.runtime if handle else None,
                    handle.handle if handle else None,
                )
            )
    result.ended_jobs = changes.ended_jobs
    changes.write(session)
    sequences.write(session)
    return result


_HANDLES = select(
    RunHandle.workflow_id,
    RunHandle.runtime,
    RunHandle.handle,
    RunHandle.status_seq,
    RunHandle.attempt,
).where(RunHandle.workflow_id.in_(bindparam("ids", expanding=True)))
"""Built once (its cache key too): the status consumer runs it for every batch."""


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def _stale_attempt(handle, body: dict) -> bool:
    """Whether the message comes from a start attempt that a later one superseded."""
    attempt = body.get("attempt")
    if handle is None or handle.attempt is None or not isinstance(attempt, int):
        return False
    return attempt < handle.attempt


class _Sequences:
    """The applied sequence numbers of a batch's runs (``run_handle.status_seq``).

    Kept as ``{"floor": n, "above": [...]}``: every number up to ``floor`` and
    those in ``above`` were applied, so a message requeued behind later ones
    (the embedded broker requeues at the tail) is still applied exactly once.
    Written in their own column, one statement for the batch: the run handle's
    other columns belong to the start.
    """

    def __init__(self, handles: dict):
        self.states = {run_id: row.status_seq for run_id, row in handles.items()}
        self.changed: set[uuid.UUID] = set()

    def already_applied(self, run_id: uuid.UUID, body: dict) -> bool:
        """Whether this sequence number was applied already (and record it if not)."""
        seq = body.get("seq")
        if run_id not in self.states or not isinstance(seq, int):
            return False
        seen = self.states[run_id] or {"floor": 0, "above": []}
        floor, above = int(seen.get("floor", 0)), set(seen.get("above") or [])
        if seq <= floor or seq in above:
            return True
        above.add(seq)
        while floor + 1 in above:
            floor += 1
            above.discard(floor)
        self.states[run_id] = {"floor": floor, "above": sorted(above)[-MAX_ABOVE:]}
        self.changed.add(run_id)
        return False

    def write(self, session: Session) -> None:
        if not self.changed:
            return
        session.execute(_WRITE_SEQUENCES, [{"run_id": run_id, "state": self.states[run_id]}
                                           for run_id in self.changed])
        self.changed.clear()


_WRITE_SEQUENCES = (
    update(RunHandle.__table__)
    .where(RunHandle.__table__.c.workflow_id == bindparam("run_id"))
    .values(status_seq=bindparam("state"))
)


def apply_one(
    session: Session, workflow: Workflow, body: dict, changes: _Changes | None = None
) -> bool:
    """Apply one message to ``workflow``; returns whether the run just ended.

    With ``changes`` the logs and progress are gathered there (the caller
    writes them, :meth:`_Changes.write`); without, they are written at once.
    """
    own = changes is None
    changes = changes or _Changes()
    old = RunStatus(workflow.status)
    status = body.get("status")
    logs = body.get("logs") or ""
    progress = (body.get("message") or {}).get("progress")
    ended = False
    if old not in RunStatus.alive():
        if not (isinstance(body.get("seq"), int) and old != RunStatus.deleted):
            return False
        # A numbered message that arrived late (requeued behind the final status):
        # its logs and progress still belong to the run, its status does not.
        status = None
    if status is not None:
        new = RunStatus(int(status))
        if not can_transition(old, new):
            log.info("run %s: cannot go from %s to %s", workflow.id_, old.name, new.name)
            return False
        changes.log(workflow, logs)
        set_workflow_status(session, workflow, new)
        if new == RunStatus.running and old == RunStatus.pending:
            metrics.observe_since(metrics.SCHEDULING_SECONDS.labels("pending_to_running"),
                                  workflow.pending_at, workflow.run_started_at)
        ended = new != old and new in RunStatus.terminal()
    else:
        changes.log(workflow, logs)
    if progress:
        changes.progress(workflow, progress)
    if own:
        changes.write(session)
    return ended


class _Changes:
    """Logs and progress of a batch, per run, written once at the end.

    Log chunks keep their order and go to the database as one ``logs || chunk``
    per run; progress is merged into insertion-ordered dicts (constant-time
    membership), so a run with thousands of jobs costs no quadratic scans.
    """

    def __init__(self):
        self.logs: dict[uuid.UUID, list[str]] = {}
        self.progresses: dict[uuid.UUID, tuple[Workflow, dict]] = {}
        self.ended_jobs: dict[str, str] = {}

    def log(self, workflow: Workflow, text: str | None) -> None:
        chunk = log_chunk(text)
        if chunk:
            self.logs.setdefault(workflow.id_, []).append(chunk)

    def progress(self, workflow: Workflow, progress: dict) -> None:
        entry = self.progresses.get(workflow.id_)
        if entry is None:
            entry = (workflow, _load_progress(workflow.job_progress))
            self.progresses[workflow.id_] = entry
        for outcome in ("finished", "failed"):
            known = entry[1].get(outcome) or {}
            incoming = progress.get(outcome)
            if isinstance(incoming, dict):
                self.ended_jobs.update((str(job_id), outcome)
                                       for job_id in incoming.get("job_ids") or []
                                       if job_id is not None and job_id not in known)
        _merge(entry[1], progress)

    def write(self, session: Session) -> None:
        """One ``UPDATE`` per run: its new progress and its log chunk together (a run's row
        is rewritten once per batch, not once for the progress and once for the logs)."""
        chunks = {k: "".join(v) for k, v in self.logs.items()}
        rows = []
        for run_id, (workflow, merged) in self.progresses.items():
            progress = _dump_progress(workflow.job_progress, merged)
            # The stored value, as the database now has it: not a pending ORM change.
            set_committed_value(workflow, "job_progress", progress)
            rows.append({"run_id": run_id, "progress": progress,
                         "chunk": chunks.pop(run_id, ""), "now": utcnow()})
        if rows:
            session.execute(_WRITE_PROGRESS_AND_LOGS, rows)
        append_logs_in_database(session, chunks)
        self.logs.clear()
        self.progresses.clear()


_TABLE = Workflow.__table__
_CHUNK = bindparam("chunk", type_=String)
_WRITE_PROGRESS_AND_LOGS = (
    update(_TABLE)
    .where(_TABLE.c.id_ == bindparam("run_id"))
    .values(
        job_progress=bindparam("progress", type_=_TABLE.c.job_progress.type),
        # An empty chunk leaves the logs as they are (no new copy of a long text).
        logs=case((_CHUNK == "", _TABLE.c.logs),
                  else_=func.coalesce(_TABLE.c.logs, "") + _CHUNK),
        updated=bindparam("now"),
    )
)


def _load_progress(current: dict | None) -> dict:
    """The stored progress as ``{key: {job_id: None}}`` plus ``total`` (None if not given)."""
    current = current or {}
    merged: dict = {"total": None, "touched": set()}
    for key in PROGRESS_KEYS:
        if key in current:
            merged[key] = dict.fromkeys((current.get(key) or {}).get("job_ids") or [])
    return merged


def _merge(merged: dict, progress: dict) -> None:
    total = progress.get("total")
    if isinstance(total, dict) and total.get("total"):
        merged["total"] = {
            "total": int(total["total"]),
            "job_ids": list(total.get("job_ids") or []),
        }
    for key in PROGRESS_KEYS:
        incoming = progress.get(key)
        if not isinstance(incoming, dict):
            continue
        known = merged.setdefault(key, {})
        merged["touched"].add(key)
        for job_id in incoming.get("job_ids") or []:
            if job_id is not None:
                known[job_id] = None


def _dump_progress(current: dict | None, merged: dict) -> dict:
    """REANA's ``{key: {"total", "job_ids"}}``; a finished or failed job is no longer running.

    Only the keys a message named are rewritten (and ``running`` once jobs are done).
    """
    out = dict(current or {})
    if merged["total"] is not None:
        out["total"] = merged["total"]
    done = set(merged.get("finished") or ()) | set(merged.get("failed") or ())
    for key in PROGRESS_KEYS:
        if key not in merged:
            continue
        if key not in merged["touched"] and not (key == "running" and done):
            continue
        ids = list(merged[key])
        if key == "running" and done:
            ids = [j for j in ids if j not in done]
        out[key] = {"total": len(ids), "job_ids": ids}
    return out
