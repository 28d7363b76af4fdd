"""Apply ``jobs-status`` messages to the database, idempotently and in batches.

One message says what an engine (or the scheduler) learnt about a run:
``{"workflow_uuid", "status": RunStatus int | null, "logs": str,
"message": {"progress": {...}}, ["seq": int]}``. Applying the same message
twice changes nothing: statuses go through the transition table, progress is
a union of job-id sets, and log chunks carry a per-run sequence number (when
the sender gives one) whose last applied value is kept with the run handle.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from reana_db.enums import RunStatus
from reana_db.models import RunHandle, Workflow
from reana_db.status import append_workflow_logs, can_transition, set_workflow_status
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from reana_workflow_controller.locking import lock_runs
from reana_workflow_controller.run_managers import end_cause_of

log = logging.getLogger(__name__)

PROGRESS_KEYS = ("running", "finished", "failed")
SEQ_KEY = "status_seq"
"""Key of the run handle's JSON holding the applied sequence numbers."""
MAX_ABOVE = 1000


@dataclass
class BatchResult:
    """What a batch changed: runs that reached a terminal status (to clean up)."""

    ended: list[tuple[uuid.UUID, str | None, dict | None]] = field(default_factory=list)


def apply_batch(session: Session, bodies: list[dict], engine_logs=None) -> BatchResult:
    """Apply decoded messages in order within the caller's transaction.

    ``engine_logs(handle)`` (optional) returns the engine output to append when
    a run ends, as REANA appends the engine container's log.
    """
    result = BatchResult()
    ids = {_uuid(b.get("workflow_uuid")) for b in bodies} - {None}
    if not ids:
        return result
    workflows = lock_runs(session, ids)
    handles = {
        h.workflow_id: h
        for h in session.scalars(select(RunHandle).where(RunHandle.workflow_id.in_(ids)))
    }
    for body in bodies:
        workflow = workflows.get(_uuid(body.get("workflow_uuid")))
        if workflow is None:
            log.warning("jobs-status message for unknown run %s", body.get("workflow_uuid"))
            continue
        handle = handles.get(workflow.id_)
        if _already_applied(handle, body):
            continue
        ended = apply_one(session, workflow, body)
        if ended:
            extra = engine_logs(handle.handle) if (engine_logs and handle) else ""
            if extra:
                append_workflow_logs(workflow, extra)
            runtime = handle.runtime if handle else None
            cause = None
            if handle and RunStatus(workflow.status) == RunStatus.failed:
                # An engine killed from outside only knows it was terminated: the runtime says why.
                cause = end_cause_of(runtime, handle.handle)
            if cause:
                append_workflow_logs(workflow, f"Workflow {workflow.full_name} failed: {cause}.")
            result.ended.append((workflow.id_, runtime, handle.handle if handle else None))
    return result


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def _already_applied(handle: RunHandle | None, body: dict) -> bool:
    """Whether this sequence number was applied already (and record it if not).

    Kept as ``{"floor": n, "above": [...]}``: every number up to ``floor`` and
    those in ``above`` were applied, so a message requeued behind later ones
    (the embedded broker requeues at the tail) is still applied exactly once.
    """
    seq = body.get("seq")
    if handle is None or not isinstance(seq, int):
        return False
    state = dict(handle.handle or {})
    seen = dict(state.get(SEQ_KEY) or {"floor": 0, "above": []})
    floor, above = int(seen.get("floor", 0)), set(seen.get("above") or [])
    if seq <= floor or seq in above:
        return True
    above.add(seq)
    while floor + 1 in above:
        floor += 1
        above.discard(floor)
    state[SEQ_KEY] = {"floor": floor, "above": sorted(above)[-MAX_ABOVE:]}
    handle.handle = state
    flag_modified(handle, "handle")
    return False


def apply_one(session: Session, workflow: Workflow, body: dict) -> bool:
    """Apply one message to ``workflow``; returns whether the run just ended."""
    old = RunStatus(workflow.status)
    status = body.get("status")
    logs = body.get("logs") or ""
    if old not in RunStatus.alive():
        if isinstance(body.get("seq"), int) and old != RunStatus.deleted:
            # A numbered message that arrived late (requeued behind the final status):
            # its logs and progress still belong to the run, its status does not.
            if logs:
                append_workflow_logs(workflow, logs)
            progress = (body.get("message") or {}).get("progress")
            if progress:
                merge_progress(workflow, progress)
        return False
    ended = False
    if status is not None:
        new = RunStatus(int(status))
        if can_transition(old, new):
            set_workflow_status(session, workflow, new, logs=logs)
            ended = new != old and new in RunStatus.terminal()
        else:
            log.info("run %s: cannot go from %s to %s", workflow.id_, old.name, new.name)
            return False
    elif logs:
        append_workflow_logs(workflow, logs)
    progress = (body.get("message") or {}).get("progress")
    if progress:
        merge_progress(workflow, progress)
    return ended


def merge_progress(workflow: Workflow, progress: dict) -> None:
    """Union the job-id sets per key; ``total`` is taken when given (dynamic DAGs grow)."""
    current = dict(workflow.job_progress or {})
    total = progress.get("total")
    if isinstance(total, dict) and total.get("total"):
        current["total"] = {
            "total": int(total["total"]),
            "job_ids": list(total.get("job_ids") or []),
        }
    for key in PROGRESS_KEYS:
        incoming = progress.get(key)
        if not isinstance(incoming, dict):
            continue
        known = list((current.get(key) or {}).get("job_ids") or [])
        for job_id in incoming.get("job_ids") or []:
            if job_id is not None and job_id not in known:
                known.append(job_id)
        current[key] = {"total": len(known), "job_ids": known}
    # A job that finished or failed is no longer running.
    done = set(_ids(current, "finished")) | set(_ids(current, "failed"))
    if "running" in current and done:
        still = [j for j in _ids(current, "running") if j not in done]
        current["running"] = {"total": len(still), "job_ids": still}
    workflow.job_progress = current
    flag_modified(workflow, "job_progress")


def _ids(progress: dict, key: str) -> list:
    return list((progress.get(key) or {}).get("job_ids") or [])
