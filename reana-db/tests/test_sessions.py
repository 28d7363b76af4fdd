"""Interactive sessions' rows: one open per run, closing keeps the history, CPU counts it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from reana_db import sessions
from reana_db.enums import InteractiveSessionType, ResourceType, RunStatus
from reana_db.models import InteractiveSession, SessionHandle, WorkflowSession
from reana_db.queries import list_workflows
from reana_db.quota import account_session_cpu, get_user_quota, update_all_usage, workflow_usage_of
from sqlalchemy import func, select

JUPYTER = InteractiveSessionType.jupyter


def test_open_store_close(db, user, make_workflow):
    run = make_workflow(user, "fit")
    handle = sessions.create_session(db, run, JUPYTER, "local", "s3cret", image="img")
    db.commit()
    assert db.scalar(select(SessionHandle.secret_encrypted)) != "s3cret"  # encrypted
    opened = sessions.open_session_of(db, run.id_)
    assert (opened.path, opened.status, opened.secret, opened.handle) == (
        f"/{run.id_}", RunStatus.created, "s3cret", {})
    with pytest.raises(sessions.SessionAlreadyOpen):
        sessions.create_session(db, run, JUPYTER, "local", "other")
    db.rollback()
    sessions.store_handle(db, handle.id_, {"endpoint": "unix:/x"})
    assert sessions.mark_running(db, handle.id_) is True
    assert sessions.mark_running(db, handle.id_) is False
    db.commit()
    assert sessions.open_session_of(db, run.id_).handle == {"endpoint": "unix:/x"}
    assert [w.name for w in list_workflows(db, user.id_, type_="interactive")[0]] == ["fit"]

    assert sessions.end_session(db, handle.id_, "closed by its owner").id_ == run.id_
    assert sessions.end_session(db, handle.id_, "again") is None  # closed once only
    db.commit()
    assert sessions.open_session_of(db, run.id_) is None
    assert db.scalar(select(func.count()).select_from(InteractiveSession)) == 0
    assert db.scalar(select(func.count()).select_from(WorkflowSession)) == 0
    row = db.get(SessionHandle, handle.id_)
    assert (row.secret_encrypted, row.close_reason) == (None, "closed by its owner")
    assert list_workflows(db, user.id_, type_="interactive")[0] == []
    again = sessions.create_session(db, run, JUPYTER, "local", "new")  # reopening is fine
    assert again.id_ != handle.id_


def test_session_time_counts_as_cpu(db, user, make_workflow):
    run = make_workflow(user, "fit")
    other = make_workflow(user, "other")
    for minutes in (2, 3):
        handle = sessions.create_session(db, run, JUPYTER, "local", "s")
        handle.started_at = handle.started_at - timedelta(minutes=minutes)
        db.flush()
        closed = sessions.end_session(db, handle.id_, "done")
        account_session_cpu(db, closed)
    db.commit()
    assert abs(workflow_usage_of(db, run, ResourceType.cpu) - 5 * 60_000) < 2000
    assert workflow_usage_of(db, other, ResourceType.cpu) == 0
    used = get_user_quota(db, user)["cpu"]["usage"]["raw"]
    assert abs(used - 5 * 60_000) < 2000
    assert sessions.sessions_milliseconds(db, [other.id_]) == {}
    update_all_usage(db)  # a full recount keeps it
    db.commit()
    assert abs(get_user_quota(db, user)["cpu"]["usage"]["raw"] - 5 * 60_000) < 2000
