"""GA4GH WES 1.1 at /ga4gh/wes/v1 (ADR 0027), through the Flask test client and a live
workflow controller: every answer is checked against the GA4GH spec.

A WES run is an ordinary run of its user: created by the one owner of run creation,
queued like ``reana-client start``, seen by REANA's API; attachments cannot escape the
workspace and inputs name attachments only. The CWL run to COMPLETE with the stock
``wes-client`` is in ``tests/test_wes_e2e.py``.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from pathlib import Path

import pytest
import schemathesis
from reana_commons.openapi import wes_specification_path

DATA = Path(__file__).parent / "data" / "wes"
BOTH_DATABASES = ("test_list_runs_pages_with_tokens", "test_tasks_are_the_runs_jobs")
"""Keyset pages and the job-failure subquery: SQL that PostgreSQL runs differently."""
WES = "/ga4gh/wes/v1"


@pytest.fixture(scope="module")
def wes_spec():
    return schemathesis.openapi.from_path(str(wes_specification_path()))


class WesClient:
    """The Flask test client, every answer checked against the WES spec."""

    def __init__(self, app, spec, token):
        self.client = app.test_client()
        self.spec = spec
        self.token = token

    def call(self, method, path, template=None, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token is not False:
            headers.setdefault("Authorization", f"Bearer {token or self.token}")
        response = self.client.open(WES + path, method=method, headers=headers, **kwargs)
        template = template or path
        if template in ("/runs/{run_id}/stdout", "/runs/{run_id}/tasks/{task_id}/stdout"):
            return response
        operation = self.spec[template][method]
        assert response.status_code in {int(c) for c in operation.definition.raw["responses"]}, (
            method, path, response.status_code, response.get_data(as_text=True))
        if response.status_code >= 400:
            body = response.get_json()
            assert set(body) == {"msg", "status_code"}, body
            assert body["status_code"] == response.status_code
        else:
            operation.validate_response(response)
        return response

    def submit(self, files: dict[str, bytes], token=None, **fields):
        data = {key: (json.dumps(value) if isinstance(value, dict) else value)
                for key, value in fields.items()}
        data["workflow_attachment"] = [(io.BytesIO(content), name)
                                       for name, content in files.items()]
        return self.call("POST", "/runs", token=token, data=data,
                         content_type="multipart/form-data")


def cwl_files() -> dict[str, bytes]:
    return {name: (DATA / name).read_bytes()
            for name in ("wc.cwl", "tools/wc.cwl", "data/names.txt")}


def cwl_fields(**changes) -> dict:
    fields = {
        "workflow_type": "CWL", "workflow_type_version": "v1.2", "workflow_url": "wc.cwl",
        "workflow_params": {"infile": {"class": "File",
                                       "location": "file:///home/someone/wf/data/names.txt"}},
        "tags": {"workflow_name": "wescount", "project": "x"},
    }
    fields.update(changes)
    return fields


@pytest.fixture
def wes(app, user, wes_spec):
    return WesClient(app, wes_spec, user.test_token)


def test_service_info_needs_no_token_and_offers_the_types(wes):
    body = wes.call("GET", "/service-info", token=False).get_json()
    assert body["type"] == {"group": "org.ga4gh", "artifact": "wes", "version": "1.1.0"}
    types = body["workflow_type_versions"]
    assert types["CWL"]["workflow_type_version"] == ["v1.0", "v1.1", "v1.2"]
    assert set(types) == {"CWL", "SMK", "REANA"}
    assert body["workflow_engine_versions"]["cwl"]["workflow_engine_version"]  # cwltool's
    assert body["supported_filesystem_protocols"] == ["file"]


def test_every_credential_form_and_refusals(wes, user):
    token = user.test_token
    basic = base64.b64encode(f"jane:{token}".encode()).decode()
    for headers, query in (({"Authorization": f"Bearer {token}"}, {}),
                           ({"Authorization": f"Basic {basic}"}, {}),
                           ({}, {"access_token": token})):
        response = wes.call("GET", "/runs", token=False, headers=headers, query_string=query)
        assert response.status_code == 200
    missing = wes.call("GET", "/runs", token=False)
    assert missing.status_code == 401 and missing.get_json()["msg"] == "User not signed in"
    wrong = base64.b64encode(b"jane:not-a-token").decode()
    refused = wes.call("GET", "/runs", token=False, headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 403


def test_a_cwl_run_is_an_ordinary_queued_run_with_its_attachments(wes, app, user, server_env):
    from reana_db.models import Workflow

    response = wes.submit(cwl_files(), **cwl_fields())
    assert response.status_code == 200, response.get_json()
    run_id = response.get_json()["run_id"]
    workflow = server_env.get(Workflow, uuid.UUID(run_id))
    assert workflow.name == "wescount" and workflow.status.name == "queued"
    workspace = Path(workflow.workspace_path)
    assert (workspace / "tools/wc.cwl").read_bytes() == (DATA / "tools/wc.cwl").read_bytes()
    assert (workspace / "data/names.txt").read_text() == "Jane\nJohn\nJim\n"
    spec = workflow.reana_specification
    main = spec["workflow"]["specification"]
    assert main["id"] == "#main" and main["steps"][0]["run"]["baseCommand"] == ["wc", "-l"]
    # The client's path on its own disk became the attachment's name in the workspace.
    assert spec["inputs"]["parameters"] == {
        "infile": {"class": "File", "location": "data/names.txt"}}

    # REANA's API sees the same run.
    status = app.test_client().get(f"/api/workflows/{run_id}/status",
                                   query_string={"access_token": user.test_token})
    assert status.get_json()["status"] == "queued"
    assert wes.call("GET", f"/runs/{run_id}/status", "/runs/{run_id}/status").get_json() == {
        "run_id": run_id, "state": "QUEUED"}
    log = wes.call("GET", f"/runs/{run_id}", "/runs/{run_id}").get_json()
    assert log["request"]["workflow_url"] == "wc.cwl"
    assert log["request"]["tags"] == {"workflow_name": "wescount", "project": "x"}
    assert log["outputs"] == {} and log["task_logs_url"].endswith(f"/runs/{run_id}/tasks")
    listed = wes.call("GET", "/runs").get_json()["runs"]
    assert listed[0]["run_id"] == run_id
    assert listed[0]["tags"]["reana_workflow_name"] == "wescount.1"


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../b", "a/\x00b"])
def test_attachment_names_cannot_leave_the_workspace(wes, server_env, name):
    from reana_db.models import Workflow
    from sqlalchemy import func, select

    files = dict(cwl_files(), **{name: b"evil"})
    response = wes.submit(files, **cwl_fields())
    assert response.status_code == 400, response.get_json()
    assert server_env.scalar(select(func.count()).select_from(Workflow)) == 0


@pytest.mark.parametrize("location", [
    "file:///etc/passwd", "/etc/passwd", "https://example.org/names.txt", "names.txt",
    "data/../../etc/passwd",
])
def test_inputs_name_attachments_only(wes, server_env, location):
    from reana_db.models import Workflow
    from sqlalchemy import func, select

    params = {"infile": {"class": "File", "location": location}}
    response = wes.submit(cwl_files(), **cwl_fields(workflow_params=params))
    assert response.status_code == 400, response.get_json()
    assert "attachment" in response.get_json()["msg"]
    assert server_env.scalar(select(func.count()).select_from(Workflow)) == 0


def test_workflow_documents_reference_attachments_only(wes):
    evil = b"cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n" \
           b"  s:\n    run: /etc/hostname\n    in: {}\n    out: []\n"
    response = wes.submit({"evil.cwl": evil}, **cwl_fields(workflow_url="evil.cwl",
                                                          workflow_params={}))
    assert response.status_code == 400
    include = b"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n" \
              b"arguments:\n  - $include: ../../secret-key\ninputs: []\noutputs: []\n"
    response = wes.submit({"inc.cwl": include}, **cwl_fields(workflow_url="inc.cwl",
                                                            workflow_params={}))
    assert response.status_code == 400


@pytest.mark.parametrize("changes,message", [
    ({"workflow_type": "WDL"}, "workflow_type WDL is not supported"),
    ({"workflow_type_version": "v0.9"}, "workflow_type_version v0.9"),
    ({"workflow_params": "[1]"}, "workflow_params must be a JSON-encoded object"),
    ({"tags": '{"a": 1}'}, "tags must map strings to strings"),
    ({"workflow_url": "missing.cwl"}, "is not among the workflow attachments"),
    ({"workflow_engine": "snakemake"}, "workflow_engine snakemake cannot run"),
])
def test_bad_requests_are_400_with_a_message(wes, changes, message):
    response = wes.submit(cwl_files(), **cwl_fields(**changes))
    assert response.status_code == 400
    assert message in response.get_json()["msg"]


def test_a_reana_yaml_run_loads_its_workflow_file_from_the_attachments(wes, server_env):
    from reana_db.models import Workflow

    reana_yaml = (b"version: 0.9.0\ninputs:\n  parameters: {who: world}\n"
                  b"workflow:\n  type: serial\n  file: steps.yaml\n"
                  b"outputs:\n  files: [hello.txt]\n")
    steps = b"steps:\n  - environment: bash\n    commands: ['echo hello ${who} > hello.txt']\n"
    response = wes.submit({"reana.yaml": reana_yaml, "steps.yaml": steps},
                          workflow_type="reana", workflow_type_version="0.9.0",
                          workflow_url="reana.yaml", workflow_params={"who": "wes"},
                          workflow_engine_parameters={"CACHE": "off"})
    assert response.status_code == 200, response.get_json()
    workflow = server_env.get(Workflow, uuid.UUID(response.get_json()["run_id"]))
    assert workflow.type_ == "serial" and workflow.name == "reana"
    assert workflow.reana_specification["workflow"]["specification"]["steps"][0]["commands"]
    assert workflow.input_parameters == {"who": "wes"}
    assert workflow.operational_options == {"CACHE": "off"}


def test_runs_of_others_are_invisible(wes, other_user):
    run_id = wes.submit(cwl_files(), **cwl_fields()).get_json()["run_id"]
    for path, template in ((f"/runs/{run_id}", "/runs/{run_id}"),
                           (f"/runs/{run_id}/status", "/runs/{run_id}/status"),
                           (f"/runs/{run_id}/tasks", "/runs/{run_id}/tasks")):
        response = wes.call("GET", path, template, token=other_user.test_token)
        assert response.status_code == 404
    cancel = wes.call("POST", f"/runs/{run_id}/cancel", "/runs/{run_id}/cancel",
                      token=other_user.test_token)
    assert cancel.status_code == 404
    assert wes.call("GET", "/runs", token=other_user.test_token).get_json()["runs"] == []


def test_list_runs_pages_with_tokens(wes, create_workflow):
    created = [create_workflow(f"paged{i}")["workflow_id"] for i in range(5)]
    seen, token, pages = [], "", 0
    while True:
        query = {"page_size": 2, **({"page_token": token} if token else {})}
        body = wes.call("GET", "/runs", query_string=query).get_json()
        assert len(body["runs"]) <= 2
        seen += [run["run_id"] for run in body["runs"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(created) and len(set(seen)) == 5
    assert all(state == "QUEUED" for state in
               (r["state"] for r in wes.call("GET", "/runs").get_json()["runs"]))
    bad = wes.call("GET", "/runs", query_string={"page_token": "garbage!"})
    assert bad.status_code == 400


def test_cancel_stops_a_queued_run_and_refuses_a_created_one(wes, create_workflow):
    run_id = wes.submit(cwl_files(), **cwl_fields()).get_json()["run_id"]
    canceled = wes.call("POST", f"/runs/{run_id}/cancel", "/runs/{run_id}/cancel")
    assert canceled.status_code == 200 and canceled.get_json() == {"run_id": run_id}
    status = wes.call("GET", f"/runs/{run_id}/status", "/runs/{run_id}/status").get_json()
    assert status["state"] == "CANCELED"
    again = wes.call("POST", f"/runs/{run_id}/cancel", "/runs/{run_id}/cancel")
    assert again.status_code == 200  # already ended: nothing to do
    created = create_workflow("notstarted")["workflow_id"]
    refused = wes.call("POST", f"/runs/{created}/cancel", "/runs/{run_id}/cancel")
    assert refused.status_code == 403


def test_tasks_are_the_runs_jobs(wes, server_env):
    from reana_db.enums import JobStatus, RunStatus
    from reana_db.models import Job, Workflow
    from reana_db.status import set_workflow_status

    run_id = wes.submit(cwl_files(), **cwl_fields()).get_json()["run_id"]
    workflow = server_env.get(Workflow, uuid.UUID(run_id))
    jobs = [Job(workflow_uuid=workflow.id_, job_name=f"step {i}", cmd=f"wc -l {i}",
                status=JobStatus.finished if i else JobStatus.failed, exit_code=i and 0 or 2,
                compute_backend="local", logs=f"log of {i}\n") for i in range(3)]
    server_env.add_all(jobs)
    set_workflow_status(server_env, workflow, RunStatus.failed, logs="engine failed\n")
    server_env.commit()
    first = wes.call("GET", f"/runs/{run_id}/tasks", "/runs/{run_id}/tasks",
                     query_string={"page_size": 2}).get_json()
    assert len(first["task_logs"]) == 2 and first["next_page_token"]
    rest = wes.call("GET", f"/runs/{run_id}/tasks", "/runs/{run_id}/tasks",
                    query_string={"page_token": first["next_page_token"]}).get_json()
    tasks = first["task_logs"] + rest["task_logs"]
    assert [t["name"] for t in tasks] == ["step 0", "step 1", "step 2"]
    assert tasks[0]["exit_code"] == 2 and "compute_backend: local" in tasks[0]["system_logs"]
    one = wes.call("GET", f"/runs/{run_id}/tasks/{tasks[1]['id']}",
                   "/runs/{run_id}/tasks/{task_id}").get_json()
    assert one["cmd"] == ["wc -l 1"]
    log = wes.client.get(one["stdout"].removeprefix("http://localhost"),
                         headers={"Authorization": f"Bearer {wes.token}"})
    assert log.status_code == 200 and log.get_data(as_text=True) == "log of 1\n"
    missing = wes.call("GET", f"/runs/{run_id}/tasks/{uuid.uuid4()}",
                       "/runs/{run_id}/tasks/{task_id}")
    assert missing.status_code == 404
    state = wes.call("GET", f"/runs/{run_id}/status", "/runs/{run_id}/status").get_json()
    assert state["state"] == "EXECUTOR_ERROR"  # a job exited non-zero
    run_log = wes.call("GET", f"/runs/{run_id}", "/runs/{run_id}").get_json()
    engine_log = wes.client.get(run_log["run_log"]["stderr"].removeprefix("http://localhost"),
                                headers={"Authorization": f"Bearer {wes.token}"})
    assert "engine failed" in engine_log.get_data(as_text=True)


def test_a_failed_run_without_a_failed_job_is_a_system_error():
    from reana_db.enums import RunStatus
    from reana_server.wes.states import wes_state

    assert wes_state(RunStatus.failed, a_job_failed=False) == "SYSTEM_ERROR"
    assert wes_state(RunStatus.failed, a_job_failed=True) == "EXECUTOR_ERROR"
    assert wes_state(RunStatus.pending, False) == "INITIALIZING"
    assert wes_state(RunStatus.stopped, False) == "CANCELED"
