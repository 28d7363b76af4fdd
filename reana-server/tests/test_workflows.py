"""Workflow endpoints through the live workflow controller."""

from __future__ import annotations

import json

from reana_db.enums import RunStatus
from reana_db.models import Workflow
from sqlalchemy import select


def test_create_list_status_specification_parameters(client, auth, workflow):
    assert workflow["workflow_name"] == "helloworld.1"
    assert workflow["message"] == "Workflow workspace created"

    listing = client.get(
        "/api/workflows",
        query_string={
            **auth,
            "type": "batch",
            "verbose": "false",
            "page": 1,
            "status": "created,running,finished,failed,stopped,queued,pending",
        },
    )
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert [i["name"] for i in items] == ["helloworld.1"]
    assert items[0]["size"]["raw"] == -1

    status = client.get("/api/workflows/helloworld.1/status", query_string=auth).get_json()
    assert status["status"] == "created"
    assert status["progress"]["total"] == {"total": 0, "job_ids": []}

    spec = client.get("/api/workflows/helloworld/specification", query_string=auth).get_json()
    assert spec["specification"]["workflow"]["type"] == "serial"
    assert spec["parameters"] == {}

    params = client.get("/api/workflows/helloworld.1/parameters", query_string=auth).get_json()
    assert params["parameters"]["sleeptime"] == 0
    assert params["name"] == "helloworld.1"


def test_create_rules(client, auth, create_workflow):
    assert create_workflow("")["workflow_name"] == "workflow.1"
    assert create_workflow("helloworld")["workflow_name"] == "helloworld.1"
    assert create_workflow("helloworld")["workflow_name"] == "helloworld.2"
    dotted = client.post("/api/workflows", query_string={**auth, "workflow_name": "a.b"}, json={})
    assert dotted.status_code == 403
    assert "illegal character" in dotted.get_json()["message"]
    uuid_name = client.post(
        "/api/workflows",
        query_string={**auth, "workflow_name": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
        json={"workflow": {"type": "serial"}},
    )
    assert uuid_name.status_code == 400
    assert uuid_name.get_json() == {"message": "Workflow name cannot be a valid UUIDv4."}
    spec_query = client.post(
        "/api/workflows", query_string={**auth, "workflow_name": "x", "spec": "y"}, json={}
    )
    assert spec_query.status_code == 501
    unknown = client.post(
        "/api/workflows",
        query_string={**auth, "workflow_name": "x"},
        json={"workflow": {"type": "nextflow"}},
    )
    assert unknown.status_code == 400
    assert unknown.get_json() == {"message": "Unknown workflow type."}


def test_unknown_workflow_messages(client, auth):
    missing = "REANA_WORKON is set to nope.1, but that workflow does not exist."
    status = client.get("/api/workflows/nope.1/status", query_string=auth)
    assert status.status_code == 404
    assert status.get_json()["message"].startswith(missing)
    spec = client.get("/api/workflows/nope.1/specification", query_string=auth)
    assert spec.status_code == 403
    assert spec.get_json()["message"].startswith(missing)


def _run(server_env, workflow_id):
    server_env.expire_all()
    return server_env.scalar(select(Workflow).where(Workflow.id_ == workflow_id))


def test_start_queues_and_publishes(client, auth, workflow, server_env, user):
    response = client.post(
        "/api/workflows/helloworld.1/start",
        query_string=auth,
        json={"input_parameters": {"sleeptime": "2"}, "operational_options": {}},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {
        "message": "Workflow submitted.",
        "workflow_id": workflow["workflow_id"],
        "workflow_name": "helloworld",
        "status": "queued",
        "run_number": "1",
        "user": str(user.id_),
    }
    import uuid

    run = _run(server_env, uuid.UUID(workflow["workflow_id"]))
    assert run.status == RunStatus.queued
    assert run.input_parameters == {"sleeptime": "2"}
    again = client.post("/api/workflows/helloworld.1/start", query_string=auth, json={})
    assert again.status_code == 403
    assert again.get_json() == {
        "message": "Workflow helloworld.1 is already queued and cannot be started again."
    }
    spec = client.get("/api/workflows/helloworld.1/specification", query_string=auth)
    assert spec.get_json()["parameters"] == {"sleeptime": "2"}


def test_start_message_reaches_the_submission_queue(client, auth, workflow, user):
    from kombu import Connection
    from reana_commons.messaging import decode_body, workflow_submission_queue

    client.post("/api/workflows/helloworld.1/start", query_string=auth, json={})
    from reana_commons.config import get_config

    with Connection(get_config().broker_url) as conn:
        queue = workflow_submission_queue()(conn.default_channel)
        message = queue.get(no_ack=True)
    assert message is not None
    body = decode_body(message.decode())
    assert body["user"] == str(user.id_)
    assert body["workflow_id_or_name"] == workflow["workflow_id"]
    assert body["parameters"]["input_parameters"] == {}


def test_start_refuses_unknown_parameter(client, auth, workflow):
    response = client.post(
        "/api/workflows/helloworld.1/start",
        query_string=auth,
        json={"input_parameters": {"nope": "1"}},
    )
    assert response.status_code == 400
    assert response.get_json() == {"message": 'Input parameter "nope" is not present in reana.yaml'}


def test_restart_only_from_finished_or_failed(client, auth, workflow, server_env):
    import uuid

    from reana_db.status import set_workflow_status

    refused = client.post(
        "/api/workflows/helloworld.1/start", query_string=auth, json={"restart": True}
    )
    assert refused.status_code == 403
    assert refused.get_json() == {"message": "Only finished or failed workflows can be restarted."}
    run = _run(server_env, uuid.UUID(workflow["workflow_id"]))
    for status in (RunStatus.queued, RunStatus.pending, RunStatus.running, RunStatus.finished):
        set_workflow_status(server_env, run, status)
    server_env.commit()
    restarted = client.post(
        "/api/workflows/helloworld.1/start", query_string=auth, json={"restart": True}
    )
    assert restarted.status_code == 200, restarted.get_json()
    body = restarted.get_json()
    assert (body["workflow_name"], body["run_number"], body["status"]) == (
        "helloworld",
        "1.1",
        "queued",
    )
    clone = _run(server_env, uuid.UUID(body["workflow_id"]))
    parent = _run(server_env, uuid.UUID(workflow["workflow_id"]))
    assert clone.restart and clone.workspace_path == parent.workspace_path
    status = client.get("/api/workflows/helloworld.1.1/status", query_string=auth)
    assert status.get_json()["name"] == "helloworld.1.1"


def test_set_status_start_then_delete(client, auth, workflow):
    started = client.put(
        "/api/workflows/helloworld.1/status", query_string={**auth, "status": "start"}, json={}
    )
    assert started.status_code == 200
    assert started.get_json()["workflow_name"] == "helloworld.1"
    assert "run_number" not in started.get_json()
    no_workspace = client.put(
        "/api/workflows/helloworld.1/status",
        query_string={**auth, "status": "deleted"},
        json={"workspace": False},
    )
    assert no_workspace.status_code == 400
    stop = client.put(
        "/api/workflows/helloworld.1/status",
        query_string={**auth, "status": "stop"},
        json={"force_stop": True},
    )
    assert stop.status_code in (200, 409)


def test_delete_all_runs(client, auth, create_workflow):
    create_workflow()
    create_workflow()
    deleted = client.put(
        "/api/workflows/helloworld/status",
        query_string={**auth, "status": "deleted"},
        json={"all_runs": True, "workspace": True},
    )
    assert deleted.status_code == 200, deleted.get_json()
    listing = client.get("/api/workflows", query_string={**auth, "type": "batch"}).get_json()
    assert {i["status"] for i in listing["items"]} <= {"deleted"}


def test_logs_with_step_body_on_get(client, auth, workflow):
    response = client.get(
        "/api/workflows/helloworld.1/logs",
        query_string={**auth, "page": 1},
        data=json.dumps(["step0"]),
        content_type="application/json",
    )
    assert response.status_code == 200
    logs = json.loads(response.get_json()["logs"])
    assert logs["job_logs"] == {}
    bad_page = client.get("/api/workflows/helloworld.1/logs", query_string={**auth, "page": 0})
    assert bad_page.status_code == 400
    assert bad_page.get_json()["message"].startswith("Field 'page'")


def test_diff_retention_rules_disk_usage_prune(client, auth, create_workflow, upload):
    create_workflow()
    create_workflow()
    diff = client.get(
        "/api/workflows/helloworld.1/diff/helloworld.2",
        query_string={**auth, "brief": "false", "context_lines": "5"},
    )
    assert diff.status_code == 200
    assert isinstance(diff.get_json()["workspace_listing"], str)
    rules = client.get("/api/workflows/helloworld.1/retention_rules", query_string=auth)
    assert rules.status_code == 200
    assert rules.get_json()["retention_rules"] == []
    assert upload("helloworld.1", "/data/names.txt", b"Jane\n").status_code == 200
    assert upload("helloworld.1", "tmp/junk.txt", b"junk").status_code == 200
    du = client.get(
        "/api/workflows/helloworld.1/disk_usage",
        query_string=auth,
        json={"summarize": False},
    )
    assert du.status_code == 200, du.get_json()
    names = {i["name"] for i in du.get_json()["disk_usage_info"]}
    assert {"/data/names.txt", "/tmp/junk.txt", ""} <= names
    pruned = client.post("/api/workflows/helloworld.1/prune", query_string=auth)
    assert pruned.status_code == 200
    assert pruned.get_json()["message"] == "The workspace has been correctly pruned."
    files = client.get("/api/workflows/helloworld.1/workspace", query_string=auth).get_json()
    assert [f["name"] for f in files["items"]] == ["data/names.txt"]


def test_retention_days_become_rules(client, auth, create_workflow, helloworld_spec):
    spec = {**helloworld_spec, "workspace": {"retention_days": {"tmp/*": 3}}}
    create_workflow(spec=spec)
    rules = client.get("/api/workflows/helloworld.1/retention_rules", query_string=auth)
    assert [
        (r["workspace_files"], r["retention_days"], r["status"])
        for r in rules.get_json()["retention_rules"]
    ] == [("tmp/*", 3, "created")]
    escaping = {**helloworld_spec, "workspace": {"retention_days": {"../x": 3}}}
    refused = client.post(
        "/api/workflows", query_string={**auth, "workflow_name": "x"}, json=escaping
    )
    assert refused.status_code == 400


def test_a_malformed_specification_is_refused_at_create(client, auth, helloworld_spec,
                                                        server_env):
    """Not stored as ``created`` to fail only at start (one owner of creation: reana-db)."""
    broken = json.loads(json.dumps(helloworld_spec))
    del broken["workflow"]["specification"]["steps"][0]["environment"]
    response = client.post("/api/workflows", query_string={**auth, "workflow_name": "broken"},
                           json=broken)
    assert response.status_code == 400
    assert "'environment' is a required property" in response.get_json()["message"]
    from reana_db.models import Workflow

    assert server_env.query(Workflow).filter_by(name="broken").count() == 0


def test_a_yadage_run_with_a_null_specification_starts(client, auth, create_workflow):
    # reana-client 0.9.6 sends yadage runs with "specification": null (the engine loads the
    # workflow file); start must queue them, not refuse them on the schema.
    yadage = {"version": "0.9.0", "inputs": {"parameters": {"x": "1"}},
              "workflow": {"type": "yadage", "file": "workflow/databkg.yml",
                           "specification": None}}
    create_workflow(name="yadage", spec=yadage)
    response = client.post("/api/workflows/yadage.1/start", query_string=auth, json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "queued"


def test_operational_options_are_checked(client, auth, workflow):
    unknown = client.post(
        "/api/workflows/helloworld.1/start",
        query_string=auth,
        json={"operational_options": {"NOPE": "1"}},
    )
    assert unknown.status_code == 400
    assert unknown.get_json() == {"message": 'Operational option "NOPE" not supported.'}
    wrong_engine = client.post(
        "/api/workflows/helloworld.1/start",
        query_string=auth,
        json={"operational_options": {"report": "r.html"}},
    )
    assert wrong_engine.get_json() == {
        "message": 'Operational option "report" not supported for serial workflows.'
    }
    accepted = client.post(
        "/api/workflows/helloworld.1/start",
        query_string=auth,
        json={"operational_options": {"TARGET": "step0"}},
    )
    assert accepted.status_code == 200
