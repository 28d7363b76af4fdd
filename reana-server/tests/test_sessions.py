"""Interactive sessions at the public API: open/close refusals, and who the proxy lets in.

The proxy is checked against a small HTTP server on a Unix socket standing for the
session's Jupyter server (the real one runs in tests/test_e2e_sessions.py): what reaches
it (the session's secret, never the user's token or the platform's cookies; the public
Host) and what comes back (status, headers, body, cookies).
"""

from __future__ import annotations

import json
import socketserver
import threading
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
from reana_db.enums import InteractiveSessionType
from reana_db.models import Workflow
from reana_db.sessions import create_session, store_handle

SECRET = "the-sessions-own-secret"


class _Upstream(BaseHTTPRequestHandler):
    """Answers every request with what it received (JSON), like Jupyter would: 200."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": dict(self.headers.items()),
                           "body": self.rfile.read(length).decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "_xsrf=abc; Path=/x/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        return request, ("local", 0)


@pytest.fixture
def upstream(tmp_path):
    """``unix:<path>`` of a server echoing what it receives."""
    path = tmp_path / "jupyter.sock"
    server = _UnixServer(str(path), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix:{path}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def session_of(server_env):
    """``session_of(workflow_id, endpoint)``: an open session row of that run."""

    def make(workflow_id, endpoint):
        run = server_env.get(Workflow, uuid.UUID(workflow_id))
        handle = create_session(server_env, run, InteractiveSessionType.jupyter, "local",
                                SECRET)
        store_handle(server_env, handle.id_, {"endpoint": endpoint,
                                              "base_url": f"/{workflow_id}/"})
        server_env.commit()

    return make


def test_open_and_close_refusals(client, auth, user, other_user, workflow):
    run_id = workflow["workflow_id"]
    unknown = client.post(f"/api/workflows/{run_id}/open/rstudio", query_string=auth, json={})
    assert (unknown.status_code, unknown.get_json()) == (404, {
        "message": "Interactive session type rstudio not found, try with one of: ['jupyter']"})
    stranger = client.post(f"/api/workflows/{run_id}/open/jupyter",
                           query_string={"access_token": other_user.test_token}, json={})
    assert stranger.status_code == 404
    closed = client.post(f"/api/workflows/{run_id}/close/", query_string=auth)
    assert (closed.status_code, closed.get_json()) == (
        404, {"message": "Workflow - helloworld.1 has no open interactive session."})


def test_only_the_owner_passes(client, user, other_user, workflow, upstream, session_of):
    run_id = workflow["workflow_id"]
    session_of(run_id, upstream)
    base = f"/{run_id}/api/contents"

    def get(**kwargs):
        return client.get(base, **kwargs)

    nothing = get()
    assert (nothing.status_code, nothing.get_json()) == (401, {"message": "User not signed in"})
    for token in ("not-a-token", other_user.test_token):
        refused = get(query_string={"token": token})
        assert refused.status_code == 403, refused.get_json()
        assert "path" not in refused.get_json()
    assert get(query_string={"token": other_user.test_token}).get_json() == {
        "message": "This interactive session belongs to another user."}
    assert get(headers={"Authorization": f"Bearer {other_user.test_token}"}).status_code == 403
    mixed = get(query_string={"token": user.test_token},
                headers={"Authorization": f"token {other_user.test_token}"})
    assert mixed.status_code == 403

    owner = get(query_string={"token": user.test_token, "type": "directory"})
    assert owner.status_code == 200, owner.get_data()
    seen = owner.get_json()
    # Jupyter gets the secret, never the user's token; other parameters pass
    assert seen["path"] == f"/{run_id}/api/contents?type=directory"
    assert seen["headers"]["Authorization"] == f"token {SECRET}"
    assert user.test_token not in json.dumps(seen)
    cookie = client.get_cookie("reana-session", path=f"/{run_id}/")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert "_xsrf=abc; Path=/x/" in owner.headers.getlist("Set-Cookie")

    # the cookie alone lets the owner's browser in, and is not passed on
    browser = client.application.test_client()
    browser.set_cookie("reana-session", cookie.value, path=f"/{run_id}/")
    browser.set_cookie("other", "1")
    with_cookie = browser.get(base)
    assert with_cookie.status_code == 200
    assert with_cookie.get_json()["headers"]["Cookie"] == "other=1"
    forger = client.application.test_client()
    forger.set_cookie("reana-session", cookie.value[:-1] + "0", path=f"/{run_id}/")
    assert forger.get(base).status_code == 403
    clean = client.application.test_client()
    secret = clean.get(base, headers={"Authorization": f"token {SECRET}"})
    assert secret.status_code == 200  # what Jupyter's own pages send back

    posted = clean.post(f"/{run_id}/api/contents/a.ipynb", query_string={"token": user.test_token},
                        data=b'{"type": "notebook"}', content_type="application/json")
    assert posted.get_json()["body"] == '{"type": "notebook"}'
    assert posted.get_json()["method"] == "POST"


def test_no_session_and_a_session_not_answering(client, user, workflow, session_of, tmp_path):
    run_id = workflow["workflow_id"]
    missing = client.get(f"/{run_id}/lab", query_string={"token": user.test_token})
    assert (missing.status_code, missing.get_json()) == (
        404, {"message": f"There is no open interactive session at /{run_id}."})
    ghost = str(uuid.uuid4())
    assert client.get(f"/{ghost}", query_string={"token": user.test_token}).status_code == 404
    session_of(run_id, f"unix:{tmp_path / 'nothing-listens.sock'}")
    starting = client.get(f"/{run_id}/lab", query_string={"token": user.test_token})
    assert starting.status_code == 503
    assert "not answering yet" in starting.get_json()["message"]
