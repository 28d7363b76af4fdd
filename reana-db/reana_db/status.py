"""The workflow status machine: every status write goes through here.

REANA 0.9's transitions plus ours (queued → stopped, pending → stopped,
pending → failed), so a run that never starts can be stopped or failed.
Timestamps are stamped here, and end-of-run bookkeeping (quotas, retention
rules) is triggered here, in the same transaction as the status change.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from reana_commons.errors import REANAError
from sqlalchemy import Text, bindparam, func, select, update
from sqlalchemy.orm import Session

from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, Workflow, utcnow

S = RunStatus

ALLOWED_WORKFLOW_STATUS_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.created: frozenset({S.deleted, S.queued}),
    S.queued: frozenset({S.deleted, S.pending, S.failed, S.stopped}),
    S.pending: frozenset({S.running, S.deleted, S.stopped, S.failed}),
    S.running: frozenset({S.failed, S.finished, S.stopped, S.running}),
    S.stopped: frozenset({S.deleted}),
    S.failed: frozenset({S.deleted, S.running}),
    S.finished: frozenset({S.deleted, S.running}),
    S.deleted: frozenset(),
}


class InvalidStatusTransition(REANAError, ValueError):
    """A status change that the transition table does not allow (409)."""

    status_code = 409

    def __init__(self, workflow: Workflow, new: RunStatus):
        self.workflow = workflow
        self.new = new
        super().__init__(
            f"Workflow {workflow.full_name} cannot go from "
            f"{RunStatus(workflow.status).name} to {RunStatus(new).name}."
        )


def can_transition(old: RunStatus, new: RunStatus) -> bool:
    """Whether a run may go from ``old`` to ``new``."""
    return RunStatus(new) in ALLOWED_WORKFLOW_STATUS_TRANSITIONS[RunStatus(old)]


def set_workflow_status(
    session: Session,
    workflow: Workflow,
    new: RunStatus,
    logs: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Move ``workflow`` to ``new``; returns whether the status changed.

    Raises :class:`InvalidStatusTransition` when the table forbids it. A
    repeated ``running`` is allowed and changes nothing but the logs. The
    caller commits.
    """
    new = RunStatus(new)
    old = RunStatus(workflow.status)
    if not can_transition(old, new):
        raise InvalidStatusTransition(workflow, new)
    if logs:
        append_workflow_logs(workflow, logs)
    now = now or utcnow()
    if old == new:
        if new == S.running and workflow.run_started_at is None:
            workflow.run_started_at = now
        return False
    workflow.status = new
    if new == S.queued:
        workflow.queued_at = now
    elif new == S.pending:
        workflow.pending_at = now
    if new == S.running and workflow.run_started_at is None:
        workflow.run_started_at = now
    elif new in (S.finished, S.failed):
        workflow.run_finished_at = now
    elif new == S.stopped:
        workflow.run_stopped_at = now
    if new in RunStatus.terminal():
        _on_terminal(session, workflow, new, now)
    return True


def log_chunk(text: str | None) -> str:
    """A chunk of workflow logs as stored: ending with a newline ('' stays '')."""
    if not text:
        return ""
    return text if text.endswith("\n") else text + "\n"


def append_workflow_logs(workflow: Workflow, text: str) -> None:
    """Append a chunk to the run's workflow logs, ending it with a newline."""
    if text:
        workflow.logs = (workflow.logs or "") + log_chunk(text)


def append_logs_in_database(session: Session, chunks: dict[uuid.UUID, str]) -> None:
    """Append text to several runs' logs in SQL (``logs || chunk``), one statement for all.

    For writers that never load the logs (the job-status consumer): neither the
    whole text nor its growth travels between the database and Python. Chunks
    are taken as they are (see :func:`log_chunk`); the caller holds the runs' locks.
    """
    rows = [{"run_id": run_id, "chunk": text} for run_id, text in chunks.items() if text]
    if not rows:
        return
    session.execute(_APPEND_LOGS, rows)


_APPEND_LOGS = (
    update(Workflow.__table__)
    .where(Workflow.__table__.c.id_ == bindparam("run_id"))
    .values(logs=func.coalesce(Workflow.__table__.c.logs, "") + bindparam("chunk", type_=Text))
)


def _on_terminal(session: Session, workflow: Workflow, new: RunStatus, now: datetime) -> None:
    # Imported here: quota and retention import models and this module imports them back.
    from reana_db import disk_measurement, quota, retention

    if new in (S.finished, S.failed):
        retention.activate_rules(session, workflow, now=now)
    if quota.update_on_termination(session, workflow, new):
        disk_measurement.request(session, workflow.id_)


def abandon_jobs(session: Session, run_id: uuid.UUID, reason: str) -> int:
    """Fail the run's jobs that nobody follows any more (their run ended, its job controller
    is gone); ``reason`` goes into their logs. Returns how many; the caller commits.

    The job controller owns job rows while it lives: this is the one writer for
    them after it, for the reconciler and the job-status consumer alike.
    """
    count = 0
    alive = Job.status.not_in(list(JobStatus.terminal()))
    for job in session.scalars(select(Job).where(Job.workflow_uuid == run_id, alive)):
        set_job_status(job, JobStatus.failed)
        job.logs = (job.logs or "") + f"\n[reana] {reason}: job abandoned.\n"
        count += 1
    return count


def set_job_status(job: Job, new: JobStatus, now: datetime | None = None) -> bool:
    """Move ``job`` to ``new`` and stamp its times; terminal jobs never change."""
    new = JobStatus(new)
    old = JobStatus(job.status)
    if old == new or old in JobStatus.terminal():
        return False
    now = now or utcnow()
    job.status = new
    if new == JobStatus.running and job.started_at is None:
        job.started_at = now
    if new in JobStatus.terminal():
        job.finished_at = now
        if job.started_at is None:
            job.started_at = now
    return True
