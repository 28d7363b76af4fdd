"""Secrets (REANA's 201/409/404-array conventions) and launching from a URL."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import subprocess
import threading
import zipfile

import pytest
import yaml


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_secrets_lifecycle(client, auth, other_user, server_env):
    added = client.post(
        "/api/secrets/",
        query_string={**auth, "overwrite": "false"},
        json={
            "FOO": {"value": _b64("bar"), "type": "env"},
            "k.txt": {"value": _b64("x"), "type": "file"},
        },
    )
    assert added.status_code == 201
    assert added.get_json() == {"message": "Secret(s) successfully added."}
    clash = client.post(
        "/api/secrets/",
        query_string={**auth, "overwrite": "false"},
        json={
            "FOO": {"value": _b64("baz"), "type": "env"},
            "NEW": {"value": _b64("1"), "type": "env"},
        },
    )
    assert clash.status_code == 409
    listed = client.get("/api/secrets", query_string=auth).get_json()
    assert listed == [{"name": "FOO", "type": "env"}, {"name": "k.txt", "type": "file"}]
    overwritten = client.post(
        "/api/secrets/",
        query_string={**auth, "overwrite": "true"},
        json={"FOO": {"value": _b64("baz"), "type": "env"}},
    )
    assert overwritten.status_code == 201
    from reana_db.crypto import decrypt
    from reana_db.models import UserSecret
    from sqlalchemy import select

    server_env.expire_all()
    stored = server_env.scalar(select(UserSecret).where(UserSecret.name == "FOO"))
    assert "baz" not in stored.value_encrypted and decrypt(stored.value_encrypted) == b"baz"
    foreign = client.get("/api/secrets", query_string={"access_token": other_user.test_token})
    assert foreign.get_json() == []
    missing = client.delete("/api/secrets/", query_string=auth, json=["FOO", "NOPE"])
    assert missing.status_code == 404
    assert missing.get_json() == ["NOPE"]
    deleted = client.delete("/api/secrets/", query_string=auth, json=["FOO"])
    assert deleted.status_code == 200 and deleted.get_json() == ["FOO"]
    bad = client.post(
        "/api/secrets/", query_string=auth, json={"X": {"value": "!!", "type": "env"}}
    )
    assert bad.status_code == 400


def test_trailing_slash_variants(client, auth, workflow):
    assert client.get("/api/secrets/", query_string=auth).status_code == 200
    added = client.post(
        "/api/secrets", query_string=auth, json={"A": {"value": _b64("1"), "type": "env"}}
    )
    assert added.status_code == 201
    assert client.delete("/api/secrets", query_string=auth, json=["A"]).get_json() == ["A"]
    closed = client.post("/api/workflows/helloworld.1/close", query_string=auth)
    assert closed.status_code == 404
    assert "has no open interactive session" in closed.get_json()["message"]


@pytest.fixture
def analysis(tmp_path, helloworld_spec, monkeypatch):
    """A helloworld analysis as a directory, a zip, a git repository and a served folder.

    The folder is served on 127.0.0.1, which a launch refuses unless the operator allows the
    host: this test's platform allows exactly that port.
    """
    from reana_commons.config import reset_config

    source = tmp_path / "helloworld"
    (source / "code").mkdir(parents=True)
    (source / "data").mkdir()
    (source / "code/helloworld.py").write_text("print('hello')\n")
    (source / "data/names.txt").write_text("Jane Doe\n")
    (source / "reana.yaml").write_text(yaml.safe_dump(helloworld_spec))
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "helloworld.zip", "w") as bundle:
        for path in source.rglob("*"):
            if path.is_file():
                bundle.write(path, f"helloworld/{path.relative_to(source)}")
    (served / "reana.yaml").write_text(yaml.safe_dump(helloworld_spec))
    repo = tmp_path / "repo"
    subprocess.run(["cp", "-r", str(source), str(repo)], check=True)
    git = ["git", "-C", str(repo), "-c", "user.email=t@e.org", "-c", "user.name=T"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REANA_LAUNCH_ALLOWED_HOSTS", f"127.0.0.1:{httpd.server_port}")
    reset_config()
    yield {"http": f"http://127.0.0.1:{httpd.server_port}", "repo": repo}
    reset_config()
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("kind", ["zip", "yaml", "git"])
def test_launch_from_url(client, auth, analysis, kind):
    url = {
        "zip": f"{analysis['http']}/helloworld.zip",
        "yaml": f"{analysis['http']}/reana.yaml",
        "git": f"file://{analysis['repo']}",
    }[kind]
    response = client.post(
        "/api/launch",
        query_string=auth,
        json={"url": url, "name": f"launched-{kind}", "parameters": json.dumps({"sleeptime": 1})},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["workflow_name"] == f"launched-{kind}"
    assert body["message"] == "The workflow has been successfully submitted."
    status = client.get(f"/api/workflows/{body['workflow_id']}/status", query_string=auth)
    assert status.get_json()["status"] == "queued"
    files = client.get(f"/api/workflows/launched-{kind}/workspace", query_string=auth).get_json()
    names = sorted(f["name"] for f in files["items"])
    if kind == "yaml":
        assert names == ["reana.yaml"]
    else:
        assert names == ["code/helloworld.py", "data/names.txt", "reana.yaml"]
    spec = client.get(f"/api/workflows/launched-{kind}/specification", query_string=auth)
    assert spec.get_json()["parameters"] == {"sleeptime": 1}


def test_launch_refusals(client, auth, analysis):
    for body in (
        {"url": "ftp://example.org/x.zip"},
        {"url": f"{analysis['http']}/missing.zip"},
        {"url": f"{analysis['http']}/helloworld.zip", "specification": "../etc/passwd"},
        {"url": f"{analysis['http']}/helloworld.zip", "parameters": "[1]"},
    ):
        response = client.post("/api/launch", query_string=auth, json=body)
        assert response.status_code == 400, (body, response.get_json())
