"""The operator's commands do only what they say (issue 14): `make up`, `make down`, `make demo`.

One embedded platform for the module, driven as an operator does: `make down | tail` with a
foreign process sharing its REANA_HOME and a run running, `make up` again, `make demo` on the
platform `make up` started, `make demo` with no platform running (it starts and stops its own),
and `make up` with a port taken.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import (
    ROOT,
    free_port,
    platform_env,
    serial_spec,
    start_platform,
    stop_platform,
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    live = start_platform(tmp_path_factory.mktemp("ops") / "reana-home", "embedded")
    yield live
    stop_platform(live)


def _tagged(run_id: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if process.environ().get("REANA_WORKFLOW_UUID") == run_id:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def _wait_running_job(platform, run_id: str, seconds: float = 60) -> None:
    platform.wait_status(run_id, ("running",), seconds)
    deadline = time.monotonic() + seconds
    while not any("sleep" in " ".join(p.cmdline()) for p in _tagged(run_id) if p.is_running()):
        assert time.monotonic() < deadline, "the run's job never started"
        time.sleep(0.2)


def _supervisord_pid(platform) -> int:
    return int((platform.home / "supervisord.pid").read_text())


def _of_home(home: Path) -> list[psutil.Process]:
    """The live processes whose environment names ``home`` as their REANA_HOME."""
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if (process.environ().get("REANA_HOME") == str(home)
                    and process.status() != psutil.STATUS_ZOMBIE):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # SO_REUSEADDR: connections left in TIME_WAIT do not count, only a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def _check_demo_output(text: str, output: Path, home: Path) -> None:
    """What a newcomer must see: the real figure in the folder it names, the workspace, how
    to look again, the text plot once."""
    figure = output / "fit" / "results" / "plot.png"
    assert f"The figure: {figure}" in text
    assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and figure.stat().st_size > 1000
    workspace = text.split("The run's workspace on the platform: ")[1].splitlines()[0]
    assert Path(workspace).is_relative_to(home / "shared")
    assert os.path.isfile(os.path.join(workspace, "results", "plot.png"))
    assert "reana-client ls -w fit." in text and "reana-client download -w fit." in text
    assert text.count("<- peak") == 1, "the text plot is shown more than once"


def test_up_with_a_taken_port_fails_at_once_naming_it(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_MQ"))}
    env.update(REANA_HOME=str(tmp_path / "home"), REANA_SERVER_PORT=str(port),
               REANA_WORKFLOW_CONTROLLER_PORT=str(free_port()))
    began = time.monotonic()
    try:
        result = subprocess.run(["make", "-s", "-C", str(ROOT), "up"], env=env,
                                capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert time.monotonic() - began < 10
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert len(errors) == 1, result.stderr
    assert f"port {port} (REANA_SERVER_PORT)" in errors[0] and "in use" in errors[0]
    assert not (tmp_path / "home" / "supervisord.pid").exists()


def test_demo_without_a_platform_starts_its_own_runs_the_example_and_stops_it(tmp_path):
    home = tmp_path / "reana-home"
    output = tmp_path / "demo-output"
    env = dict(platform_env(home), REANA_DEMO_OUTPUT=str(output), REANA_DEMO_NAME="fit")
    ports = [int(env["REANA_SERVER_PORT"]), int(env["REANA_WORKFLOW_CONTROLLER_PORT"])]
    try:
        demo = subprocess.run(["make", "-s", "-C", str(ROOT), "demo"], env=env,
                              capture_output=True, text=True, timeout=300)
    finally:
        left = _of_home(home)
        for process in left:  # never leave a stray platform behind a failed test
            process.kill()
    assert demo.returncode == 0, demo.stdout + demo.stderr
    text = demo.stdout
    assert "already running" not in text
    assert "demo finished" in text and "REANA is down." in text
    _check_demo_output(text, output, home)
    # Its platform's data stay in REANA_HOME, and the way back to it is named.
    assert f"# the demo stops the platform; its runs stay in {home}" in text
    assert f"source {home}/env" in text
    # The platform it started is stopped: no supervisord, service or run process of that home.
    assert not left, [(p.pid, p.cmdline()) for p in left]
    assert not (home / "supervisord.pid").exists() or not psutil.pid_exists(
        int((home / "supervisord.pid").read_text() or 0))
    assert all(_port_free(port) for port in ports), ports


def test_down_stops_only_the_platform_and_up_fails_its_runs_with_the_reason(platform):
    foreign = subprocess.Popen(["sleep", "300"], env=platform.env)
    try:
        run_id = platform.submit(serial_spec("sleep 300"), "long")
        _wait_running_job(platform, run_id)
        handle = json.loads((platform.home / "runs" / run_id / "handle.json").read_text())
        engine, job_controller = handle["engine"]["pid"], handle["job_controller"]["pid"]
        services = [int(platform.supervisorctl("pid", name).strip())
                    for name in ("server", "controller", "zygote")]
        daemon = _supervisord_pid(platform)

        # As an operator types it: make's shell, make, down.sh and tail all carry REANA_HOME.
        down = subprocess.run(["bash", "-c", f"make -s -C {ROOT} down | tail -n 5"],
                              env=platform.env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        assert "stopped 1 running run(s)" in down.stdout
        assert down.stdout.rstrip().endswith("REANA is down.")  # tail lived to print it
        assert foreign.poll() is None, "make down killed a process that only shares REANA_HOME"
        for pid in (daemon, engine, job_controller, *services):
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        assert not _tagged(run_id), "a job of the run outlived make down"
        again = subprocess.run([str(ROOT / "scripts/down.sh")], env=platform.env,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and again.stdout.strip() == "REANA is down."

        up = subprocess.run(["make", "-s", "-C", str(ROOT), "up"], env=platform.env,
                            capture_output=True, text=True, timeout=300)
        assert up.returncode == 0, up.stderr
        assert f"API reference: {platform.url}/api/docs" in up.stdout
        spec = requests.get(platform.url + "/api/swagger.json", timeout=60)
        assert spec.status_code == 200 and "/api/workflows" in spec.json()["paths"]
        page = requests.get(platform.url + "/api/docs", timeout=60)
        assert page.status_code == 200 and "<h1>REANA Server" in page.text
        body = platform.wait_status(run_id, ("failed",), 60)
        assert body["status"] == "failed"
        logs = platform.api("GET", f"/api/workflows/{run_id}/logs").json()["logs"]
        assert "the platform was stopped (make down" in logs, logs
    finally:
        foreign.kill()
        foreign.wait()


def test_demo_uses_the_running_platform_and_leaves_it_and_its_runs_running(platform, tmp_path):
    daemon = _supervisord_pid(platform)
    run_id = platform.submit(serial_spec("sleep 300"), "keeps-running")
    _wait_running_job(platform, run_id)
    output = tmp_path / "demo-output"
    env = dict(platform.env, REANA_DEMO_OUTPUT=str(output), REANA_DEMO_NAME="fit")
    demo = subprocess.run(["make", "-s", "-C", str(ROOT), "demo"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    text = demo.stdout
    assert "already running" in text and "leaves it running" in text
    # Still the same platform, and the other run still runs.
    assert psutil.pid_exists(daemon) and _supervisord_pid(platform) == daemon
    assert platform.status(run_id)["status"] == "running"
    _check_demo_output(text, output, platform.home)
    assert "make up " not in text  # nothing to restart: the platform stays up
    platform.api("POST", f"/api/workflows/{run_id}/stop")
