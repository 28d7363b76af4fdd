"""The internal API served for real (``reana-workflow-controller api``), over HTTP."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _serve(workers: int, env: dict):
    """``reana-workflow-controller api`` in its own process; yields its URL."""
    port = _free_port()
    command = Path(sys.executable).parent / "reana-workflow-controller"
    process = subprocess.Popen(
        [str(command), "api", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or workers still booting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def _env(reana_env: dict) -> dict:
    return {**os.environ, **{k: str(v) for k, v in reana_env.items()}}


@pytest.fixture(params=[1, 2], ids=["werkzeug", "gunicorn"])
def served(request, reana_env, db):
    """The API in its own process (1 worker: threaded werkzeug; 2: gunicorn)."""
    if request.param == 1 and not reana_env["REANA_SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the werkzeug mode is the same code as gunicorn's; SQLite covers it")
    with _serve(request.param, _env(reana_env)) as url:
        yield url


class _Authenticated:
    """``requests``' get and post, presenting the service credential."""

    def __init__(self, headers: dict):
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.get, self.post = self.session.get, self.session.post


def _chunks(size: int, digest):
    block = os.urandom(1024 * 1024)
    sent = 0
    while sent < size:
        chunk = block[: min(len(block), size - sent)]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk


def test_only_the_platform_s_services_are_answered(served, user):
    """The API trusts ?user=: a caller without the service credential gets nothing."""
    from reana_commons.service_auth import bearer, service_credential

    url = f"{served}/api/workflows"
    params = {"user": "00000000-0000-0000-0000-000000000000"}
    anonymous = requests.get(url, params=params, timeout=30)
    assert anonymous.status_code == 401
    assert "only the platform's own services" in anonymous.json()["message"]
    for credential in ("guess", service_credential("another platform's key")):
        wrong = requests.get(url, params=params, headers=bearer(credential), timeout=30)
        assert wrong.status_code == 403
    unknown = requests.get(f"{served}/api/nothing-here", timeout=30)
    assert unknown.status_code == 401  # no route map probing either
    assert requests.get(f"{served}/healthz", timeout=30).status_code == 200
    allowed = requests.get(url, params={"user": str(user.id_)},
                           headers=bearer(service_credential()), timeout=30)
    assert allowed.status_code == 200


def test_chunked_upload_and_streamed_download_over_http(served, user, spec):
    from reana_commons.service_auth import bearer, service_credential

    params = {"user": str(user.id_)}
    requests = _Authenticated(bearer(service_credential()))
    created = requests.post(
        served + "/api/workflows",
        params=params,
        json={"reana_specification": spec, "workflow_name": "served"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    name = created.json()["workflow_name"]
    sent = hashlib.sha256()
    # A generator body goes out with Transfer-Encoding: chunked (no Content-Length).
    uploaded = requests.post(
        f"{served}/api/workflows/{name}/workspace",
        params={**params, "file_name": "/data/big.bin"},
        data=_chunks(30 * 1024 * 1024 + 17, sent),
        headers={"Content-Type": "application/octet-stream"},
        timeout=120,
    )
    assert uploaded.status_code == 200, uploaded.text
    received = hashlib.sha256()
    with requests.get(
        f"{served}/api/workflows/{name}/workspace/data%2Fbig.bin",
        params=params,
        stream=True,
        timeout=120,
    ) as download:
        assert download.status_code == 200
        assert download.headers["Content-Length"] == str(30 * 1024 * 1024 + 17)
        for chunk in download.iter_content(1024 * 1024):
            received.update(chunk)
    assert received.hexdigest() == sent.hexdigest()
    listing = requests.get(served + "/api/workflows", params=params, timeout=30).json()
    assert [item["name"] for item in listing["items"]] == [name]
    missing = requests.get(f"{served}/api/workflows/nope/status", params=params, timeout=30)
    assert missing.status_code == 404 and "REANA_WORKON" in missing.json()["message"]


def test_gunicorn_keeps_idle_connections_and_opens_no_control_socket(reana_env, db, user,
                                                                      tmp_path):
    """A kept-alive connection idle past gunicorn's default 2 s still answers.

    reana-server's pooled connections to the controller sit idle between bursts;
    when gunicorn closed them after 2 s, the next call could meet "Connection
    reset by peer". And gunicorn opens no control socket at
    ``~/.gunicorn/gunicorn.ctl``, a path every gunicorn of the user would share.
    """
    from reana_commons.service_auth import bearer, service_credential

    env = {**_env(reana_env), "HOME": str(tmp_path)}
    env.pop("XDG_RUNTIME_DIR", None)
    with _serve(2, env) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for pause in (0, 3.5):
                time.sleep(pause)
                connection.request("GET", f"/api/workflows?user={user.id_}",
                                   headers=bearer(service_credential()))
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                assert (response.getheader("Connection") or "").lower() != "close"
        finally:
            connection.close()
    assert not (tmp_path / ".gunicorn").exists()


def test_api_process_leaves_schema_validation_and_cryptography_unimported(reana_env):
    """The internal API checks operational options but never validates reana.yaml
    (reana-server does): jsonschema (~5 MB) and cryptography (~8 MB) stay out of it."""
    code = (
        "import json, sys\n"
        "from reana_workflow_controller.app import create_app\n"
        "create_app()\n"
        "print(json.dumps([m for m in ('jsonschema', 'cryptography', 'rfc3987_syntax', 'alembic')"
        " if sys.modules.get(m) is not None]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=_env(reana_env),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
