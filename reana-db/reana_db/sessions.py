"""Interactive sessions' rows: REANA's ``interactive_session`` and our ``session_handle``.

A session is open while its ``interactive_session`` row exists (linked to its run by
``workflow_session``, which ``GET /api/workflows?type=interactive`` lists); at most one per
run (the row's ``(name, path)`` is unique). Its :class:`~reana_db.models.SessionHandle`
(same id) says where it runs and keeps its secret; closing deletes the REANA rows, as
REANA does, erases the secret and stamps ``closed_at``: the session's wall time then counts
in the run's CPU quota (:mod:`reana_db.quota`), like a job's.

Nothing here starts or stops processes: the workflow controller's session managers do,
around these functions. Writers flush; the caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reana_db.crypto import decrypt, encrypt
from reana_db.enums import InteractiveSessionType, RunStatus
from reana_db.models import (
    InteractiveSession,
    SessionHandle,
    Workflow,
    WorkflowSession,
    utcnow,
)


class SessionAlreadyOpen(Exception):
    """The run has an open interactive session already."""


@dataclass(frozen=True)
class OpenSession:
    """An open session as its users and managers see it."""

    id_: uuid.UUID
    workflow_id: uuid.UUID
    owner_id: uuid.UUID
    type_: InteractiveSessionType
    path: str
    status: RunStatus
    runtime: str
    handle: dict
    secret: str
    started_at: datetime


def session_path(workflow_id) -> str:
    """Where a run's session is reached on the server: ``/<workflow uuid>`` (REANA's)."""
    return f"/{workflow_id}"


def session_name(workflow_id) -> str:
    """REANA's name of a run's session (also its Kubernetes objects' name)."""
    return f"reana-run-session-{workflow_id}"


def create_session(session: Session, workflow: Workflow, type_: InteractiveSessionType,
                   runtime: str, secret: str, image: str | None = None) -> SessionHandle:
    """Record a new open session of ``workflow`` (status ``created``, no handle yet).

    Raises :class:`SessionAlreadyOpen` when the run has one (the unique ``(name, path)``
    decides between concurrent opens); the caller's transaction is then rolled back to
    before this call.
    """
    if open_session_of(session, workflow.id_) is not None:
        raise SessionAlreadyOpen(str(workflow.id_))
    session_id = uuid.uuid4()
    nested = session.begin_nested()
    try:
        session.add(InteractiveSession(
            id_=session_id, name=session_name(workflow.id_), path=session_path(workflow.id_),
            status=RunStatus.created, owner_id=workflow.owner_id, type_=type_))
        session.flush()
        session.add(WorkflowSession(workflow_id=workflow.id_, session_id=session_id))
        handle = SessionHandle(id_=session_id, workflow_id=workflow.id_,
                               owner_id=workflow.owner_id, type_=type_, runtime=runtime,
                               secret_encrypted=encrypt(secret), image=image,
                               started_at=utcnow())
        session.add(handle)
        session.flush()
    except IntegrityError:
        nested.rollback()
        raise SessionAlreadyOpen(str(workflow.id_)) from None
    nested.commit()
    return handle


def open_session_of(session: Session, workflow_id: uuid.UUID) -> OpenSession | None:
    """The run's open session, or None (one query)."""
    row = session.execute(
        select(InteractiveSession, SessionHandle)
        .join(WorkflowSession, WorkflowSession.session_id == InteractiveSession.id_)
        .join(SessionHandle, SessionHandle.id_ == InteractiveSession.id_)
        .where(WorkflowSession.workflow_id == workflow_id)
    ).first()
    return None if row is None else _open(*row)


def open_sessions(session: Session) -> list[OpenSession]:
    """Every open session (the session keeper's pass)."""
    rows = session.execute(
        select(InteractiveSession, SessionHandle)
        .join(SessionHandle, SessionHandle.id_ == InteractiveSession.id_)
        .order_by(SessionHandle.started_at)
    )
    return [_open(*row) for row in rows]


def _open(interactive: InteractiveSession, handle: SessionHandle) -> OpenSession:
    return OpenSession(
        id_=interactive.id_, workflow_id=handle.workflow_id, owner_id=handle.owner_id,
        type_=InteractiveSessionType(handle.type_), path=interactive.path or "",
        status=RunStatus(interactive.status), runtime=handle.runtime,
        handle=dict(handle.handle or {}),
        secret=decrypt(handle.secret_encrypted).decode() if handle.secret_encrypted else "",
        started_at=handle.started_at)


def store_handle(session: Session, session_id: uuid.UUID, handle: dict) -> None:
    """Record where a session runs (its manager's handle), once it was started."""
    row = session.get(SessionHandle, session_id)
    if row is not None:
        row.handle = dict(handle)
        session.flush()


def mark_running(session: Session, session_id: uuid.UUID) -> bool:
    """``created`` → ``running`` once the session answers; whether it changed."""
    row = session.get(InteractiveSession, session_id)
    if row is None or RunStatus(row.status) != RunStatus.created:
        return False
    row.status = RunStatus.running
    session.flush()
    return True


def end_session(session: Session, session_id: uuid.UUID, reason: str) -> Workflow | None:
    """Close a session's rows: REANA's deleted, the secret erased, ``closed_at`` stamped.

    Returns the session's run when this call closed it (None when it was closed
    already): its CPU usage is then to be accounted (:func:`reana_db.quota.
    account_session_cpu`).
    """
    handle = session.get(SessionHandle, session_id, with_for_update=True)
    if handle is None or handle.closed_at is not None:
        return None
    session.execute(delete(InteractiveSession).where(InteractiveSession.id_ == session_id))
    handle.closed_at = utcnow()
    handle.close_reason = reason
    handle.secret_encrypted = None
    session.flush()
    return session.get(Workflow, handle.workflow_id)


def run_sessions_milliseconds(session: Session, workflow_id: uuid.UUID) -> int:
    """The wall time in ms of one run's closed sessions (a few rows, summed here: a run's
    end costs the same whatever its owner has)."""
    rows = session.execute(select(SessionHandle.started_at, SessionHandle.closed_at).where(
        SessionHandle.workflow_id == workflow_id, SessionHandle.closed_at.is_not(None)))
    return sum(max(int((closed - started).total_seconds() * 1000), 0)
               for started, closed in rows)


def sessions_milliseconds(session: Session, workflow_ids: list | None = None) -> dict:
    """Per run, the wall time in ms of its closed sessions (all runs when ``None``)."""
    duration = func.sum(_milliseconds(session, SessionHandle.started_at, SessionHandle.closed_at))
    query = select(SessionHandle.workflow_id, duration).where(
        SessionHandle.closed_at.is_not(None)).group_by(SessionHandle.workflow_id)
    if workflow_ids is not None:
        if not workflow_ids:
            return {}
        query = query.where(SessionHandle.workflow_id.in_(workflow_ids))
    return {workflow_id: max(int(value or 0), 0) for workflow_id, value in
            session.execute(query)}


def _milliseconds(session: Session, start, end):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) * 1000
    return (func.julianday(end) - func.julianday(start)) * 86400000.0
