"""reana-client 0.9.6 runs reana-demo-helloworld end to end against `make up`.

On the embedded profile and on PostgreSQL + RabbitMQ: run → finished → download;
logs carry the engine line; restart with -p and -o FROM=/TARGET=; stop of a long
run stops its jobs.
"""

from __future__ import annotations

import shutil
import time
import uuid

import psutil
import pytest

from tests.conftest import HELLOWORLD

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HELLOWORLD.exists(), reason=f"{HELLOWORLD} is not there"),
]

STEPS_SPEC = """\
version: 0.9.0
inputs:
  files:
    - code/helloworld.py
    - data/names.txt
  parameters:
    helloworld: code/helloworld.py
    inputfile: data/names.txt
    outputfile: results/greetings.txt
    sleeptime: 0
workflow:
  type: serial
  specification:
    steps:
      - name: greet
        environment: "docker.io/library/python:3.11-slim"
        commands:
          - >-
            python "${helloworld}" --inputfile "${inputfile}"
            --outputfile "${outputfile}" --sleeptime ${sleeptime}
      - name: count
        environment: "docker.io/library/bash:5.2"
        commands:
          - wc -l < "${outputfile}" > results/count.txt
      - name: shout
        environment: "docker.io/library/bash:5.2"
        commands:
          - tr a-z A-Z < "${outputfile}" > results/shout.txt
outputs:
  files:
    - results/greetings.txt
"""


@pytest.fixture
def helloworld(tmp_path):
    copy = tmp_path / "helloworld"
    shutil.copytree(HELLOWORLD, copy, ignore=shutil.ignore_patterns(".git"))
    (copy / "reana-steps.yaml").write_text(STEPS_SPEC)
    return copy


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_run_download_and_logs(live_platform, client_python, helloworld, tmp_path):
    name = unique("hello")
    live_platform.client(client_python, "run", "-w", name, cwd=helloworld)
    body = live_platform.wait_status(name)
    assert body["status"] == "finished", body
    out = tmp_path / "out"
    live_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=helloworld)
    greetings = (out / "results" / "greetings.txt").read_text()
    assert "Hello Jane Doe!" in greetings and "Hello Joe Bloggs!" in greetings
    logs = live_platform.client(client_python, "logs", "-w", name, cwd=helloworld).stdout
    assert "Publishing step:0, cmd: python" in logs
    listing = live_platform.client(client_python, "status", "-w", name, cwd=helloworld).stdout
    assert "finished" in listing and "1/1" in listing


def test_restart_with_parameters_from_and_target(live_platform, client_python, helloworld):
    name = unique("steps")
    run = live_platform.client
    run(client_python, "run", "-w", name, "-f", "reana-steps.yaml", cwd=helloworld)
    assert live_platform.wait_status(name)["status"] == "finished"

    run(client_python, "restart", "-w", f"{name}.1", "-p", "outputfile=results/again.txt",
        "-o", "TARGET=greet", cwd=helloworld)
    body = live_platform.wait_status(f"{name}.1.1")
    assert body["status"] == "finished", body
    assert body["progress"]["finished"]["total"] == 1
    files = run(client_python, "ls", "-w", f"{name}.1.1", cwd=helloworld).stdout
    assert "results/again.txt" in files and "results/count.txt" in files
    logs = run(client_python, "logs", "-w", f"{name}.1.1", cwd=helloworld).stdout
    assert "--outputfile \"results/again.txt\"" in logs or "results/again.txt" in logs
    assert "Publishing step:1" not in logs

    run(client_python, "restart", "-w", f"{name}.1", "-o", "FROM=shout", cwd=helloworld)
    body = live_platform.wait_status(f"{name}.1.2")
    assert body["status"] == "finished", body
    logs = run(client_python, "logs", "-w", f"{name}.1.2", cwd=helloworld).stdout
    assert "Publishing step:2, cmd: tr a-z A-Z" in logs
    assert "Publishing step:0" not in logs


def test_stop_of_a_long_run_stops_its_jobs(live_platform, client_python, helloworld):
    name = unique("long")
    live_platform.client(client_python, "run", "-w", name, "-p", "sleeptime=120",
                         cwd=helloworld)
    deadline = time.monotonic() + 120
    while True:
        body = live_platform.status(name)
        if body["status"] == "running" and body["progress"]["running"]["total"]:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    run_id = body["id"]
    assert _run_processes(run_id)
    live_platform.client(client_python, "stop", "-w", name, "--force", cwd=helloworld)
    assert live_platform.wait_status(name, seconds=30)["status"] == "stopped"
    deadline = time.monotonic() + 30
    while _run_processes(run_id):
        assert time.monotonic() < deadline, "the run's processes are still there"
        time.sleep(0.2)
    logs = live_platform.api("GET", f"/api/workflows/{name}/logs").json()
    import json

    jobs = json.loads(logs["logs"])["job_logs"]
    assert [job["status"] for job in jobs.values()] == ["stopped"]


def _run_processes(run_id: str) -> list:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("REANA_WORKFLOW_UUID") == run_id:
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process.pid)
        except (psutil.Error, OSError):
            continue
    return found
