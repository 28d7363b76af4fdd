"""The web UI's server side: page shell and assets, cookie sessions (token and password), CSRF,
a run's step graph and event stream. The browser itself is driven in tests/test_e2e_web_ui.py."""

from __future__ import annotations

import json
import re

import pytest
from reana_commons.config import reset_config


@pytest.fixture
def browser(app):
    """A test client keeping cookies, without the spec validation (the UI's routes are ours)."""
    return app.test_client()


def _sign_in(browser, **body) -> str:
    answer = browser.post("/api/login", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["csrf_token"]


@pytest.mark.parametrize("path", ["/", "/signin", "/profile", "/details/some-run", "/launch"])
def test_every_page_is_the_shell_with_local_assets_only(browser, path):
    page = browser.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "nothing may come from elsewhere"
    for asset in re.findall(r"(?:src|href)=\"(/ui/static/[^\"?]+)", html):
        assert browser.get(asset).status_code == 200, asset


def test_every_module_the_app_imports_is_served(browser):
    seen, pending = set(), ["app.js"]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        answer = browser.get(f"/ui/static/{name}")
        assert answer.status_code == 200, name
        text = answer.get_data(as_text=True)
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text
        base = name.rpartition("/")[0]
        for target in re.findall(r"""(?:from|import\()\s*["'](\.{1,2}/[^"']+)["']""", text):
            parts = (base.split("/") if base else []) + target.split("/")
            resolved = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part not in (".", ""):
                    resolved.append(part)
            pending.append("/".join(resolved))
    assert {"pages/run.js", "pages/workspace.js", "graph.js"} <= seen


def test_token_sign_in_opens_a_cookie_session_until_the_token_is_revoked(browser, user, db):
    from reana_db.users import revoke_tokens

    assert browser.get("/api/you").status_code == 401
    _sign_in(browser, access_token=user.test_token)
    you = browser.get("/api/you")
    assert you.status_code == 200 and you.get_json()["email"] == user.email
    assert browser.get("/api/workflows", query_string={"type": "batch"}).status_code == 200
    revoke_tokens(db, user)
    db.commit()
    refused = browser.get("/api/you")
    assert refused.status_code == 403
    assert refused.get_json() == {"message": "User access token revoked."}


def test_sign_in_refuses_bad_tokens_and_bodies(browser, user):
    assert browser.post("/api/login", json={"access_token": "nope"}).get_json() == {
        "message": "Token not valid."}
    assert browser.post("/api/login", json={}).status_code == 400
    assert browser.post("/api/login", json={"access_token": "x", "email": "a@b.c"}).status_code \
        == 400
    form = browser.post("/api/login", data={"access_token": user.test_token})
    assert form.status_code == 400 and "JSON" in form.get_json()["message"]
    assert browser.get("/api/you").status_code == 401


def test_cookie_writes_need_the_csrf_token(browser, user, create_workflow):
    created = create_workflow()
    csrf = _sign_in(browser, access_token=user.test_token)
    path = f"/api/workflows/{created['workflow_id']}/status"
    forged = browser.put(path, query_string={"status": "deleted"}, json={})
    assert forged.status_code == 403 and "CSRF" in forged.get_json()["message"]
    wrong = browser.put(path, query_string={"status": "deleted"}, json={},
                        headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    done = browser.put(path, query_string={"status": "deleted"}, json={},
                       headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.get_json()
    assert browser.post("/api/logout", json={}).status_code == 403  # logout too
    assert browser.post("/api/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.get("/api/you").status_code == 401


def test_register_then_password_sessions_need_a_granted_token(browser, db):
    from reana_db.models import User
    from reana_db.users import grant_token

    body = {"email": "ada@example.org", "password": "correct horse", "full_name": "Ada"}
    assert browser.post("/api/register", json=dict(body, password="short")).status_code == 400
    assert browser.post("/api/register", json=dict(body, email="not-an-email")).status_code \
        == 400
    registered = browser.post("/api/register", json=body)
    assert registered.status_code == 201, registered.get_json()
    assert browser.post("/api/register", json=body).status_code == 400  # email taken
    you = browser.get("/api/you").get_json()
    assert you["email"] == "ada@example.org" and you["reana_token"]["status"] == ""
    listing = browser.get("/api/workflows", query_string={"type": "batch"})
    assert listing.status_code == 403 and "no active access token" in listing.get_json()["message"]

    browser.post("/api/logout", json={}, headers={"X-CSRF-Token": registered.get_json()[
        "csrf_token"]})
    wrong = browser.post("/api/login", json={"email": "ada@example.org", "password": "nope!!!!"})
    assert wrong.status_code == 401
    assert wrong.get_json() == {"message": "Invalid email or password."}
    unknown = browser.post("/api/login", json={"email": "bob@example.org", "password": "x" * 9})
    assert unknown.get_json() == wrong.get_json()
    _sign_in(browser, email="ADA@example.org", password="correct horse")
    grant_token(db, db.query(User).filter_by(email="ada@example.org").one())
    db.commit()
    assert browser.get("/api/workflows", query_string={"type": "batch"}).status_code == 200


def test_a_new_password_ends_older_sessions(browser, db):
    from reana_db.models import User
    from werkzeug.security import generate_password_hash

    browser.post("/api/register", json={"email": "eve@example.org", "password": "first pass"})
    assert browser.get("/api/you").status_code == 200
    user = db.query(User).filter_by(email="eve@example.org").one()
    user.password_hash = generate_password_hash("second pass")
    db.commit()
    ended = browser.get("/api/you")
    assert ended.status_code == 401 and "sign in again" in ended.get_json()["message"]


def test_local_accounts_can_be_switched_off(browser, monkeypatch, user):
    monkeypatch.setenv("REANA_LOCAL_USERS", "false")
    reset_config()
    config = browser.get("/api/config").get_json()
    assert config["local_users"] is False and config["hide_signup"] is True
    assert browser.post("/api/register", json={"email": "x@example.org",
                                               "password": "long enough"}).status_code == 403
    refused = browser.post("/api/login", json={"email": user.email, "password": "whatever1"})
    assert refused.status_code == 403 and "access token" in refused.get_json()["message"]
    _sign_in(browser, access_token=user.test_token)  # tokens always work


def test_graph_of_a_serial_run_and_not_of_another_users(browser, client, user, other_user,
                                                        workflow, auth):
    graph = client.get(f"/api/workflows/{workflow['workflow_id']}/graph", query_string=auth)
    assert graph.status_code == 200
    assert graph.get_json() == {"nodes": [{"name": "step 1", "state": "waiting", "jobs": []}],
                                "edges": [], "truncated": False}
    stranger = client.get(f"/api/workflows/{workflow['workflow_id']}/graph",
                          query_string={"access_token": other_user.test_token})
    assert stranger.status_code == 404
    events = client.get(f"/api/workflows/{workflow['workflow_id']}/events",
                        query_string={"access_token": other_user.test_token})
    assert events.status_code == 404


def test_workspace_files_cannot_run_scripts_on_the_ui_origin(client, workflow, upload, auth):
    upload(workflow["workflow_name"], "page.html", b"<script>alert(1)</script>")
    answer = client.get(f"/api/workflows/{workflow['workflow_name']}/workspace/page.html",
                        query_string=dict(auth, preview="true"))
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == "sandbox"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_events_stream_of_an_ended_run(browser, user, workflow, db):
    from reana_db.enums import RunStatus
    from reana_db.models import Workflow

    run = db.get(Workflow, __import__("uuid").UUID(workflow["workflow_id"]))
    run.status = RunStatus.failed
    run.logs = "engine said hello\n"
    db.commit()
    _sign_in(browser, access_token=user.test_token)
    answer = browser.get(f"/api/workflows/{workflow['workflow_id']}/events")
    assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
    events = [block for block in answer.get_data(as_text=True).split("\n\n") if block]
    kinds = [block.split("\n")[0] for block in events]
    assert kinds == ["retry: 1000", "event: state", "event: log", "event: end"]
    state = json.loads(events[1].split("data: ", 1)[1])
    assert state["status"] == "failed" and state["graph"]["nodes"][0]["name"] == "step 1"
    assert json.loads(events[2].split("data: ", 1)[1]) == {"job": "engine",
                                                          "text": "engine said hello\n"}


def test_graph_structures_of_every_engine():
    from reana_server.run_graph import structure, with_states

    cwl = {"$graph": [
        {"class": "CommandLineTool", "id": "#gen.cwl"},
        {"class": "Workflow", "id": "#main", "steps": [
            {"id": "#main/gen", "in": [{"id": "#main/gen/n", "source": "#main/events"}]},
            {"id": "#main/fit", "in": [{"id": "#main/fit/data", "source": "#main/gen/data"}]},
            {"id": "#main/plot", "in": [{"id": "#main/plot/d", "source": ["#main/gen/data",
                                                                          "#main/fit/result"]}]},
        ]}]}
    graph = structure("cwl", {"workflow": {"specification": cwl}})
    assert graph.nodes == ["gen", "fit", "plot"]
    assert graph.edges == [("gen", "fit"), ("gen", "plot"), ("fit", "plot")]
    yadage = {"stages": [{"name": "a", "dependencies": ["init"]},
                         {"name": "b", "dependencies": {"expressions": ["a"]}},
                         {"name": "c", "dependencies": ["a", "b"]}]}
    assert structure("yadage", {"workflow": {"specification": yadage}}).edges == [
        ("a", "b"), ("a", "c"), ("b", "c")]
    snakemake = {"job_dependencies": {"all": ["plot"], "plot": ["fit"], "fit": []},
                 "steps": [{"name": "fit"}, {"name": "plot"}]}
    assert structure("snakemake", {"workflow": {"specification": snakemake}}).edges == [
        ("fit", "plot")]
    shown = with_states(graph, [
        {"id": "1", "job_name": "gen", "status": "finished"},
        {"id": "2", "job_name": "fit", "status": "finished"},
        {"id": "3", "job_name": "fit_2", "status": "running"},
        {"id": "4", "job_name": "cleanup", "status": "queued"},
    ])
    states = {node["name"]: (node["state"], node["jobs"]) for node in shown["nodes"]}
    assert states == {"gen": ("finished", ["1"]), "fit": ("running", ["2", "3"]),
                      "plot": ("waiting", []), "cleanup": ("queued", ["4"])}


def test_event_stream_sends_only_what_changed_and_ends():
    from reana_server.run_events import events
    from reana_server.run_graph import Graph

    answers = [
        ({"status": "running", "progress": {}}, {"job-1": "a\n"}),
        ({"status": "running", "progress": {}}, {"job-1": "a\nb\n"}),
        ({"status": "running", "progress": {}}, {"job-1": "a\nb\n"}),
        ({"status": "finished", "progress": {}}, {"job-1": "a\nb\nc\n"}),
    ]
    step = iter(range(len(answers)))
    current = {}

    def read_item():
        current["i"] = next(step)
        return answers[current["i"]][0]

    def read_logs():
        logs = {job: {"job_name": "s", "status": answers[current["i"]][0]["status"],
                      "logs": text} for job, text in answers[current["i"]][1].items()}
        return {"logs": json.dumps({"workflow_logs": "", "job_logs": logs})}

    blocks = list(events(read_item, read_logs, Graph(["s"]), sleep=lambda _s: None))
    logs = [json.loads(b.split("data: ")[1]) for b in blocks if b.startswith("event: log")]
    assert logs == [{"job": "engine", "text": ""}, {"job": "job-1", "text": "a\n"},
                    {"job": "job-1", "append": "b\n"}, {"job": "job-1", "append": "c\n"}]
    kinds = [b.split("\n")[0] for b in blocks]
    assert kinds.count("event: state") == 2  # running, then finished; unchanged reads send none
    assert kinds[-1] == "event: end"


def test_event_stream_closes_after_its_lifetime():
    from reana_server.run_events import events
    from reana_server.run_graph import Graph

    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    blocks = list(events(lambda: {"status": "running"}, lambda: {"logs": "{}"}, Graph(),
                         lifetime=5, clock=lambda: now[0], sleep=sleep))
    assert now[0] == 5.0  # ten reads 0.5 s apart, then the connection closes
    assert not any(block.startswith("event: end") for block in blocks)
