"""Run-based platform benchmarks through the public REST API: latency, throughput, admission."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_platform import CpuMeter, Platform
from bench_stats import percentile, rounded

TERMINAL = ("finished", "failed", "stopped", "deleted")


def serial_spec(commands: list[str]) -> dict:
    """A REANA specification of one serial step per command."""
    steps = [{"name": f"step{i}", "environment": "docker.io/library/bash:5", "commands": [c]}
             for i, c in enumerate(commands)]
    return {"version": "0.9.0", "workflow": {"type": "serial", "specification": {"steps": steps}}}


def create(session, platform: Platform, name: str, spec: dict) -> str:
    response = session.post(platform.url + "/api/workflows", params={"workflow_name": name},
                            json=spec, timeout=120)
    if response.status_code != 201:
        raise RuntimeError(f"create {name}: {response.status_code} {response.text[:300]}")
    return response.json()["workflow_id"]


def start(session, platform: Platform, workflow_id: str) -> None:
    response = session.post(f"{platform.url}/api/workflows/{workflow_id}/start", json={},
                            timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"start {workflow_id}: {response.status_code} {response.text[:300]}")


def wait_ended(session, platform: Platform, workflow_id: str, seconds: float = 300,
               interval: float = 0.1) -> dict:
    """Poll the run's status until it ends; returns the status body."""
    def ended():
        body = session.get(f"{platform.url}/api/workflows/{workflow_id}/status",
                           timeout=60).json()
        return body if body.get("status") in TERMINAL else None

    return platform.wait_until(ended, seconds, f"run {workflow_id} to end", interval)


def failure_reason(session, platform: Platform, workflow_id: str) -> str:
    """The last lines of a run's workflow logs."""
    logs = session.get(f"{platform.url}/api/workflows/{workflow_id}/logs", timeout=60).json()
    try:
        workflow_logs = json.loads(logs["logs"]).get("workflow_logs") or ""
    except (KeyError, TypeError, ValueError):
        workflow_logs = str(logs)
    return workflow_logs.strip().splitlines()[-1] if workflow_logs.strip() else "(no logs)"


def wait_finished(session, platform: Platform, workflow_id: str, seconds: float = 300,
                  interval: float = 0.1) -> dict:
    """Poll the run's status until it ends; raises unless it finished."""
    body = wait_ended(session, platform, workflow_id, seconds, interval)
    if body["status"] != "finished":
        reason = failure_reason(session, platform, workflow_id)
        raise RuntimeError(f"run {workflow_id} ended {body['status']}: {reason}")
    return body


def _workspace(workflow_id: str) -> Path:
    from reana_db.database import new_session
    from reana_db.models import Workflow

    with new_session() as db:
        return Path(db.get(Workflow, uuid.UUID(workflow_id)).workspace_path)


def _stages(timed: list[tuple[str, float, float]]) -> dict:
    """Median milliseconds of each stage, from the run and job rows (naive UTC timestamps)."""
    from reana_db.database import new_session
    from sqlalchemy import text

    epoch = "EXTRACT(EPOCH FROM {} AT TIME ZONE 'UTC')"
    with new_session() as db:
        rows = dict((str(r[0]), r[1:]) for r in db.execute(text(
            f"SELECT w.id_, {epoch.format('h.created')}, {epoch.format('w.run_started_at')}, "
            f"min({epoch.format('j.created')}) FROM workflow w JOIN job j "
            "ON j.workflow_uuid = w.id_ JOIN run_handle h ON h.workflow_id = w.id_ "
            "WHERE w.id_ = ANY(CAST(:ids AS uuid[])) "
            "GROUP BY w.id_, h.created, w.run_started_at"), {"ids": [t[0] for t in timed]}))
    stages: dict[str, list[float]] = {
        "start_request_to_pending": [], "pending_to_running": [],
        "run_running_to_first_job_created": [], "job_created_to_command_running": []}
    for workflow_id, sent, running in timed:
        points = [sent, *(float(v) for v in rows[workflow_id]), running]
        for name, begin, end in zip(stages, points, points[1:], strict=False):
            stages[name].append((end - begin) * 1000)
    return {name: rounded(percentile(values, 0.5)) for name, values in stages.items()}


def submit_to_running(platform: Platform, runs: int = 30) -> dict:
    """Start request → the first job's command running (it writes its wall-clock time).

    The command's file is watched on disk (the workspace is local), so no API
    polling loads the platform while a run starts.
    """
    session = platform.session()
    spec = serial_spec(["date +%s.%N > started"])
    samples = []
    timed = []
    meter = None
    for i in range(runs + 1):
        workflow_id = create(session, platform, f"bench-latency-{i}", spec)
        stamp_file = _workspace(workflow_id) / "started"
        time.sleep(0.3)  # an idle platform at the start request
        sent = time.time()
        start(session, platform, workflow_id)
        platform.wait_until(lambda f=stamp_file: f.exists() and f.read_text().strip(),
                            120, f"the first job of {workflow_id}", 0.005)
        running = float(stamp_file.read_text())
        wait_finished(session, platform, workflow_id, interval=0.25)
        if i:  # the first run warms the services up (imports, connection pools)
            samples.append((running - sent) * 1000)
            timed.append((workflow_id, sent, running))
        else:
            meter = CpuMeter(platform)
    return {
        "submit_to_running_cpu_ms_per_run": meter.per_operation_ms(runs),
        "submit_to_running_ms_p50": rounded(percentile(samples, 0.50)),
        "submit_to_running_ms_p99": rounded(percentile(samples, 0.99)),
        "submit_to_running_ms_max": rounded(max(samples)),
        "submit_to_running_runs": len(samples),
        "submit_to_running_stages_ms_p50": _stages(timed),
    }


def jobs_per_second(platform: Platform, runs: int = 20, steps: int = 50) -> dict:
    """No-op jobs per second across ``runs`` concurrent serial runs of ``steps`` steps."""
    from reana_db.database import new_session
    from sqlalchemy import text

    session = platform.session()
    spec = serial_spec(["true"] * steps)
    ids = [create(session, platform, f"bench-throughput-{i}", spec) for i in range(runs)]
    meter = CpuMeter(platform)
    started = time.monotonic()
    with ThreadPoolExecutor(runs) as pool:
        sessions = [platform.session() for _ in ids]
        list(pool.map(lambda pair: start(pair[0], platform, pair[1]), zip(sessions, ids,
                                                                              strict=True)))
        ends = list(pool.map(lambda pair: wait_ended(pair[0], platform, pair[1], 900, 0.5),
                             zip(sessions, ids, strict=True)))
    wall = time.monotonic() - started
    # A run that did not finish is reported, not hidden; its jobs still count if they finished.
    unfinished = [(i, e["status"]) for i, e in zip(ids, ends, strict=True)
                  if e["status"] != "finished"]
    with new_session() as db:
        row = db.execute(text(
            "SELECT count(*), EXTRACT(EPOCH FROM max(finished_at) - min(started_at)) FROM job "
            "WHERE workflow_uuid = ANY(CAST(:ids AS uuid[])) AND status = 'finished'"
        ), {"ids": ids}).one()
    jobs, busy = int(row[0]), float(row[1] or 0)
    if jobs != runs * steps:
        print(f"[bench] expected {runs * steps} finished jobs, found {jobs}", file=sys.stderr)
    return {
        "jobs_per_s": rounded(jobs / busy if busy else 0.0, 1),
        "jobs_per_s_wall": rounded(jobs / wall, 1),
        "jobs_per_s_runs": runs,
        "jobs_per_s_jobs": jobs,
        "jobs_cpu_ms_per_job": meter.per_operation_ms(jobs),
        "jobs_runs_not_finished": len(unfinished),
        "jobs_runs_not_finished_reason": (
            f"{unfinished[0][1]}: {failure_reason(session, platform, unfinished[0][0])}"
            if unfinished else None),
    }


def admission(platform: Platform, runs: int = 800, clients: int = 16) -> dict:
    """Runs created and started per second by ``clients`` keep-alive clients (scheduler stopped).

    The scheduler is stopped so only admission is measured: each start leaves
    the run ``queued`` with its submission in RabbitMQ.
    """
    platform.supervisorctl("stop", "scheduler")
    spec = serial_spec(["true"])
    counter = iter(range(runs))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def client(_index: int) -> None:
        session = platform.session()
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            begin = time.perf_counter()
            try:
                workflow_id = create(session, platform, f"bench-admission-{number}", spec)
                start(session, platform, workflow_id)
            except RuntimeError as error:
                with lock:
                    errors.append(str(error)[:300])
                continue
            with lock:
                latencies.append((time.perf_counter() - begin) * 1000)

    meter = CpuMeter(platform)
    began = time.monotonic()
    client_cpu = time.process_time()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.monotonic() - began
    client_cpu = time.process_time() - client_cpu
    return {
        "admission_per_s": rounded(len(latencies) / wall, 1),
        "admission_pair_ms_p50": rounded(percentile(latencies, 0.50)),
        "admission_pair_ms_p99": rounded(percentile(latencies, 0.99)),
        "admission_runs": len(latencies),
        "admission_errors": len(errors),
        "admission_first_error": errors[0] if errors else None,
        "admission_clients": clients,
        "admission_cpu_ms_per_run": meter.per_operation_ms(max(len(latencies), 1)),
        # The 16 clients share the 2 cores with the platform: their CPU is part of the budget.
        "admission_client_cpu_ms_per_run": rounded(
            client_cpu * 1000 / max(len(latencies), 1), 3),
        "admission_scheduler": "stopped (runs stay queued; admission only)",
    }
