"""Nothing lost, nothing stuck: kill -9 of services and of a run's processes, broker restart.

On the embedded profile (SQLite, the SQLite broker: a killed consumer's messages come back
because every consumer loop recovers them on start) and on PostgreSQL + RabbitMQ.
supervisord restarts the killed services, as in `make up`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import psutil
import pytest

from tests.conftest import PROFILES, serial_spec, start_platform, stop_platform

pytestmark = [pytest.mark.slow]

TERMINAL = {"finished", "failed", "stopped", "deleted"}


@pytest.fixture(scope="module", params=PROFILES)
def platform(request, tmp_path_factory):
    live = start_platform(
        tmp_path_factory.mktemp("resilience") / "reana-home",
        request.param,
        {"REANA_MAX_CONCURRENT_BATCH_WORKFLOWS": "4"},
    )
    yield live
    stop_platform(live)


def run_processes(platform, kind: str, started_within: float | None = None) -> dict[str, int]:
    """Run id → pid of the live ``engine`` or ``job_controller`` of each started run.

    ``started_within``: only runs whose job controller began to listen (its URL file
    written, after which the engine submits the first step) less than that many seconds ago.
    """
    found = {}
    for handle_file in (platform.home / "runs").glob("*/handle.json"):
        try:
            handle = json.loads(handle_file.read_text())
            if started_within is not None:
                url_file = handle_file.parent / handle["job_controller_url_file"]
                if time.time() - url_file.stat().st_mtime >= started_within:
                    continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        info = handle.get(kind) or {}
        if info.get("pid") and psutil.pid_exists(info["pid"]):
            found[handle["workflow_uuid"]] = info["pid"]
    return found


def wait_all_terminal(platform, run_ids, seconds=180):
    deadline = time.monotonic() + seconds
    statuses = {}
    while time.monotonic() < deadline:
        statuses = {run_id: platform.status(run_id)["status"] for run_id in run_ids}
        if set(statuses.values()) <= TERMINAL:
            return statuses
        time.sleep(0.5)
    stuck = {k: v for k, v in statuses.items() if v not in TERMINAL}
    raise AssertionError(f"runs stuck: {stuck}")


def kill_one(platform, kind: str, spare=(), started_within: float | None = None) -> str:
    """kill -9 the ``kind`` process of one running run (not in ``spare``); its run id.

    The whole process group: a cold-started process is recorded by the ``bash`` that runs it
    and writes its exit code (a group of its own); killing only that ``bash`` would leave the
    engine itself running, as an orphan, until the reconciler notices.

    A job controller killed while it starts is started again (a new attempt), and a run whose
    engine or job controller dies after its last step (the engine still exiting, its
    ``finished`` not yet consumed) rightly finishes: ``started_within`` picks a run whose
    job controller listens (its first step, ``sleep 6``, is sent after that) but that cannot
    be past that step yet.
    """
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for run_id, pid in run_processes(platform, kind, started_within).items():
            if run_id in spare:
                continue
            try:
                os.killpg(pid, signal.SIGKILL)
                return run_id
            except ProcessLookupError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"no {kind} to kill")


def test_kill_scheduler_consumer_engine_and_job_controller(platform):
    spec = serial_spec("sleep 6", "echo done > done.txt")
    runs = [platform.submit(spec, f"kill{i}") for i in range(10)]
    # The scheduler and the consumer die while runs are queued and running.
    old = platform.kill_service("scheduler")
    platform.wait_service("scheduler", old)
    run_processes(platform, "engine") or time.sleep(1)
    old = platform.kill_service("consumer")
    platform.wait_service("consumer", old)
    # So do one run's engine and another run's job controller.
    engine_run = kill_one(platform, "engine", started_within=4)
    jc_run = kill_one(platform, "job_controller", spare={engine_run}, started_within=4)

    statuses = wait_all_terminal(platform, runs)
    assert statuses[engine_run] == "failed"
    assert statuses[jc_run] == "failed"
    logs = json.loads(platform.api("GET", f"/api/workflows/{engine_run}/logs").json()["logs"])
    # Killed while its start was still waiting for the job controller (a loaded machine), the
    # start never completes and the reconciler says so instead: also a true, explained end.
    assert ("process is gone" in logs["workflow_logs"]
            or "start did not complete" in logs["workflow_logs"]), logs["workflow_logs"]
    assert {job["status"] for job in logs["job_logs"].values()} <= {"failed", "finished"}
    # The engine may notice first that its job controller is gone; either way, a reason.
    logs = json.loads(platform.api("GET", f"/api/workflows/{jc_run}/logs").json()["logs"])
    assert "process is gone" in logs["workflow_logs"] or "job controller" in logs["workflow_logs"]
    assert {job["status"] for job in logs["job_logs"].values()} <= {"failed", "finished"}
    others = [r for r in runs if r not in (engine_run, jc_run)]
    assert [statuses[r] for r in others] == ["finished"] * len(others)


@pytest.mark.exclusive
def test_rabbitmq_restart_loses_nothing(platform):
    """Restarts the broker (affects everyone's broker tests briefly: kept to this one test)."""
    ctl = "/usr/sbin/rabbitmqctl"
    if platform.profile != "services":
        pytest.skip("the embedded profile has no broker server to restart")
    if not os.path.exists(ctl):
        pytest.skip("rabbitmqctl is not installed")
    spec = serial_spec("sleep 1", "true")
    runs = [platform.submit(spec, f"mq{i}") for i in range(8)]
    time.sleep(1.5)
    subprocess.run([ctl, "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        time.sleep(2)
    finally:
        subprocess.run([ctl, "start_app"], check=True, capture_output=True, timeout=120)
    late = [platform.submit(spec, f"late{i}") for i in range(2)]
    statuses = wait_all_terminal(platform, runs + late, seconds=240)
    # Runs whose engine could not publish while the broker was down may fail (with a
    # reason); none is lost or stuck, and the runs submitted after the restart finish.
    assert [statuses[r] for r in late] == ["finished", "finished"]
    for run_id, status in statuses.items():
        if status == "failed":
            logs = platform.api("GET", f"/api/workflows/{run_id}/logs").json()["logs"]
            assert "failed" in logs.lower()
