"""Internal API: create, status, parameters, specification, logs, diff, retention rules."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, Workflow, WorkspaceRetentionRule, utcnow
from sqlalchemy import select

JOB_KEYS = {
    "workflow_uuid",
    "job_name",
    "compute_backend",
    "backend_job_id",
    "docker_img",
    "cmd",
    "status",
    "logs",
    "started_at",
    "finished_at",
}


def q(user, **extra):
    return {"user": str(user.id_), **extra}


def test_create_allocates_run_numbers_and_workspace(api, user, make_workflow, reana_env, db):
    first = make_workflow(user)
    second = make_workflow(user)
    assert first["workflow_name"] == "helloworld.1"
    assert second["workflow_name"] == "helloworld.2"
    assert first["message"] == "Workflow workspace created"
    workflow = db.get(Workflow, uuid.UUID(first["workflow_id"]))
    expected = os.path.join(
        reana_env["SHARED_VOLUME_PATH"], "users", str(user.id_), "workflows", first["workflow_id"]
    )
    assert os.path.realpath(workflow.workspace_path) == os.path.realpath(expected)
    assert os.path.isdir(expected) and os.listdir(expected) == []
    assert workflow.status == RunStatus.created and workflow.type_ == "serial"


def test_create_with_empty_name_is_called_workflow(api, user, make_workflow):
    assert make_workflow(user, name="")["workflow_name"] == "workflow.1"


@pytest.mark.parametrize(
    "name, message",
    [
        ("hello.world", 'contains illegal character "."'),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "cannot be a valid UUIDv4"),
        ("héllo", "contains illegal characters"),
        ("a/b", "contains illegal characters"),
        ("n" * 256, "longer than 255 characters"),
    ],
)
def test_create_refuses_bad_names(api, user, spec, name, message):
    response = api.post(
        "/api/workflows",
        query_string=q(user),
        json={"reana_specification": spec, "workflow_name": name},
    )
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_create_refuses_malformed_bodies(api, user, spec):
    no_spec = api.post("/api/workflows", query_string=q(user), json={"workflow_name": "x"})
    assert no_spec.status_code == 400
    assert "reana_specification" in no_spec.get_json()["message"]
    bad_type = dict(spec, workflow={"type": "nope"})
    answer = api.post(
        "/api/workflows", query_string=q(user), json={"reana_specification": bad_type}
    )
    assert answer.status_code == 400 and "Unknown workflow type" in answer.get_json()["message"]
    not_json = api.post(
        "/api/workflows", query_string=q(user), data="{", content_type="application/json"
    )
    assert not_json.status_code == 400
    assert not_json.get_json()["message"] == "Your request contains not valid JSON."


def test_create_for_unknown_or_missing_user(api, spec):
    unknown = str(uuid.uuid4())
    response = api.post(
        "/api/workflows", query_string={"user": unknown}, json={"reana_specification": spec}
    )
    assert response.status_code == 404
    assert response.get_json() == {"message": f"User {unknown} does not exist"}
    missing = api.post("/api/workflows", json={"reana_specification": spec})
    assert missing.status_code == 400
    assert api.get("/api/workflows", query_string={"user": "nope"}).status_code == 404


def test_create_stores_retention_rules_and_lists_them(
    api, user, spec, make_workflow, monkeypatch
):
    spec["workspace"] = {"retention_days": {"**/*.tmp": 1, "data/*": 7}}
    created = make_workflow(user, spec=spec)
    response = api.get(
        f"/api/workflows/{created['workflow_id']}/retention_rules", query_string=q(user)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["workflow_name"] == "helloworld.1"
    rules = body["retention_rules"]
    assert [(r["workspace_files"], r["retention_days"]) for r in rules] == [
        ("**/*.tmp", 1),
        ("data/*", 7),
    ]
    assert all(r["status"] == "created" and r["apply_on"] is None for r in rules)
    # Rules given by the server take precedence over the spec's.
    created = make_workflow(
        user, spec=spec, retention_rules=[{"workspace_files": "*.log", "retention_days": 3}]
    )
    rules = api.get(
        f"/api/workflows/{created['workflow_id']}/retention_rules", query_string=q(user)
    ).get_json()["retention_rules"]
    assert [(r["workspace_files"], r["retention_days"]) for r in rules] == [("*.log", 3)]


def test_create_refuses_escaping_retention_rules(api, user, spec):
    response = api.post(
        "/api/workflows",
        query_string=q(user),
        json={
            "reana_specification": spec,
            "workflow_name": "x",
            "retention_rules": [{"workspace_files": "../*", "retention_days": 1}],
        },
    )
    assert response.status_code == 400 and ".." in response.get_json()["message"]


def test_create_under_workspace_root_path(api, user, spec, reana_env, tmp_path):
    shared = reana_env["SHARED_VOLUME_PATH"]
    inside = os.path.join(shared, "projects")
    good = api.post(
        "/api/workflows",
        query_string=q(user, workspace_root_path=inside),
        json={"reana_specification": spec, "workflow_name": "rooted"},
    )
    assert good.status_code == 201
    assert os.path.isdir(os.path.join(inside, "users", str(user.id_), "workflows"))
    outside = api.post(
        "/api/workflows",
        query_string=q(user, workspace_root_path=str(tmp_path / "elsewhere")),
        json={"reana_specification": spec, "workflow_name": "rooted"},
    )
    assert outside.status_code == 400
    dotdot = api.post(
        "/api/workflows",
        query_string=q(user, workspace_root_path=os.path.join(shared, "..", "elsewhere")),
        json={"reana_specification": spec, "workflow_name": "rooted"},
    )
    assert dotdot.status_code == 400


def test_create_under_another_available_workspace(api, user, spec, tmp_path, monkeypatch):
    import dataclasses

    from reana_commons.config import get_config
    from reana_workflow_controller import workflows

    other = tmp_path / "scratch"
    config = dataclasses.replace(get_config(), extra={"workspaces_available": [str(other)]})
    monkeypatch.setattr(workflows, "get_config", lambda: config)
    created = api.post(
        "/api/workflows",
        query_string=q(user, workspace_root_path=str(other)),
        json={"reana_specification": spec, "workflow_name": "scratch"},
    )
    assert created.status_code == 201
    workflow_id = created.get_json()["workflow_id"]
    assert (other / "users" / str(user.id_) / "workflows" / workflow_id).is_dir()


def test_status_view_shape(api, user, make_workflow, db):
    created = make_workflow(user)
    workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
    workflow.job_progress = {"total": {"total": 2, "job_ids": []}}
    db.add(
        Job(
            workflow_uuid=workflow.id_,
            status=JobStatus.running,
            job_name="step0",
            prettified_cmd="python hello.py",
            docker_img="python:3.10",
        )
    )
    db.commit()
    for ref in (created["workflow_id"], "helloworld", "helloworld.1"):
        response = api.get(f"/api/workflows/{ref}/status", query_string=q(user))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"id", "name", "created", "status", "user", "progress", "logs"}
        assert body["name"] == "helloworld.1" and body["status"] == "created"
        progress = body["progress"]
        assert progress["total"] == {"total": 2, "job_ids": []}
        assert progress["finished"] == {"total": 0, "job_ids": []}
        assert progress["current_command"] == "python hello.py"
        assert progress["current_step_name"] == "step0"
        assert progress["run_started_at"] is None and "run_stopped_at" in progress
        job_logs = json.loads(body["logs"])
        assert len(job_logs) == 1 and set(next(iter(job_logs.values()))) == JOB_KEYS


def test_unknown_workflow_gives_reana_workon_message(api, user):
    response = api.get("/api/workflows/nothing.3/status", query_string=q(user))
    assert response.status_code == 404
    assert response.get_json()["message"] == (
        "REANA_WORKON is set to nothing.3, but that workflow does not exist. "
        "Please set your REANA_WORKON environment variable appropriately."
    )


def test_parameters_and_specification(api, user, spec, make_workflow, db):
    created = make_workflow(user)
    response = api.get("/api/workflows/helloworld/parameters", query_string=q(user))
    assert response.status_code == 200
    assert response.get_json() == {
        "id": created["workflow_id"],
        "name": "helloworld.1",
        "type": "serial",
        "parameters": spec["inputs"]["parameters"],
    }
    workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
    workflow.input_parameters = {"sleeptime": "2"}
    db.commit()
    body = api.get("/api/workflows/helloworld/specification", query_string=q(user)).get_json()
    assert body == {"specification": spec, "parameters": {"sleeptime": "2"}}


def _add_jobs(db, workflow_id, names):
    base = utcnow()
    jobs = []
    for index, name in enumerate(names):
        job = Job(
            workflow_uuid=workflow_id,
            status=JobStatus.finished,
            job_name=name,
            prettified_cmd=f"echo {index}",
            logs=f"log of {name}\n",
            compute_backend="local",
            started_at=base,
            finished_at=base,
        )
        job.created = base.replace(microsecond=index)
        db.add(job)
        jobs.append(job)
    db.commit()
    return [str(job.id_) for job in jobs]


def test_logs_shape_step_filter_and_pagination(api, user, make_workflow, db):
    created = make_workflow(user)
    workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
    workflow.logs = "engine says hi\n"
    db.commit()
    ids = _add_jobs(db, workflow.id_, ["step0", "step1", "step0", "step2"])
    response = api.get("/api/workflows/helloworld.1/logs", query_string=q(user, page=1))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"workflow_id", "workflow_name", "user", "logs"}
    logs = json.loads(body["logs"])
    assert logs["workflow_logs"] == "engine says hi\n" and logs["engine_specific"] is None
    assert list(logs["job_logs"]) == ids
    entry = logs["job_logs"][ids[1]]
    assert set(entry) == JOB_KEYS
    assert entry["job_name"] == "step1" and entry["status"] == "finished"
    assert entry["cmd"] == "echo 1" and entry["backend_job_id"] == ""
    # A JSON array of step names filters jobs; workflow logs are then left out.
    filtered = api.get("/api/workflows/helloworld.1/logs", query_string=q(user), json=["step0"])
    logs = json.loads(filtered.get_json()["logs"])
    assert list(logs["job_logs"]) == [ids[0], ids[2]] and logs["workflow_logs"] is None
    page2 = api.get("/api/workflows/helloworld.1/logs", query_string=q(user, page=2, size=3))
    assert list(json.loads(page2.get_json()["logs"])["job_logs"]) == [ids[3]]
    bad = api.get("/api/workflows/helloworld.1/logs", query_string=q(user), json={"a": 1})
    assert bad.status_code == 400
    bad_page = api.get("/api/workflows/helloworld.1/logs", query_string=q(user, page=0))
    assert bad_page.status_code == 400
    assert bad_page.get_json()["message"].startswith("Field 'page':")


def test_diff_of_specifications_and_workspaces(api, user, spec, make_workflow, db):
    make_workflow(user)
    spec["inputs"]["parameters"]["sleeptime"] = 5
    make_workflow(user, spec=spec)
    runs = db.scalars(select(Workflow).order_by(Workflow.run_number_major)).all()
    with open(os.path.join(runs[0].workspace_path, "a.txt"), "w") as handle:
        handle.write("one\ntwo\n")
    with open(os.path.join(runs[1].workspace_path, "a.txt"), "w") as handle:
        handle.write("one\nthree\n")
    response = api.get(
        "/api/workflows/helloworld.1/diff/helloworld.2",
        query_string=q(user, context_lines="1"),
    )
    assert response.status_code == 200
    body = response.get_json()
    spec_diff = json.loads(body["reana_specification"])
    assert spec_diff["workflow"] == [] and spec_diff["outputs"] == []
    assert any(line.startswith("-") and "'sleeptime': 0" in line for line in spec_diff["inputs"])
    assert any(line.startswith("+") and "'sleeptime': 5" in line for line in spec_diff["inputs"])
    workspace = json.loads(body["workspace_listing"])
    assert "-two" in workspace and "+three" in workspace
    assert "helloworld.1/a.txt" in workspace and runs[0].workspace_path not in workspace
    brief = api.get(
        "/api/workflows/helloworld.1/diff/helloworld.2", query_string=q(user, brief="true")
    ).get_json()
    assert "differ" in json.loads(brief["workspace_listing"])
    missing = api.get("/api/workflows/helloworld.1/diff/nope", query_string=q(user))
    assert missing.status_code == 404
    assert missing.get_json() == {"message": "Workflow nope does not exist."}
    bad = api.get(
        "/api/workflows/helloworld.1/diff/helloworld.2", query_string=q(user, context_lines="x")
    )
    assert bad.status_code == 400


def test_diff_does_not_follow_symlinks_out_of_the_workspace(api, user, make_workflow, db, tmp_path):
    make_workflow(user)
    make_workflow(user)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret content\n")
    runs = db.scalars(select(Workflow).order_by(Workflow.run_number_major)).all()
    os.symlink(secret, os.path.join(runs[0].workspace_path, "leak"))
    (tmp_path / "other.txt").write_text("other\n")
    os.symlink(tmp_path / "other.txt", os.path.join(runs[1].workspace_path, "leak"))
    body = api.get(
        "/api/workflows/helloworld.1/diff/helloworld.2", query_string=q(user)
    ).get_json()
    assert "top secret" not in body["workspace_listing"]


def test_other_users_runs_are_not_found(api, user, other_user, make_workflow):
    created = make_workflow(user)
    wid = created["workflow_id"]
    calls = [
        ("get", f"/api/workflows/{wid}/status", {}),
        ("put", f"/api/workflows/{wid}/status", {"status": "deleted"}),
        ("get", f"/api/workflows/{wid}/logs", {}),
        ("get", f"/api/workflows/{wid}/parameters", {}),
        ("get", f"/api/workflows/{wid}/specification", {}),
        ("get", f"/api/workflows/{wid}/retention_rules", {}),
        ("get", f"/api/workflows/{wid}/diff/{wid}", {}),
        ("get", f"/api/workflows/{wid}/workspace", {}),
        ("post", f"/api/workflows/{wid}/workspace", {"file_name": "x"}),
        ("get", f"/api/workflows/{wid}/workspace/x", {}),
        ("delete", f"/api/workflows/{wid}/workspace/x", {}),
        ("put", f"/api/workflows/move_files/{wid}", {"source": "a", "target": "b"}),
        ("get", f"/api/workflows/{wid}/disk_usage", {}),
        ("post", f"/api/workflows/{wid}/prune", {}),
        ("post", f"/api/workflows/{wid}/open/jupyter", {}),
        ("post", f"/api/workflows/{wid}/close", {}),
    ]
    for method, path, extra in calls:
        response = getattr(api, method)(
            path,
            query_string=q(other_user, **extra),
            data=b"stolen",
            content_type="application/octet-stream",
        )
        assert response.status_code == 404, (method, path, response.get_json())
        assert wid in response.get_json()["message"] or "does not exist" in response.get_json()[
            "message"
        ]
    listing = api.get("/api/workflows", query_string=q(other_user)).get_json()
    assert listing["items"] == [] and listing["user_has_workflows"] is False
    # Nothing changed for the owner.
    status = api.get(f"/api/workflows/{wid}/status", query_string=q(user)).get_json()
    assert status["status"] == "created"


def test_healthz_and_unknown_routes(api):
    assert api.get("/healthz").get_json() == {"status": "ok"}
    missing = api.get("/api/nothing")
    assert missing.status_code == 404 and "message" in missing.get_json()


def test_retention_rules_after_activation(api, user, spec, make_workflow, db):
    spec["workspace"] = {"retention_days": {"*.tmp": 2}}
    created = make_workflow(user, spec=spec)
    rule = db.scalars(select(WorkspaceRetentionRule)).one()
    from reana_db.enums import WorkspaceRetentionRuleStatus

    rule.status = WorkspaceRetentionRuleStatus.active
    rule.apply_on = utcnow().replace(microsecond=0)
    db.commit()
    body = api.get(
        f"/api/workflows/{created['workflow_id']}/retention_rules", query_string=q(user)
    ).get_json()
    assert body["retention_rules"][0]["status"] == "active"
    assert len(body["retention_rules"][0]["apply_on"]) == len("2024-01-01T00:00:00")


def test_create_validates_operational_options(api, user, spec, make_workflow, db):
    created = make_workflow(user, operational_options={"TARGET": "gendata", "CACHE": "off"})
    workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
    assert workflow.operational_options == {"TARGET": "gendata", "CACHE": "off"}
    for options, message in (
        ({"nope": 1}, 'Operational option "nope" not supported.'),
        ({"report": "x"}, 'Operational option "report" not supported for serial workflows.'),
    ):
        response = api.post(
            "/api/workflows",
            query_string=q(user),
            json={"reana_specification": spec, "operational_options": options},
        )
        assert response.status_code == 400 and response.get_json()["message"] == message
    cwl = dict(spec, workflow={"type": "cwl", "specification": {}})
    for options in ({"TARGET": "step"}, {"--target": "step"}):  # given or already translated
        created = make_workflow(user, name="cwl", spec=cwl, operational_options=options)
        workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
        assert workflow.operational_options == {"--target": "step"}
