"""An idle interactive session is closed after the configured inactivity period.

A platform of its own (the period is platform-wide): ``REANA_INTERACTIVE_SESSION_MAX_
INACTIVITY_PERIOD`` is REANA's, in days; here 0.0001 day (8.64 s). reana-client 0.9.6 says
so when it opens the session; once JupyterLab served it and nobody used it for that long
(Jupyter's own ``last_activity``, what REANA's cleanup reads), the session is closed: it
leaves ``list -s``, its URL stops serving, its server is gone.
"""

from __future__ import annotations

import json
import time
import uuid

import psutil
import pytest
import requests

from tests.conftest import start_platform, stop_platform
from tests.test_e2e_sessions import serving, sessions_listed, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PERIOD_DAYS = "0.0001"
PERIOD = 8.64


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("idle") / "reana-home"
    live = start_platform(home, "embedded", {
        "REANA_INTERACTIVE_SESSION_CHECK_INTERVAL": "0.5",
        "REANA_INTERACTIVE_SESSION_MAX_INACTIVITY_PERIOD": PERIOD_DAYS,
    })
    yield live
    stop_platform(live)


def test_an_idle_session_is_closed(platform, client_python, tmp_path):
    spec = {"version": "0.9.0", "inputs": {"parameters": {}},
            "workflow": {"type": "serial", "specification": {"steps": [
                {"environment": "docker.io/library/bash:5.2", "commands": ["true"]}]}}}
    name = f"idle{uuid.uuid4().hex[:6]}"
    created = platform.api("POST", "/api/workflows", params={"workflow_name": name}, json=spec)
    assert created.status_code == 201, created.text
    run_id = created.json()["workflow_id"]

    opened = platform.client(client_python, "open", "-w", name, cwd=tmp_path)
    assert f"automatically closed after {PERIOD_DAYS} days of inactivity" in opened.stdout
    url = f"{platform.url}/{run_id}/api/contents"
    assert serving(url, params={"token": platform.token}).status_code == 200
    last_use = time.monotonic()
    handle = json.loads(next((platform.home / "sessions").glob("*/handle.json")).read_text())

    wait_until(lambda: sessions_listed(platform) == [], 300, "the idle session closed")
    idle_for = time.monotonic() - last_use
    assert idle_for >= PERIOD - 1, idle_for  # not before the period (clocks: ±1 s)
    gone = requests.get(url, params={"token": platform.token}, timeout=60)
    assert gone.status_code == 404, gone.text
    assert not psutil.pid_exists(handle["pid"]) or \
        psutil.Process(handle["pid"]).status() == psutil.STATUS_ZOMBIE
    listed = platform.client(client_python, "list", "-s", cwd=tmp_path).stdout
    assert name not in listed
    log = (platform.home / "logs" / "consumer.log").read_text()
    assert f"closed: inactive for longer than {PERIOD_DAYS} days" in log
