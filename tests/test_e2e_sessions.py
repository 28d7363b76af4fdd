"""Interactive sessions end to end: reana-client 0.9.6 opens Jupyter on a finished run.

One platform (``make up``'s way) for the module. The URL ``reana-client open`` prints serves
JupyterLab through reana-server; Jupyter's contents API lists the run's workspace; a kernel
runs code over a WebSocket tunnelled by reana-server, inside the run's sandbox; ``list -s``
shows the session; a second user's token is refused; ``close`` ends the server and the URL
stops serving; deleting a run closes its session; the session's time counts as CPU.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import HELLOWORLD, start_platform, stop_platform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),  # the first test also starts the platform and runs helloworld
    pytest.mark.skipif(not HELLOWORLD.exists(), reason=f"{HELLOWORLD} is not there"),
]

SERVE_TIMEOUT = 300
"""Seconds JupyterLab may take to answer after ``open`` (it starts in ~5 s idle, far more
at load 30)."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("sessions") / "reana-home"
    live = start_platform(home, "embedded",
                          {"REANA_INTERACTIVE_SESSION_CHECK_INTERVAL": "0.5"})
    yield live
    stop_platform(live)


@pytest.fixture(scope="module")
def finished_run(platform, client_python, tmp_path_factory):
    """A finished helloworld run, run by reana-client 0.9.6: (name, uuid, folder)."""
    folder = tmp_path_factory.mktemp("hello") / "helloworld"
    shutil.copytree(HELLOWORLD, folder, ignore=shutil.ignore_patterns(".git"))
    name = f"sess{uuid.uuid4().hex[:6]}"
    platform.client(client_python, "run", "-w", name, cwd=folder)
    body = platform.wait_status(name, seconds=300)
    assert body["status"] == "finished", body
    return name, body["id"], folder


def wait_until(condition, timeout: float, what: str, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(step)


def serving(url: str, **kwargs):
    """The answer of ``url`` once the session serves it (not 503 "starting")."""
    def answer():
        response = requests.get(url, timeout=60, **kwargs)
        return response if response.status_code != 503 else None
    return wait_until(answer, SERVE_TIMEOUT, f"{url} served")


def sessions_listed(platform, token=None) -> list[dict]:
    answer = platform.api("GET", "/api/workflows",
                          params={"type": "interactive", **({"access_token": token}
                                                            if token else {})})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def cpu_used(platform) -> int:
    return platform.api("GET", "/api/you").json()["quota"]["cpu"]["usage"]["raw"]


def run_in_kernel(ws_url: str, code: str, cookie: str | None = None) -> str:
    """Execute ``code`` on a kernel's WebSocket channels; its stdout (or error)."""
    import websocket

    header = [f"Cookie: reana-session={cookie}"] if cookie else []
    ws = websocket.create_connection(ws_url, timeout=120, header=header)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False}}))
        output = []
        while True:
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                output.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                output.append(f"ERROR {message['content']['ename']}")
            elif message["msg_type"] == "status" and \
                    message["content"]["execution_state"] == "idle":
                return "".join(output)
    finally:
        ws.close()


def test_open_use_list_and_close_a_session(platform, client_python, finished_run):
    name, run_id, folder = finished_run
    cpu_before = cpu_used(platform)
    other = platform.create_user(f"other{uuid.uuid4().hex[:6]}@example.org")

    opened = platform.client(client_python, "open", "-w", name, cwd=folder)
    opened_at = time.monotonic()
    url = f"{platform.url}/{run_id}?token={platform.token}"
    assert url in opened.stdout, opened.stdout
    assert "Interactive session opened successfully" in opened.stdout
    assert "automatically closed" not in opened.stdout  # no inactivity period configured

    # The printed URL serves JupyterLab (through reana-server), and sets the session cookie.
    page = serving(url)
    assert page.status_code == 200, page.text[:500]
    assert "JupyterLab" in page.text and "jupyter-config-data" in page.text
    assert page.url.startswith(f"{platform.url}/{run_id}/lab")
    cookie = page.history[0].cookies.get("reana-session") if page.history else None
    assert cookie, [r.headers for r in page.history]
    assert platform.token not in page.text  # the user's token never reaches Jupyter's page

    # Jupyter's contents API lists the run's workspace (token, or only the cookie).
    contents = requests.get(f"{platform.url}/{run_id}/api/contents/results",
                            params={"token": platform.token}, timeout=60)
    assert contents.status_code == 200, contents.text
    assert [f["name"] for f in contents.json()["content"]] == ["greetings.txt"]
    greetings = requests.get(f"{platform.url}/{run_id}/api/contents/results/greetings.txt",
                             cookies={"reana-session": cookie}, timeout=60).json()
    assert "Hello Jane Doe!" in greetings["content"]

    # A kernel runs code over the WebSocket, in the run's sandbox.
    kernel = requests.post(f"{platform.url}/{run_id}/api/kernels",
                           params={"token": platform.token}, json={"name": "python3"},
                           timeout=120)
    assert kernel.status_code == 201, kernel.text
    ws_base = platform.url.replace("http://", "ws://")
    ws_url = f"{ws_base}/{run_id}/api/kernels/{kernel.json()['id']}/channels"
    code = ("import os\n"
            "print(open('results/greetings.txt').read().splitlines()[0])\n"
            f"print(os.path.exists({str(platform.home / 'secret-key')!r}))\n"
            "open('from-the-notebook.txt', 'w').write('written in Jupyter')\n")
    output = run_in_kernel(f"{ws_url}?token={platform.token}", code)
    assert output.splitlines() == ["Hello Jane Doe!", "False"], output
    assert run_in_kernel(ws_url, "print(6 * 7)", cookie=cookie).strip() == "42"
    files = platform.api("GET", f"/api/workflows/{run_id}/workspace").json()["items"]
    assert "from-the-notebook.txt" in [f["name"] for f in files]

    # list -s shows it (running once Jupyter answered the session keeper).
    wait_until(lambda: sessions_listed(platform)[0].get("session_status") == "running", 60,
               "session running")
    listed = platform.client(client_python, "list", "-s", cwd=folder).stdout
    rows = [line.split() for line in listed.splitlines() if line.startswith(name)]
    assert len(rows) == 1, listed
    assert rows[0][:2] == [name, "1"] and rows[0][3:] == ["jupyter", url, "running"], listed

    # Nobody else gets in: no credential, another user's token, even with the cookie.
    assert requests.get(f"{platform.url}/{run_id}/lab", timeout=60).status_code == 401
    for attempt in (dict(params={"token": other}),
                    dict(params={"token": other}, cookies={"reana-session": cookie}),
                    dict(headers={"Authorization": f"token {other}"}),
                    dict(cookies={"reana-session": cookie[:-2] + "00"})):
        refused = requests.get(f"{platform.url}/{run_id}/api/contents", timeout=60, **attempt)
        assert refused.status_code == 403, (attempt, refused.text)
        assert "greetings" not in refused.text
    assert sessions_listed(platform, other) == []
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as refused_ws:
        websocket.create_connection(f"{ws_url}?token={other}", timeout=60)
    assert refused_ws.value.status_code == 403

    # close ends it: the URL stops serving, the server and its kernel are gone.
    records = list((platform.home / "sessions").glob("*/handle.json"))
    assert len(records) == 1
    handle = json.loads(records[0].read_text())
    group = [p for p in psutil.process_iter() if _pgid(p) == handle["pgid"]]
    assert len(group) >= 3  # the sandbox, Jupyter, its kernel
    closed = platform.client(client_python, "close", "-w", name, cwd=folder)
    closed_at = time.monotonic()
    assert f"Interactive session for workflow {name} was successfully closed" in closed.stdout
    gone = requests.get(url, timeout=60)
    assert gone.status_code == 404, gone.text
    assert gone.json()["message"] == f"There is no open interactive session at /{run_id}."
    psutil.wait_procs(group, timeout=30)
    assert not [p for p in group if p.is_running()]
    assert not Path(handle["socket_dir"]).exists()
    assert sessions_listed(platform) == []
    assert "Interactive session could not be closed" in platform.client(
        client_python, "close", "-w", name, cwd=folder, check=False).stderr

    # Its time counts as CPU, like a job's.
    added = cpu_used(platform) - cpu_before
    assert 1000 <= added <= (closed_at - opened_at) * 1000 + 5000, added


def _pgid(process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def test_open_refusals(platform, client_python, finished_run):
    name, run_id, folder = finished_run
    unknown = platform.api("POST", f"/api/workflows/{run_id}/open/rstudio", json={})
    assert (unknown.status_code, unknown.json()) == (404, {
        "message": "Interactive session type rstudio not found, try with one of: ['jupyter']"})
    reader = platform.create_user(f"reader{uuid.uuid4().hex[:6]}@example.org")
    you = platform.api("GET", "/api/you", params={"access_token": reader}).json()
    shared = platform.api("POST", f"/api/workflows/{run_id}/share",
                          json={"user_email_to_share_with": you["email"]})
    assert shared.status_code == 200, shared.text
    refused = platform.api("POST", f"/api/workflows/{run_id}/open/jupyter", json={},
                           params={"access_token": reader})
    assert refused.status_code == 403 and "read-only" in refused.json()["message"]
    first = platform.api("POST", f"/api/workflows/{run_id}/open/jupyter", json={})
    assert first.json() == {"path": f"/{run_id}"}
    again = platform.api("POST", f"/api/workflows/{run_id}/open/jupyter", json={})
    assert (again.status_code, again.json()) == (
        404, {"message": "Interactive session is already open"})
    # the reader may read the run, not its session
    assert requests.get(f"{platform.url}/{run_id}/api/contents", params={"token": reader},
                        timeout=60).status_code == 403
    assert platform.api("POST", f"/api/workflows/{run_id}/close/").status_code == 200


def test_deleting_a_run_closes_its_session(platform):
    spec = json.loads(json.dumps({
        "version": "0.9.0", "inputs": {"parameters": {}},
        "workflow": {"type": "serial", "specification": {"steps": [
            {"environment": "docker.io/library/bash:5.2", "commands": ["true"]}]}}}))
    created = platform.api("POST", "/api/workflows", params={"workflow_name": "todelete"},
                           json=spec)
    assert created.status_code == 201, created.text
    run_id = created.json()["workflow_id"]
    opened = platform.api("POST", f"/api/workflows/{run_id}/open/jupyter", json={})
    assert opened.status_code == 200, opened.text
    assert re.fullmatch(rf"/{run_id}", opened.json()["path"])
    assert serving(f"{platform.url}/{run_id}/api/status",
                   params={"token": platform.token}).status_code == 200
    handle = json.loads(next((platform.home / "sessions").glob("*/handle.json")).read_text())
    deleted = platform.api("PUT", f"/api/workflows/{run_id}/status",
                           params={"status": "deleted"}, json={"workspace": True})
    assert deleted.status_code == 200, deleted.text
    assert sessions_listed(platform) == []
    assert requests.get(f"{platform.url}/{run_id}/api/status", params={"token": platform.token},
                        timeout=60).status_code == 404
    assert not psutil.pid_exists(handle["pid"]) or \
        psutil.Process(handle["pid"]).status() == psutil.STATUS_ZOMBIE
    assert not Path(handle["socket_dir"]).exists()
