"""The real reana-client 0.9.6 (its own venv) against a live server, on the helloworld demo.

The client validates every answer against REANA's spec itself (bravado); on top
of that, a WSGI middleware checks every JSON response the live server sends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from reana_testing.pytest_plugin import SHARED_DIR
from reana_testing.reana_client_096 import ClientUnavailable, ensure_client_venv

ROOT = Path(__file__).resolve().parents[2]
DEMO = Path(os.environ.get("REANA_DEMOS", str(SHARED_DIR / "demos"))) / "reana-demo-helloworld"

pytestmark = pytest.mark.slow

DRIVER = """
import json, sys, warnings
warnings.simplefilter("ignore")
from click.testing import CliRunner
from reana_client.cli import cli
runner = CliRunner()
results = []
for args in json.load(sys.stdin):
    outcome = runner.invoke(cli, args, catch_exceptions=True)
    output = outcome.output
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        output += "\\nEXCEPTION: %r" % (outcome.exception,)
    results.append([outcome.exit_code, output])
print(json.dumps(results))
"""


@pytest.fixture(scope="session")
def client_venv():
    """The venv holding reana-client 0.9.6."""
    try:
        return ensure_client_venv()
    except ClientUnavailable as error:
        pytest.skip(str(error))


class ValidatingMiddleware:
    """Checks each JSON response of the live server against REANA's spec; keeps violations."""

    def __init__(self, app, validator):
        self.app = app
        self.validator = validator
        self.violations: list[str] = []

    def __call__(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["type"] = dict(headers).get("Content-Type", "")
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if not captured.get("type", "").startswith("application/json"):
            return body
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        try:
            self.validator.check(
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                captured["status"],
                captured["type"],
                data,
            )
        except AssertionError as error:
            self.violations.append(str(error))
        return [data]


def test_reana_client_096_on_helloworld(
    app, reana_spec_validator, client_venv, user, tmp_path, database_uri, server_thread
):
    if not DEMO.exists():
        pytest.skip(f"the helloworld demo is not at {DEMO}")
    if not database_uri.startswith("sqlite"):
        pytest.skip("the client compatibility run needs one database only")
    ServerThread = server_thread
    middleware = ValidatingMiddleware(app.wsgi_app, reana_spec_validator)
    app.wsgi_app = middleware
    live = ServerThread(app).__enter__()
    demo = tmp_path / "helloworld"
    shutil.copytree(DEMO, demo)
    env = {
        **os.environ,
        "REANA_SERVER_URL": live.url,
        "REANA_ACCESS_TOKEN": user.test_token,
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("REANA_WORKON", None)

    secret_file = tmp_path / "token.txt"
    secret_file.write_text("s3cret")
    out = tmp_path / "out"
    steps = [
        ("ping", ["ping"]),
        ("info", ["info"]),
        ("create", ["create", "-w", "helloworld"]),
        ("upload", ["upload", "-w", "helloworld.1"]),
        ("ls", ["ls", "-w", "helloworld.1"]),
        ("ls-filter", ["ls", "-w", "helloworld.1", "--filter", "name=names", "--json"]),
        ("ls-page", ["ls", "-w", "helloworld.1", "--page", "2", "--size", "1", "--json"]),
        ("ls-glob", ["ls", "-w", "helloworld.1", "data/*", "--json"]),
        ("du", ["du", "-w", "helloworld.1"]),
        ("du-s", ["du", "-w", "helloworld.1", "-s"]),
        ("download", ["download", "-w", "helloworld.1", "data/names.txt", "-o", str(out)]),
        ("download-outputs", ["download", "-w", "helloworld.1", "-o", str(out)]),
        ("mv", ["mv", "-w", "helloworld.1", "data/names.txt", "data/people.txt"]),
        ("ls-moved", ["ls", "-w", "helloworld.1"]),
        ("rm", ["rm", "-w", "helloworld.1", "data/people.txt"]),
        ("rm-none", ["rm", "-w", "helloworld.1", "nope.txt"]),
        ("reupload", ["upload", "-w", "helloworld.1", "data/names.txt"]),
        ("create-2", ["create", "-w", "helloworld"]),
        ("diff", ["diff", "helloworld.1", "helloworld.2"]),
        ("list", ["list", "--json"]),
        ("list-v", ["list", "-v"]),
        ("status", ["status", "-w", "helloworld.1"]),
        ("start", ["start", "-w", "helloworld.1", "-p", "sleeptime=1"]),
        ("status-queued", ["status", "-w", "helloworld.1", "--json"]),
        ("secrets-add", ["secrets-add", "--env", "FOO=bar", "--file", str(secret_file)]),
        ("secrets-again", ["secrets-add", "--env", "FOO=baz"]),
        ("secrets-list", ["secrets-list"]),
        ("secrets-delete", ["secrets-delete", "FOO"]),
        ("secrets-delete-again", ["secrets-delete", "FOO"]),
        ("rules", ["retention-rules-list", "-w", "helloworld.1", "--json"]),
        ("quota", ["quota-show", "--resource", "disk", "--report", "usage"]),
        ("quota-limit", ["quota-show", "--resource", "disk", "--report", "limit"]),
        ("delete", ["delete", "-w", "helloworld", "--include-all-runs"]),
        ("list-after", ["list", "--json"]),
    ]
    result = subprocess.run(
        [str(client_venv / "bin/python"), "-c", DRIVER],
        input=json.dumps([args for _, args in steps]),
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = dict(zip([name for name, _ in steps], json.loads(result.stdout), strict=True))

    def ok(name):
        code, output = runs[name]
        assert code == 0, f"{name}: exit {code}\n{output}"
        return output

    def failed(name):
        code, output = runs[name]
        assert code != 0, f"{name} should have failed:\n{output}"
        return output

    try:
        assert "Status: Connected" in ok("ping")
        assert "List of supported compute backends: local" in ok("info")
        assert "helloworld.1" in ok("create")
        assert "data/names.txt" in ok("upload") and "code/helloworld.py" in ok("upload")
        assert "data/names.txt" in ok("ls") and "reana.yaml" in ok("ls")
        assert [f["name"] for f in json.loads(ok("ls-filter"))] == ["data/names.txt"]
        assert len(json.loads(ok("ls-page"))) == 1
        assert [f["name"] for f in json.loads(ok("ls-glob"))] == ["data/names.txt"]
        assert "./data/names.txt" in ok("du")
        assert "." in ok("du-s")
        assert (out / "data/names.txt").read_bytes() == (DEMO / "data/names.txt").read_bytes()
        assert "results/greetings.txt" in failed("download-outputs")
        ok("mv")
        assert "data/people.txt" in ok("ls-moved")
        assert "data/people.txt" in ok("rm") and "bytes freed up" in ok("rm")
        assert "did not match" in failed("rm-none")
        ok("reupload")
        assert "helloworld.2" in ok("create-2")
        ok("diff")
        listed = json.loads(ok("list"))
        assert sorted((w["name"], w["run_number"]) for w in listed) == [
            ("helloworld", "1"),
            ("helloworld", "2"),
        ]
        assert "helloworld" in ok("list-v")
        assert "created" in ok("status")
        assert "helloworld.1 has been queued" in ok("start")
        assert json.loads(ok("status-queued"))[0]["status"] == "queued"
        assert "successfully" in ok("secrets-add")
        assert "already exist" in failed("secrets-again")
        secrets = ok("secrets-list")
        assert "FOO" in secrets and "token.txt" in secrets and "bar" not in secrets
        assert "FOO" in ok("secrets-delete")
        assert "do not exist" in failed("secrets-delete-again")
        assert json.loads(ok("rules")) == []
        assert int(ok("quota").strip()) > 0
        assert "No limit" in ok("quota-limit")
        assert "deleted" in ok("delete")
        assert "helloworld" not in ok("list-after")
    finally:
        live.__exit__(None, None, None)
    assert middleware.violations == []
