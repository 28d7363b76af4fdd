"""Interactive sessions in the workflow controller: a real JupyterLab on a run's workspace.

Through the internal API: open starts the local session manager's sandboxed Jupyter server,
its handle is recorded and it serves the workspace on its socket; the session keeper marks
it running, closes it when its server dies or it stays idle; close and deleting the run end
it and free its socket folder; REANA's refusals. SQLite only: the rows are reana-db's
(tested on both databases there); these tests are about processes.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import psutil
import pytest
from reana_commons.session_endpoints import EndpointConnection, jupyter_status
from reana_db.models import SessionHandle
from reana_db.sessions import open_session_of

pytestmark = [pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
              pytest.mark.timeout(600)]

ANSWER_TIMEOUT = 300  # JupyterLab starts in ~5 s on a quiet machine, far slower at load 30


def q(user):
    return {"user": str(user.id_)}


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.3)


def opened_session(db, run_id):
    db.expire_all()
    return open_session_of(db, uuid.UUID(str(run_id)))


def answering(db, run_id) -> dict:
    session = opened_session(db, run_id)
    found = {}

    def check():
        found.update(jupyter_status(session.handle["endpoint"], session.handle["base_url"],
                                    session.secret) or {})
        return bool(found)

    wait_until(check, ANSWER_TIMEOUT, "Jupyter answers")
    return found


def group_of(handle) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == handle["pgid"]:
                members.append(process)
        except OSError:
            continue
    return members


def test_open_serve_keep_close(api, db, user, make_workflow):
    from reana_workflow_controller.sessions import SessionKeeper

    run = make_workflow(user)
    run_id = run["workflow_id"]
    api.post(f"/api/workflows/{run_id}/workspace", query_string={**q(user), "file_name":
             "data/names.txt"}, data=b"Jane\n", content_type="application/octet-stream")
    answer = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user), json={})
    assert (answer.status_code, answer.get_json()) == (200, {"path": f"/{run_id}"})
    again = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user), json={})
    assert (again.status_code, again.get_json()) == (
        404, {"message": "Interactive session is already open"})
    listed = api.get("/api/workflows", query_string={**q(user), "type": "interactive"})
    item = listed.get_json()["items"][0]
    assert (item["session_type"], item["session_uri"], item["session_status"]) == (
        "jupyter", f"/{run_id}", "created")

    session = opened_session(db, run_id)
    handle = session.handle
    assert Path(handle["log"]).is_file() and "bubblewrap" in Path(handle["log"]).read_text()
    assert json.loads((Path(handle["log"]).parent / "handle.json").read_text()) == handle
    status = answering(db, run_id)
    assert status["kernels"] == 0
    contents = EndpointConnection(handle["endpoint"])
    contents.request("GET", f"{handle['base_url']}api/contents/data",
                     headers={"Authorization": f"token {session.secret}"})
    listing = json.loads(contents.getresponse().read())
    assert [f["name"] for f in listing["content"]] == ["names.txt"]
    wrong = EndpointConnection(handle["endpoint"])
    wrong.request("GET", f"{handle['base_url']}api/contents",
                  headers={"Authorization": "token not-the-secret"})
    assert wrong.getresponse().status == 403

    keeper = SessionKeeper(interval=1, max_inactivity=None)
    assert keeper.keep_once() == []
    listed = api.get("/api/workflows", query_string={**q(user), "type": "interactive"})
    assert listed.get_json()["items"][0]["session_status"] == "running"

    members = group_of(handle)
    closed = api.post(f"/api/workflows/{run_id}/close/", query_string=q(user))
    assert (closed.status_code, closed.get_json()) == (
        200, {"message": "The interactive session has been closed"})
    psutil.wait_procs(members, timeout=30)
    assert not [p for p in members if p.is_running()]
    assert not Path(handle["socket_dir"]).exists()
    assert not (Path(handle["log"]).parent / "handle.json").exists()
    again = api.post(f"/api/workflows/{run_id}/close", query_string=q(user))
    assert (again.status_code, again.get_json()) == (
        404, {"message": "Workflow - helloworld.1 has no open interactive session."})
    row = db.get(SessionHandle, session.id_)
    db.refresh(row)
    assert row.close_reason == "closed by its owner" and row.secret_encrypted is None


def test_keeper_closes_dead_and_idle_sessions(api, db, user, make_workflow):
    from reana_workflow_controller.sessions import SessionKeeper

    run_id = make_workflow(user)["workflow_id"]
    assert api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user),
                    json={}).status_code == 200
    handle = opened_session(db, run_id).handle
    os.killpg(handle["pgid"], signal.SIGKILL)  # the server dies under the session
    wait_until(lambda: not psutil.pid_exists(handle["pid"]) or
               psutil.Process(handle["pid"]).status() == psutil.STATUS_ZOMBIE, 30, "killed")
    assert SessionKeeper(interval=1).keep_once() == ["its Jupyter server ended"]
    assert opened_session(db, run_id) is None
    assert not Path(handle["socket_dir"]).exists()

    assert api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user),
                    json={}).status_code == 200
    answering(db, run_id)
    idle_keeper = SessionKeeper(interval=1, max_inactivity=8.64)
    closed = []
    wait_until(lambda: closed.extend(idle_keeper.keep_once()) or closed, 120, "idle closure")
    assert closed == ["inactive for longer than 0.0001 days"]
    assert opened_session(db, run_id) is None


def test_refusals_and_deletion(api, db, user, other_user, make_workflow):
    from reana_db.sharing import share_workflow

    run_id = make_workflow(user)["workflow_id"]
    unknown = api.post(f"/api/workflows/{run_id}/open/vscode", query_string=q(user), json={})
    assert (unknown.status_code, unknown.get_json()) == (404, {
        "message": "Interactive session type vscode not found, try with one of: ['jupyter']"})
    stranger = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(other_user),
                        json={})
    assert stranger.status_code == 404
    from reana_db.models import Workflow

    share_workflow(db, user, db.get(Workflow, uuid.UUID(run_id)),
                   other_user.email)
    db.commit()
    reader = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(other_user),
                      json={})
    assert reader.status_code == 404 and "read-only" in reader.get_json()["message"]

    assert api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user),
                    json={}).status_code == 200
    handle = opened_session(db, run_id).handle
    deleted = api.put(f"/api/workflows/{run_id}/status",
                      query_string={**q(user), "status": "deleted"}, json={"workspace": True})
    assert deleted.status_code == 200, deleted.get_json()
    assert opened_session(db, run_id) is None
    assert not Path(handle["socket_dir"]).exists()
    wait_until(lambda: not group_of(handle), 30, "the session's processes gone")
    gone = api.post(f"/api/workflows/{run_id}/open/jupyter", query_string=q(user), json={})
    assert gone.status_code == 404 and "deleted" in gone.get_json()["message"]
