"""Internal API: ``GET /api/workflows`` (filters, sorts, pagination, 10,000 runs)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

from reana_db.database import get_engine
from reana_db.enums import (
    InteractiveSessionType,
    JobStatus,
    ResourceType,
    RunStatus,
)
from reana_db.models import (
    InteractiveSession,
    Job,
    Resource,
    Workflow,
    WorkflowResource,
    WorkflowSession,
    utcnow,
)
from sqlalchemy import event, insert, select


def q(user, **extra):
    return {"user": str(user.id_), **extra}


def _bulk_runs(db, user, count, name="run", statuses=(RunStatus.finished,)):
    """Insert ``count`` runs quickly; the newest has the highest run number."""
    base = utcnow() - timedelta(days=1)
    rows = [
        {
            "id_": uuid.uuid4(),
            "name": name,
            "status": statuses[i % len(statuses)],
            "owner_id": user.id_,
            "reana_specification": {"workflow": {"type": "serial"}},
            "type_": "serial",
            "logs": "x" * 200,
            "run_number_major": i + 1,
            "run_number_minor": 0,
            "created": base + timedelta(seconds=i),
            "updated": base + timedelta(seconds=i),
            "job_progress": {"total": {"total": 1, "job_ids": []}},
            "restart": False,
            "priority": 0,
        }
        for i in range(count)
    ]
    db.execute(insert(Workflow), rows)
    db.commit()
    return [row["id_"] for row in rows]


def test_list_shape_and_defaults(api, user, make_workflow):
    created = make_workflow(user, launcher_url="https://example.org/reana.yaml")
    body = api.get("/api/workflows", query_string=q(user, type="batch")).get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["user_has_workflows"] is True
    assert body["has_next"] is False and body["has_prev"] is False and "links" not in body
    item = body["items"][0]
    assert item["id"] == created["workflow_id"] and item["name"] == "helloworld.1"
    assert item["status"] == "created" and item["user"] == str(user.id_)
    assert item["launcher_url"] == "https://example.org/reana.yaml"
    assert item["size"] == {"raw": -1, "human_readable": ""}
    assert set(item["progress"]) == {"run_started_at", "run_finished_at", "run_stopped_at"}
    verbose = api.get("/api/workflows", query_string=q(user, verbose="true")).get_json()
    progress = verbose["items"][0]["progress"]
    assert progress["total"] == {"total": 0, "job_ids": []} and "current_command" in progress
    assert verbose["items"][0]["size"] == {"raw": 0, "human_readable": "0 Bytes"}


def test_pagination_envelope(api, user, db):
    _bulk_runs(db, user, 7)
    body = api.get("/api/workflows", query_string=q(user, page=2, size=3)).get_json()
    assert [i["name"] for i in body["items"]] == ["run.4", "run.3", "run.2"]
    assert body["total"] == 7 and body["has_next"] is True and body["has_prev"] is True
    assert body["from_idx"] == 3 and body["to_idx"] == 6 and body["size"] == 3
    assert body["links"] == {"prev": {"page": 1}, "self": {"page": 2}, "next": {"page": 3}}
    last = api.get("/api/workflows", query_string=q(user, page=3, size=3)).get_json()
    assert [i["name"] for i in last["items"]] == ["run.1"] and last["has_next"] is False
    for bad in ({"page": 0}, {"size": 0}, {"page": "x"}):
        response = api.get("/api/workflows", query_string=q(user, **bad))
        assert response.status_code == 400, bad


def test_filters_and_sorts(api, user, db):
    ids = _bulk_runs(
        db, user, 6, statuses=(RunStatus.finished, RunStatus.failed, RunStatus.deleted)
    )
    _bulk_runs(db, user, 2, name="other_1")
    names = lambda body: [i["name"] for i in body["items"]]  # noqa: E731
    by_status = api.get(
        "/api/workflows", query_string=q(user, status="failed,deleted", sort="asc")
    ).get_json()
    assert names(by_status) == ["run.2", "run.3", "run.5", "run.6"]
    repeated = api.get(
        f"/api/workflows?status=failed&status=deleted&sort=asc&user={user.id_}"
    ).get_json()
    assert names(repeated) == names(by_status)
    search = api.get(
        "/api/workflows", query_string=q(user, search=json.dumps({"name": ["HER_"]}))
    ).get_json()
    assert names(search) == ["other_1.2", "other_1.1"]
    no_wildcards = api.get(
        "/api/workflows", query_string=q(user, search=json.dumps({"name": ["ru_"]}))
    ).get_json()
    assert no_wildcards["total"] == 0  # "_" is literal, not a LIKE wildcard
    by_name = api.get("/api/workflows", query_string=q(user, workflow_id_or_name="run"))
    assert by_name.get_json()["total"] == 6
    by_run = api.get("/api/workflows", query_string=q(user, workflow_id_or_name="run.4"))
    assert names(by_run.get_json()) == ["run.4"]
    by_id = api.get("/api/workflows", query_string=q(user, workflow_id_or_name=str(ids[0])))
    assert names(by_id.get_json()) == ["run.1"]
    for bad in (
        {"status": "exploded"},
        {"sort": "sideways"},
        {"type": "weird"},
        {"search": "{not json"},
    ):
        response = api.get("/api/workflows", query_string=q(user, **bad))
        assert response.status_code == 400, bad
        assert response.get_json()["message"]


def test_disk_sort_and_sizes_from_the_database(api, user, db):
    ids = _bulk_runs(db, user, 3)
    disk = db.scalar(select(Resource).where(Resource.type_ == ResourceType.disk))
    for workflow_id, used in zip(ids, (10, 5000, 2048), strict=True):
        db.add(WorkflowResource(workflow_id=workflow_id, resource_id=disk.id_, quota_used=used))
    db.commit()
    body = api.get(
        "/api/workflows", query_string=q(user, sort="disk-desc", include_workspace_size="true")
    ).get_json()
    assert [(i["name"], i["size"]["raw"]) for i in body["items"]] == [
        ("run.2", 5000),
        ("run.3", 2048),
        ("run.1", 10),
    ]
    assert body["items"][1]["size"]["human_readable"] == "2 KiB"


def test_progress_with_current_job(api, user, db):
    ids = _bulk_runs(db, user, 2)
    base = utcnow()
    for offset, command in enumerate(("first", "second")):
        job = Job(
            workflow_uuid=ids[0],
            status=JobStatus.finished,
            job_name=f"step{offset}",
            prettified_cmd=command,
        )
        job.created = base + timedelta(seconds=offset)
        db.add(job)
    db.commit()
    body = api.get(
        "/api/workflows", query_string=q(user, include_progress="true", sort="asc")
    ).get_json()
    first, second = body["items"]
    assert first["progress"]["current_command"] == "second"
    assert first["progress"]["current_step_name"] == "step1"
    assert first["progress"]["total"] == {"total": 1, "job_ids": []}
    assert second["progress"]["current_command"] is None


def test_interactive_type_lists_runs_with_a_session(api, user, db):
    ids = _bulk_runs(db, user, 2)
    interactive = InteractiveSession(
        name="s",
        path=f"/{ids[1]}",
        owner_id=user.id_,
        type_=InteractiveSessionType.jupyter,
        status=RunStatus.running,
    )
    db.add(interactive)
    db.flush()
    db.add(WorkflowSession(workflow_id=ids[1], session_id=interactive.id_))
    db.commit()
    body = api.get("/api/workflows", query_string=q(user, type="interactive")).get_json()
    assert [i["name"] for i in body["items"]] == ["run.2"]
    item = body["items"][0]
    assert item["session_type"] == "jupyter" and item["session_uri"] == f"/{ids[1]}"
    assert item["session_status"] == "running"


def test_ten_thousand_runs_list_quickly_with_few_queries(api, user, db):
    _bulk_runs(db, user, 10_000, statuses=tuple(RunStatus))
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        page = api.get(
            "/api/workflows",
            query_string=q(
                user,
                verbose="true",
                page=3,
                size=20,
                status="created,running,finished,failed,stopped,queued,pending",
            ),
        )
        page_seconds = time.perf_counter() - started
        page_queries = len(statements)
        statements.clear()
        started = time.perf_counter()
        everything = api.get("/api/workflows", query_string=q(user))
        all_seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    body = page.get_json()
    assert page.status_code == 200 and len(body["items"]) == 20
    assert body["total"] == 10_000 - 10_000 // len(RunStatus)  # deleted ones filtered out
    assert body["items"][0]["name"] == "run.9954"
    # user, count, page, sizes, latest jobs, sessions: independent of the number of runs.
    assert page_queries <= 8, statements
    # Generous bounds (CI machines are shared); the query counts are the precise check.
    assert page_seconds < 5, page_seconds
    assert len(everything.get_json()["items"]) == 10_000
    assert len(statements) <= 6
    assert all_seconds < 60, all_seconds
