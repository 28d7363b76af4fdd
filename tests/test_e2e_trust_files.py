"""Issue 10's routes 3 and 4 on a live platform, on both profiles, as an attacker tries them:
a second user whose job leaves hard links (to the platform's secret key, to the first user's
file), a symlink to ``/`` and a FIFO in its workspace, then asks the public API to serve them,
and to create runs whose ``workspace.root_path`` goes through the symlink or into the first
user's workspace.

Where a sandbox keeps the job from seeing those files, its ``ln`` fails; the test then makes
the same links itself (what an unsandboxed job does), so the serving side is always tested.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import serial_spec

pytestmark = [pytest.mark.slow]

VICTIM_DATA = b"the first user's private data\n"


def api(platform, method, path, token, **kwargs):
    params = {**kwargs.pop("params", {}), "access_token": token}
    return requests.request(method, platform.url + path, params=params, timeout=60, **kwargs)


def workspace_of(platform, run_id: str) -> str:
    """The run's workspace path, read from the platform's database."""
    uri = platform.env.get("REANA_SQLALCHEMY_DATABASE_URI") or (
        f"sqlite:///{platform.home / 'reana.db'}"
    )
    uri = uri.replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT workspace_path FROM workflow WHERE CAST(id_ AS TEXT) = :id"),
                {"id": run_id.replace("-", "") if uri.startswith("sqlite") else run_id},
            ).scalar_one()
    finally:
        engine.dispose()


def attack_spec(secret_key: str, victim_file: str) -> dict:
    command = (
        f"ln {secret_key} key || echo 'cannot see the key'; "
        f"ln {victim_file} stolen.txt || echo 'cannot see the victim'; "
        "ln -s / to_root; mkfifo pipe; mkdir -p out; echo mine > out/own.txt"
    )
    return serial_spec(command)


@pytest.fixture(scope="module")
def attack(live_platform):
    """The first user's file, and the second user's run after its job did its work."""
    platform = live_platform
    victim = platform.token
    created = api(platform, "POST", "/api/workflows", victim,
                  params={"workflow_name": "private"}, json=attack_spec("x", "y"))
    assert created.status_code == 201, created.text
    victim_run = created.json()["workflow_id"]
    uploaded = api(platform, "POST", f"/api/workflows/{victim_run}/workspace", victim,
                   params={"file_name": "private.txt"}, data=VICTIM_DATA,
                   headers={"Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 200, uploaded.text
    victim_file = os.path.join(workspace_of(platform, victim_run), "private.txt")
    mallory = platform.create_user("mallory@example.org")
    secret_key = str(platform.home / "secret-key")
    runs = [platform.submit(attack_spec(secret_key, victim_file), "attack", token=mallory)
            for _ in range(2)]
    for run in runs:
        deadline = time.monotonic() + 180
        while api(platform, "GET", f"/api/workflows/{run}/status", mallory).json()[
            "status"
        ] not in ("finished", "failed", "stopped"):
            assert time.monotonic() < deadline, f"{run} did not end"
            time.sleep(0.2)
    workspace = workspace_of(platform, runs[0])
    for source, name in ((secret_key, "key"), (victim_file, "stolen.txt")):
        if not os.path.lexists(os.path.join(workspace, name)):
            os.link(source, os.path.join(workspace, name))  # what an unsandboxed job does
    if not os.path.lexists(os.path.join(workspace, "to_root")):
        os.symlink("/", os.path.join(workspace, "to_root"))
    return {"token": mallory, "runs": runs, "workspace": workspace,
            "victim_run": victim_run, "victim_workspace": os.path.dirname(victim_file)}


def test_links_made_by_a_job_are_not_served(live_platform, attack):
    platform, token, run = live_platform, attack["token"], attack["runs"][0]
    base = f"/api/workflows/{run}/workspace"
    secrets = (VICTIM_DATA, (platform.home / "secret-key").read_bytes())
    listed = api(platform, "GET", base, token).json()["items"]
    assert "out/own.txt" in [item["name"] for item in listed]
    assert not {"key", "stolen.txt", "pipe", "to_root"} & {item["name"] for item in listed}
    for name in ("key", "stolen.txt", "pipe", "to_root/etc/passwd"):
        for preview in ("false", "true"):
            answer = api(platform, "GET", f"{base}/{name}", token, params={"preview": preview})
            assert answer.status_code in (400, 404), (name, answer.status_code)
            assert not any(secret in answer.content for secret in secrets)
    for pattern in ("*", "**", "."):
        answer = api(platform, "GET", f"{base}/{pattern}", token)
        if answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip":
            archive = zipfile.ZipFile(io.BytesIO(answer.content))
            assert not {"key", "stolen.txt"} & set(archive.namelist())
            assert not any(
                secret in archive.read(member) for member in archive.namelist()
                for secret in secrets
            )
    diff = api(platform, "GET", f"/api/workflows/{run}/diff/{attack['runs'][1]}", token)
    assert diff.status_code == 200
    listing = json.loads(diff.json()["workspace_listing"])
    assert not any(secret.decode() in listing for secret in secrets)


def test_root_path_cannot_reach_another_workspace(live_platform, attack):
    platform, token = live_platform, attack["token"]
    spec = attack_spec("x", "y")
    for root_path in (
        attack["victim_workspace"],
        os.path.join(attack["workspace"], "to_root", "tmp"),
        os.path.join(os.path.dirname(os.path.dirname(attack["workspace"])), "..", "..", ".."),
    ):
        answer = api(platform, "POST", "/api/workflows", token, params={"workflow_name": "root"},
                     json={**spec, "workspace": {"root_path": root_path}})
        assert answer.status_code == 400, (root_path, answer.text)
        assert "Desired workspace" in answer.json()["message"]
    assert sorted(os.listdir(attack["victim_workspace"])) == ["private.txt"]
