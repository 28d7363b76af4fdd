"""Open and close interactive sessions (rows around the session manager), and keep them.

The REST API calls :func:`open_session` and :func:`close_session` with its request
session; deleting a run closes its session (:func:`close_sessions_of`). The session
keeper (:class:`SessionKeeper`, a thread of the job-status consumer process, like the
reconciler) passes over the open sessions every ``REANA_INTERACTIVE_SESSION_CHECK_INTERVAL``
seconds: a session whose Jupyter server answers becomes ``running``; one whose server
is gone, or that stayed idle longer than ``REANA_INTERACTIVE_SESSION_MAX_INACTIVITY_PERIOD``
days (Jupyter's own ``last_activity``, as REANA's cleanup reads it), is closed.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from reana_commons.config import get_config
from reana_commons.errors import REANAError
from reana_commons.session_endpoints import jupyter_status
from reana_db.database import new_session
from reana_db.enums import InteractiveSessionType, RunStatus
from reana_db.models import SessionHandle, Workflow
from reana_db.quota import account_session_cpu, workspace_path_of
from reana_db.sessions import (
    OpenSession,
    SessionAlreadyOpen,
    create_session,
    end_session,
    mark_running,
    open_session_of,
    open_sessions,
    session_path,
    store_handle,
)
from sqlalchemy.orm import Session

from reana_workflow_controller.session_managers import (
    SessionManagerError,
    SessionRequest,
    get_session_manager,
)

log = logging.getLogger(__name__)

TYPES = tuple(t.name for t in InteractiveSessionType)
START_GRACE = 120.0
"""Seconds a session may stay without a handle (its start did not complete)."""
START_TIMEOUT = 900.0
"""Seconds a started Jupyter server may take to answer before its session is closed."""


class SessionError(REANAError):
    """An open or close that cannot be done (the status code says how it is answered)."""

    def __init__(self, message: str, status_code: int = 404):
        super().__init__(message, status_code=status_code)


def open_session(session: Session, workflow: Workflow, type_name: str,
                 image: str | None = None) -> str:
    """Start a session on the run's workspace; returns its path (``/<workflow uuid>``).

    Refused with 404 as REANA does: an unknown type, a deleted run, a run with an open
    session. Commits: the session's rows exist before its server starts (a close meanwhile
    finds them), and its handle is recorded once it has.
    """
    if type_name not in TYPES:
        raise SessionError(f"Interactive session type {type_name} not found, try with one "
                           f"of: {list(TYPES)}", 404)
    if RunStatus(workflow.status) == RunStatus.deleted:
        raise SessionError(f"Workflow {workflow.full_name} has been deleted.", 404)
    workspace = workspace_path_of(workflow)
    if workspace is None or not workspace.is_dir():
        raise SessionError(f"Workflow {workflow.full_name} has no workspace.", 404)
    manager = _manager()
    secret = secrets.token_urlsafe(32)
    try:
        row = create_session(session, workflow, InteractiveSessionType[type_name],
                             manager.name, secret, image)
    except SessionAlreadyOpen:
        session.rollback()
        raise SessionError("Interactive session is already open", 404) from None
    session_id, workflow_id, owner_id = row.id_, workflow.id_, workflow.owner_id
    session.commit()
    request = SessionRequest(session_id=session_id, workflow_id=workflow_id,
                             owner_id=owner_id, workspace=Path(workspace), secret=secret,
                             image=image)
    try:
        handle = manager.start(request)
    except SessionManagerError as error:
        end_session(session, session_id, f"could not be started: {error}")
        session.commit()
        raise SessionError(f"The interactive session could not be started: {error}",
                           500) from error
    store_handle(session, session_id, handle)
    session.commit()
    session.expire_all()
    if session.get(SessionHandle, session_id).closed_at is not None:
        manager.stop(handle)  # closed while it was starting: nothing may stay behind
    return session_path(workflow_id)


def close_session(session: Session, workflow: Workflow, reason: str = "closed by its owner"
                  ) -> None:
    """End the run's open session (404 when it has none, REANA's message)."""
    opened = open_session_of(session, workflow.id_)
    if opened is None:
        raise SessionError(f"Workflow - {workflow.full_name} has no open interactive session.",
                           404)
    end(session, opened, reason)


def close_sessions_of(session: Session, workflow: Workflow, reason: str) -> None:
    """Close the run's session if it has one (deleting a run)."""
    opened = open_session_of(session, workflow.id_)
    if opened is not None:
        end(session, opened, reason)


def end(session: Session, opened: OpenSession, reason: str) -> None:
    """Stop the session's server, then close its rows and count its time (commits)."""
    try:
        _manager(opened.runtime).stop(opened.handle)
    except SessionManagerError as error:
        log.warning("session %s could not be stopped cleanly: %s", opened.id_, error)
    workflow = end_session(session, opened.id_, reason)
    if workflow is not None:
        account_session_cpu(session, workflow)
    session.commit()
    log.info("interactive session %s of %s closed: %s", opened.id_, opened.workflow_id, reason)


def _manager(name: str | None = None):
    try:
        return get_session_manager(name)
    except SessionManagerError as error:
        raise SessionError(str(error), 404) from error


class SessionKeeper:
    """Marks sessions ``running`` when they answer; closes dead and idle ones."""

    def __init__(self, interval: float | None = None, max_inactivity: float | None = None):
        config = get_config()
        self.interval = config.interactive_session_check_interval if interval is None \
            else interval
        self.max_inactivity = config.interactive_session_max_inactivity_seconds \
            if max_inactivity is None else max_inactivity
        self.stopping = threading.Event()

    def run_forever(self) -> None:
        """Keep every interval until :attr:`stopping` is set."""
        while not self.stopping.is_set():
            try:
                self.keep_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("session keeper pass failed")
            self.stopping.wait(self.interval)

    def start_thread(self) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread."""
        thread = threading.Thread(target=self.run_forever, name="session-keeper", daemon=True)
        thread.start()
        return thread

    def keep_once(self) -> list[str]:
        """One pass; returns why each session it closed was closed."""
        with new_session() as session:
            opened = open_sessions(session)
        closed = []
        for each in opened:
            reason = self._reason_to_close(each)
            if reason is None:
                continue
            with new_session() as session:
                end(session, each, reason)
            closed.append(reason)
        return closed

    def _reason_to_close(self, opened: OpenSession) -> str | None:
        age = (_utcnow() - opened.started_at).total_seconds()
        endpoint = opened.handle.get("endpoint")
        if not endpoint:
            return "its start did not complete" if age > START_GRACE else None
        try:
            alive = get_session_manager(opened.runtime).is_alive(opened.handle)
        except Exception as error:  # noqa: BLE001 - the runtime cannot answer: not a death
            log.warning("could not check session %s: %s", opened.id_, error)
            return None
        if not alive:
            return "its Jupyter server ended"
        status = jupyter_status(endpoint, opened.handle.get("base_url", "/"), opened.secret)
        if status is None:  # starting, or busy: idleness is judged on its own answer only
            if opened.status == RunStatus.created and age > START_TIMEOUT:
                return f"its Jupyter server did not answer within {START_TIMEOUT:g} s"
            return None
        if opened.status == RunStatus.created:
            with new_session() as session:
                mark_running(session, opened.id_)
                session.commit()
        if self.max_inactivity is None:
            return None
        last = _parse_time(status.get("last_activity")) or opened.started_at
        if (_utcnow() - last).total_seconds() >= self.max_inactivity:
            return f"inactive for longer than {self.max_inactivity / 86400:g} days"
        return None


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _parse_time(value) -> datetime | None:
    """Jupyter's ``2026-12-03T11:20:44.889618Z`` as naive UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed

