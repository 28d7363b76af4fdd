"""Internal API: ``PUT /api/workflows/<w>/status`` (start, stop, deleted)."""

from __future__ import annotations

import os
import uuid

from reana_db.enums import RunStatus
from reana_db.models import Workflow
from reana_db.status import set_workflow_status
from sqlalchemy import select


def q(user, **extra):
    return {"user": str(user.id_), **extra}


def _set(db, workflow_id, *statuses):
    workflow = db.get(Workflow, uuid.UUID(workflow_id))
    for status in statuses:
        set_workflow_status(db, workflow, status)
    db.commit()
    return workflow


def test_start_calls_runs_with_parameters(api, user, make_workflow, monkeypatch):
    from reana_workflow_controller import runs

    calls = []

    def fake_start(session, workflow, input_parameters, operational_options):
        # The runtime is engineer "runs"' business: here only the contract is checked.
        calls.append((workflow.full_name, input_parameters, operational_options))
        set_workflow_status(session, workflow, RunStatus.queued)
        set_workflow_status(session, workflow, RunStatus.pending)

    monkeypatch.setattr(runs, "start_run", fake_start)
    created = make_workflow(user)
    response = api.put(
        "/api/workflows/helloworld.1/status",
        query_string=q(user, status="start"),
        json={"input_parameters": {"sleeptime": "2"}, "operational_options": {"CACHE": "off"}},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "message": "Workflow successfully launched",
        "workflow_id": created["workflow_id"],
        "workflow_name": "helloworld.1",
        "status": "pending",
        "user": str(user.id_),
    }
    assert calls == [("helloworld.1", {"sleeptime": "2"}, {"CACHE": "off"})]
    status = api.get("/api/workflows/helloworld.1/status", query_string=q(user)).get_json()
    assert status["status"] == "pending"


def test_start_refused_by_status(api, user, make_workflow, db):
    created = make_workflow(user)
    _set(db, created["workflow_id"], RunStatus.queued, RunStatus.pending, RunStatus.running)
    _set(db, created["workflow_id"], RunStatus.finished)
    again = api.put(
        "/api/workflows/helloworld.1/status", query_string=q(user, status="start"), json={}
    )
    assert again.status_code == 409
    assert "cannot be started again" in again.get_json()["message"]


def test_stop(api, user, make_workflow, db):
    created = make_workflow(user)
    not_running = api.put(
        "/api/workflows/helloworld.1/status", query_string=q(user, status="stop")
    )
    assert not_running.status_code == 409
    assert not_running.get_json() == {
        "message": f"Workflow {created['workflow_id']} is not running."
    }
    _set(db, created["workflow_id"], RunStatus.queued)
    stopped = api.put(
        "/api/workflows/helloworld.1/status",
        query_string=q(user, status="stop"),
        json={"force_stop": True},
    )
    assert stopped.status_code == 200, stopped.get_json()
    body = stopped.get_json()
    assert body["message"] == "Workflow successfully stopped" and body["status"] == "stopped"


def test_delete_one_and_all_runs(api, user, make_workflow, db):
    first = make_workflow(user)
    make_workflow(user)
    third = make_workflow(user)
    workspace = db.get(Workflow, uuid.UUID(first["workflow_id"])).workspace_path
    assert os.path.isdir(workspace)
    refused = api.put(
        "/api/workflows/helloworld.1/status",
        query_string=q(user, status="deleted"),
        json={"workspace": False},
    )
    assert refused.status_code == 400
    assert refused.get_json()["message"] == (
        "Workspace must always be deleted when deleting a workflow."
    )
    one = api.put(
        "/api/workflows/helloworld.1/status",
        query_string=q(user, status="deleted"),
        json={"workspace": True},
    )
    assert one.status_code == 200, one.get_json()
    assert one.get_json()["message"] == "Workflow successfully deleted."
    assert one.get_json()["status"] == "deleted"
    assert not os.path.exists(workspace)
    # The deleted run's files are gone for the API too.
    files = api.get(f"/api/workflows/{first['workflow_id']}/workspace", query_string=q(user))
    assert files.status_code == 404
    _set(db, third["workflow_id"], RunStatus.queued, RunStatus.pending, RunStatus.running)
    running = api.put(
        "/api/workflows/helloworld.3/status", query_string=q(user, status="deleted"), json={}
    )
    assert running.status_code == 500
    assert "cannot be deleted as it is currently running" in running.get_json()["message"]
    every = api.put(
        "/api/workflows/helloworld.2/status",
        query_string=q(user, status="deleted"),
        json={"all_runs": True, "workspace": True},
    )
    assert every.status_code == 200
    assert every.get_json()["message"] == "All workflows named helloworld successfully deleted."
    db.expire_all()
    statuses = db.scalars(select(Workflow.status).order_by(Workflow.run_number_major)).all()
    assert statuses == [RunStatus.deleted, RunStatus.deleted, RunStatus.running]


def test_bad_status_values(api, user, make_workflow):
    make_workflow(user)
    missing = api.put("/api/workflows/helloworld.1/status", query_string=q(user))
    assert missing.status_code == 400 and "status" in missing.get_json()["message"]
    unknown = api.put(
        "/api/workflows/helloworld.1/status", query_string=q(user, status="explode")
    )
    assert unknown.status_code == 400
    resume = api.put("/api/workflows/helloworld.1/status", query_string=q(user, status="resume"))
    assert resume.status_code == 501
    assert resume.get_json() == {"message": "Status resume is not supported yet."}
    bad_body = api.put(
        "/api/workflows/helloworld.1/status",
        query_string=q(user, status="start"),
        json={"input_parameters": "not an object"},
    )
    assert bad_body.status_code == 400
