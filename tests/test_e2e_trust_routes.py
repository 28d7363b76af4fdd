"""Issue 10's routes 1, 5 and 6, tried on a live platform the way an attacker (or a careless
operator) would: a second user's crafted launch URLs, direct calls to the internal APIs, the
files and logs a platform leaves on its host, and reana-admin run as an operator runs it.

One platform (embedded profile, started by scripts/up.sh like `make up`) for the module.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import time

import pytest
import requests

from tests.conftest import ROOT, serial_spec, start_platform, stop_platform

pytestmark = [pytest.mark.slow]

ADMIN_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    live = start_platform(tmp_path_factory.mktemp("trust") / "reana-home", "embedded")
    yield live
    stop_platform(live)


def reana_admin(platform, *args, cwd=None, home=True):
    """reana-admin as an operator runs it: the platform's REANA_HOME, no REANA_SECRET_KEY."""
    env = {k: v for k, v in platform.env.items() if k != "REANA_SECRET_KEY"}
    if not home:
        env.pop("REANA_HOME")
    return subprocess.run([str(ROOT / ".venv/bin/reana-admin"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def mallory(platform):
    """A second user, created by reana-admin without REANA_SECRET_KEY exported."""
    created = reana_admin(platform, "user-create", "--email", "mallory@example.org")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def api(platform, method, path, token, **kwargs):
    params = {**kwargs.pop("params", {}), "access_token": token}
    return requests.request(method, platform.url + path, params=params, timeout=60, **kwargs)


def controller_url(platform) -> str:
    return f"http://127.0.0.1:{platform.env['REANA_WORKFLOW_CONTROLLER_PORT']}"


def wait_until_ended(platform, run_id, token, seconds=120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        status = api(platform, "GET", f"/api/workflows/{run_id}/status", token).json()
        if status["status"] in ("finished", "failed", "stopped") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_users_created_by_reana_admin_sign_in(platform, mallory, tmp_path):
    """Route 6: the platform's key from $REANA_HOME/secret-key, or a clear refusal."""
    you = api(platform, "GET", "/api/you", mallory)
    assert you.status_code == 200 and you.json()["email"] == "mallory@example.org"
    lost = reana_admin(platform, "user-create", "--email", "x@example.org", cwd=tmp_path,
                       home=False)
    assert lost.returncode == 1
    assert "Cannot find the platform's secret key" in lost.stderr
    assert list(tmp_path.iterdir()) == []  # no database, no .reana in the working directory


def test_launch_cannot_reach_the_internal_api(platform, mallory):
    """Route 1: the reported attack, the admin's reana.yaml through the workflow controller."""
    admin_run = platform.submit(serial_spec("echo admin-only > secret.txt"), "adminrun")
    platform.wait_status(admin_run, ("finished",))
    internal = controller_url(platform)
    for url in (
        f"{internal}/api/workflows/{admin_run}/workspace/secret.txt?user={ADMIN_ID}&x=.yaml",
        f"{internal}/api/workflows/{admin_run}/workspace/reana.yaml?user={ADMIN_ID}",
        f"{internal.replace('127.0.0.1', 'localhost')}/reana.yaml",
        f"{internal.replace('127.0.0.1', '[::ffff:127.0.0.1]')}/reana.yaml",
        "http://169.254.169.254/latest/meta-data/reana.yaml",
        f"{internal}/some/repository",
    ):
        response = api(platform, "POST", "/api/launch", mallory, json={"url": url})
        assert response.status_code == 400, (url, response.text)
        assert "not allowed" in response.json()["message"], response.json()
    listed = api(platform, "GET", "/api/workflows", mallory, params={"type": "batch"}).json()
    assert listed["items"] == []


def test_workflow_controller_answers_only_the_platform(platform):
    """Route 1: the internal API trusts ?user=, so an anonymous caller gets nothing."""
    url = controller_url(platform) + "/api/workflows"
    anonymous = requests.get(url, params={"user": ADMIN_ID}, timeout=30)
    assert anonymous.status_code == 401
    forged = requests.get(url, params={"user": ADMIN_ID}, timeout=30,
                          headers={"Authorization": "Bearer " + "0" * 64})
    assert forged.status_code == 403
    assert requests.get(controller_url(platform) + "/healthz", timeout=30).status_code == 200


def test_a_run_s_job_controller_answers_only_its_run(platform, mallory):
    """Route 1: another user who finds a run's job controller port can neither run a command in
    the run's workspace nor read its jobs; their own jobs hold no token to try."""
    victim = platform.submit(serial_spec("sleep 60"), "victim")
    handle_file = platform.home / "runs" / victim / "handle.json"
    deadline = time.monotonic() + 60
    while platform.status(victim)["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    url = json.loads(handle_file.read_text())["job_controller_url"]
    command = base64.b64encode(b"cat ../../../secret-key > stolen").decode()
    for headers in ({}, {"Authorization": "Bearer " + platform.token},
                    {"Authorization": "Bearer " + mallory}):
        assert requests.get(url + "/jobs", headers=headers, timeout=10).status_code in (401, 403)
        submitted = requests.post(url + "/jobs", headers=headers, timeout=10, json={
            "cmd": command, "docker_img": "bash", "workflow_uuid": victim,
            "workflow_workspace": "/tmp", "job_name": "x"})
        assert submitted.status_code in (401, 403), submitted.text
        assert requests.delete(url + "/shutdown", headers=headers, timeout=10).status_code in (
            401, 403)
    assert platform.status(victim)["status"] == "running"  # untouched
    own = platform.submit(serial_spec("env > env.txt"), "ownrun", token=mallory)
    assert wait_until_ended(platform, own, mallory)["status"] == "finished"
    env = api(platform, "GET", f"/api/workflows/{own}/workspace/env.txt", mallory).text
    for variable in ("REANA_JOB_CONTROLLER_TOKEN", "REANA_SECRET_KEY", "REANA_ACCESS_TOKEN"):
        assert variable not in env
    # The platform itself still stops the run through its job controller (with the run token).
    stopped = api(platform, "PUT", f"/api/workflows/{victim}/status", platform.token,
                  params={"status": "stop"}, json={})
    assert stopped.status_code == 200, stopped.text
    assert platform.wait_status(victim, ("stopped",))["status"] == "stopped"


ASK_ZYGOTE = """
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
sock.connect("\\0" + sys.argv[1])  # an abstract socket
try:  # the zygote may close (refuse) before the request is even sent: a broken pipe
    sock.sendall(json.dumps({"argv": ["reana-job-controller", "--help"], "env": {},
                             "log": sys.argv[2], "cwd": "/tmp"}).encode() + b"\\n")
    print(repr(sock.recv(4096)))
except (BrokenPipeError, ConnectionResetError):
    print("reset")
"""


@pytest.mark.skipif(os.getuid() != 0 or not os.path.exists("/usr/bin/python3"),
                    reason="needs root to act as another local user")
def test_zygote_forks_for_the_platform_s_user_only(platform, tmp_path):
    """Route 1: the zygote's abstract socket has no file permissions; another local user (or a
    job running as one) asking it to start a process as the platform's user is refused."""
    from reana_workflow_controller.run_managers.spawner import zygote_address

    tmp_path.chmod(0o777)
    log = tmp_path / "forked.log"
    asked = subprocess.run(["/usr/bin/python3", "-c", ASK_ZYGOTE, zygote_address(platform.home)[1:],
                            str(log)], user=65534, group=65534, capture_output=True, text=True,
                           timeout=30, cwd="/tmp")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() in ("b''", "reset")  # closed without an answer
    assert not log.exists()
    assert "refused a request of user 65534" in (platform.home / "logs/zygote.log").read_text()


def test_files_holding_credentials_are_private(platform):
    """Route 5: the env file (the admin's token), the key and the token file are mode 600."""
    for name in ("env", "secret-key", "admin-token"):
        mode = stat.S_IMODE((platform.home / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert platform.token not in (platform.home / "logs" / "admin.log").read_text()


def test_logs_hold_no_token(platform, mallory):
    """Route 5: every request above carried ?access_token=; no log line shows one."""
    for token in (platform.token, mallory):
        assert api(platform, "GET", "/api/you", token).status_code == 200
    requests.get(platform.url + "/api/you", params={"access_token": "wrong-" + mallory},
                 timeout=30)
    time.sleep(0.5)  # the access log is written after the answer
    logs = {path.name: path.read_text(errors="replace")
            for path in (platform.home / "logs").glob("*.log")}
    for name, text in logs.items():
        for token in (platform.token, mallory):
            assert token not in text, f"{name} holds a token"
    assert "access_token=***" in logs["server.log"]


def test_file_secrets_are_removed_when_the_run_ends(platform, mallory):
    """Route 5: decrypted file secrets exist while the run needs them, never after."""
    value = base64.b64encode(b"-----BEGIN KEY-----").decode()
    added = api(platform, "POST", "/api/secrets/", mallory,
                json={"key.pem": {"value": value, "type": "file"}})
    assert added.status_code == 201, added.text
    run_id = platform.submit(
        serial_spec('cp "$$REANA_USER_SECRET_MOUNT_PATH/key.pem" seen.pem'), "secretrun",
        token=mallory)
    status = wait_until_ended(platform, run_id, mallory)
    logs = api(platform, "GET", f"/api/workflows/{run_id}/logs", mallory).text
    assert status["status"] == "finished", logs
    seen = api(platform, "GET", f"/api/workflows/{run_id}/workspace/seen.pem", mallory)
    assert seen.content == b"-----BEGIN KEY-----"
    secrets = platform.home / "run" / run_id / "secrets"
    deadline = time.monotonic() + 30
    while secrets.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not secrets.exists()
    leftovers = [p for p in (platform.home / "run").rglob("*") if "key" in p.name]
    assert leftovers == []

