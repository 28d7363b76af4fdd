"""``reana-admin`` and the ``reana-server`` process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from reana_server.cli import cli


@pytest.fixture
def admin(reana_env):
    """Run ``reana-admin`` in-process on the test's database."""
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def test_create_admin_user_is_idempotent(admin, app, reana_spec_validator):
    first = admin("create-admin-user", "--email", "admin@example.org").output.strip()
    second = admin("create-admin-user", "--email", "admin@example.org").output.strip()
    assert first == second and len(first) > 20
    other = admin("create-admin-user", "--email", "someone@example.org", ok=False)
    assert other.exit_code != 0
    you = app.test_client().get("/api/you", query_string={"access_token": first}).get_json()
    assert you["email"] == "admin@example.org"


def test_users_tokens_and_quotas(admin, app):
    token = admin("user-create", "--email", "bob@example.org", "--full-name", "Bob").output.strip()
    client = app.test_client()
    assert client.get("/api/you", query_string={"access_token": token}).status_code == 200
    assert admin("user-create", "--email", "bob@example.org", ok=False).exit_code != 0

    assert "revoked" in admin("token-revoke", "--email", "bob@example.org").output
    revoked = client.get("/api/you", query_string={"access_token": token})
    assert revoked.get_json() == {"message": "User access token revoked."}
    new = admin("token-grant", "--email", "bob@example.org").output.strip()
    assert new != token
    assert client.get("/api/you", query_string={"access_token": new}).status_code == 200
    assert admin("token-grant", "--email", "bob@example.org", ok=False).exit_code != 0

    admin("quota-set", "--email", "bob@example.org", "--resource", "disk", "--limit", "2048")
    quota = client.get("/api/you", query_string={"access_token": new}).get_json()["quota"]
    assert quota["disk"]["limit"]["raw"] == 2048

    table = admin("user-list").output.splitlines()
    assert table[0].split()[:3] == ["ID", "EMAIL", "FULL_NAME"]
    assert any("bob@example.org" in line and "active" in line for line in table[1:])
    listed = json.loads(admin("user-list", "--json").output)
    assert [u["email"] for u in listed] == ["bob@example.org"]


def test_quota_exceeded_refuses_create_start_upload(admin, client, create_workflow, upload, user):
    create_workflow()
    admin("quota-set", "--email", user.email, "--resource", "disk", "--limit", "1")
    from reana_db.database import session_scope
    from reana_db.models import User, UserResource
    from sqlalchemy import select

    with session_scope() as session:
        for row in session.scalars(select(UserResource).where(UserResource.user_id == user.id_)):
            row.quota_used = 10
        assert session.get(User, user.id_) is not None
    auth = {"access_token": user.test_token}
    created = client.post(
        "/api/workflows", query_string={**auth, "workflow_name": "x"}, json={"workflow": {}}
    )
    assert created.status_code == 403
    assert "quota exceeded" in created.get_json()["message"].lower()
    started = client.post("/api/workflows/helloworld.1/start", query_string=auth, json={})
    assert started.status_code == 403
    assert upload("helloworld.1", "a.txt", b"a").status_code == 403


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_reana_server_process_migrates_and_serves(reana_env, database_uri):
    """``reana-server`` creates the schema on an empty database and answers (gunicorn)."""
    if not database_uri.startswith("sqlite"):
        pytest.skip("one database is enough for the process test")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from reana_server.cli import server; server()",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env={**os.environ, **{k: str(v) for k, v in reana_env.items()}},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/ping", timeout=10)
                break
            except requests.RequestException:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "reana-server did not start"
                time.sleep(0.2)
        assert response.json() == {"message": "OK", "status": "200"}
        unknown = requests.get(
            f"http://127.0.0.1:{port}/api/you", params={"access_token": "x"}, timeout=5
        )
        assert unknown.status_code == 403
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        process.stderr.close()


def _forget_key(monkeypatch, reana_env):
    """The platform as `make up` leaves it: the key in REANA_HOME, not in the environment."""
    from reana_commons.config import reset_config

    monkeypatch.delenv("REANA_SECRET_KEY")
    reset_config()
    return reana_env


def test_reana_admin_signs_with_the_platform_key_file(admin, db, monkeypatch, reana_env):
    """Without REANA_SECRET_KEY, reana-admin uses $REANA_HOME/secret-key: its users sign in."""
    from reana_commons.config import reset_config
    from reana_server.app import create_app

    home = _forget_key(monkeypatch, reana_env)["REANA_HOME"]
    (Path(home) / "secret-key").write_text("the-platform-key\n")
    reset_config()
    token = admin("user-create", "--email", "carol@example.org").output.strip()
    you = create_app({"TESTING": True}).test_client().get("/api/you",
                                                          query_string={"access_token": token})
    assert you.status_code == 200 and you.get_json()["email"] == "carol@example.org"
    monkeypatch.setenv("REANA_SECRET_KEY", "another-key")  # a platform with another key
    reset_config()
    other = create_app({"TESTING": True}).test_client()
    assert other.get("/api/you", query_string={"access_token": token}).status_code == 403


def test_reana_admin_refuses_without_key_or_database(admin, monkeypatch, reana_env, tmp_path):
    from reana_commons.config import reset_config

    _forget_key(monkeypatch, reana_env)
    no_key = admin("user-create", "--email", "dan@example.org", ok=False)
    assert no_key.exit_code == 1
    assert "Cannot find the platform's secret key" in no_key.output
    assert "REANA_HOME" in no_key.output
    elsewhere = tmp_path / "not-a-platform"
    elsewhere.mkdir()
    (elsewhere / "secret-key").write_text("k")
    monkeypatch.setenv("REANA_HOME", str(elsewhere))
    monkeypatch.delenv("REANA_SQLALCHEMY_DATABASE_URI")
    reset_config()
    no_db = admin("user-list", ok=False)
    assert no_db.exit_code == 1 and "No platform database at" in no_db.output
    assert sorted(p.name for p in elsewhere.iterdir()) == ["secret-key"]  # nothing created
