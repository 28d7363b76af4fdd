"""Run-based platform benchmarks through the public REST API: latency, per-job overhead,
throughput, admission.

Runs are created and started through the API as a user does; their ends are
read from the run rows (one query for all runs of a step, a few times a second)
rather than by polling the API, so the benchmark's own polling does not add to
the platform's CPU. Every step starts on a quiet platform (:func:`quiet`): no
run of an earlier step is still alive.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

from bench_platform import Platform, cpu_ms
from bench_report import Results
from bench_stats import MIN_P99_SAMPLES, MIN_REPETITIONS, percentile, rounded, slope

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


def run_rows(ids: list[str]) -> dict[str, dict]:
    """Status, start and end (UTC epoch seconds) of runs, from their rows."""
    from reana_db.database import new_session
    from reana_db.models import Workflow
    from sqlalchemy import select

    keys = [uuid.UUID(i) for i in ids]
    with new_session() as db:
        rows = db.execute(select(Workflow.id_, Workflow.status, Workflow.run_started_at,
                                 Workflow.run_finished_at).where(Workflow.id_.in_(keys))).all()
    return {str(r[0]): {"status": getattr(r[1], "name", str(r[1])),
                        "started": _epoch(r[2]), "finished": _epoch(r[3])} for r in rows}


def _epoch(value) -> float | None:
    return value.replace(tzinfo=UTC).timestamp() if value is not None else None


def wait_ended(platform: Platform, ids: list[str], seconds: float = 900,
               interval: float = 0.1) -> dict[str, dict]:
    """Wait until every run in ``ids`` ended; their rows."""
    def ended():
        rows = run_rows(ids)
        return rows if all(rows[i]["status"] in TERMINAL for i in ids) else None

    return platform.wait_until(ended, seconds, f"{len(ids)} runs to end", interval)


def failure_reason(platform: Platform, workflow_id: str) -> str:
    """The last line of a run's workflow logs."""
    import json

    logs = platform.session().get(f"{platform.url}/api/workflows/{workflow_id}/logs",
                                  timeout=60).json()
    try:
        workflow_logs = json.loads(logs["logs"]).get("workflow_logs") or ""
    except (KeyError, TypeError, ValueError):
        workflow_logs = str(logs)
    return workflow_logs.strip().splitlines()[-1] if workflow_logs.strip() else "(no logs)"


def check_finished(platform: Platform, rows: dict[str, dict]) -> None:
    for workflow_id, row in rows.items():
        if row["status"] != "finished":
            raise RuntimeError(f"run {workflow_id} ended {row['status']}: "
                               f"{failure_reason(platform, workflow_id)}")


def quiet(platform: Platform, seconds: float = 300) -> None:
    """Wait until no run is queued, pending or running (an earlier step's runs ended)."""
    from reana_db.database import new_session
    from reana_db.enums import RunStatus
    from reana_db.models import Workflow
    from sqlalchemy import func, select

    def none_alive():
        with new_session() as db:
            return db.scalar(select(func.count()).select_from(Workflow).where(
                Workflow.status.in_(list(RunStatus.alive())))) == 0

    platform.wait_until(none_alive, seconds, "the runs of the previous step to end", 0.2)


def _workspace(workflow_id: str) -> Path:
    from reana_db.database import new_session
    from reana_db.models import Workflow

    with new_session() as db:
        return Path(db.get(Workflow, uuid.UUID(workflow_id)).workspace_path)


# --- start → first job running -------------------------------------------------------------
def submit_to_running(platform: Platform, results: Results, runs: int = 70,
                      repetitions: int = MIN_REPETITIONS, prefix: str = "") -> None:
    """Start request → the first job's command running (it writes its wall-clock time).

    ``repetitions`` × ``runs`` sequential runs on an idle platform; the p50 of each
    repetition gives the median and spread, the p99 comes from all samples pooled.
    """
    quiet(platform)
    session = platform.session()
    spec = serial_spec(["date +%s.%N > started"])
    warm = create(session, platform, "bench-latency-warm", spec)
    start(session, platform, warm)  # imports, connection pools
    wait_ended(platform, [warm])
    pooled, p50s, windows, per_run = [], [], [], []
    for rep in range(repetitions):
        samples = []
        window = platform.window()
        for i in range(runs):
            workflow_id = create(session, platform, f"bench-latency-{rep}-{i}", spec)
            stamp = _workspace(workflow_id) / "started"
            time.sleep(0.2)  # an idle platform at the start request
            sent = time.time()
            start(session, platform, workflow_id)
            platform.wait_until(lambda f=stamp: f.exists() and f.read_text().strip(), 120,
                                f"the first job of {workflow_id}", 0.005)
            samples.append((float(stamp.read_text()) - sent) * 1000)
            check_finished(platform, wait_ended(platform, [workflow_id], interval=0.05))
        closed = window.close()
        windows.append(closed)
        per_run.append(cpu_ms(closed, runs))
        p50s.append(percentile(samples, 0.5))
        pooled += samples
    results.add(f"{prefix}submit_to_running_ms_p50", p50s, "ms", windows, 1)
    if len(pooled) >= MIN_P99_SAMPLES:
        results.add(f"{prefix}submit_to_running_ms_p99", percentile(pooled, 0.99), "ms",
                    windows, 1, samples=len(pooled))
    results.add(f"{prefix}run_cpu_ms", [p["total"] for p in per_run], "ms", windows,
                note="platform CPU per 1-job run, create to end")
    results.details[f"{prefix}run_cpu_ms_by_part"] = per_run


# --- per-job overhead, end to end ----------------------------------------------------------
def bare_spawn_ms(count: int = 50) -> float:
    """Median wall time of a bare ``bash -c true`` spawn and wait."""
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(samples, 0.5)


def _one_run(platform: Platform, session, name: str, steps: int) -> tuple[float, dict]:
    """Seconds from the start request to the run's end (its row), and the CPU window."""
    quiet(platform)
    workflow_id = create(session, platform, name, serial_spec(["true"] * steps))
    window = platform.window()
    sent = time.time()
    start(session, platform, workflow_id)
    rows = wait_ended(platform, [workflow_id], interval=0.05)
    closed = window.close()
    check_finished(platform, rows)
    return rows[workflow_id]["finished"] - sent, closed


def job_overhead(platform: Platform, results: Results, steps: int = 200,
                 repetitions: int = MIN_REPETITIONS) -> float:
    """What one more no-op job costs a serial run, start request → run finished.

    Each repetition runs a 1-step and a ``steps``-step run of ``true``; the slope
    between them is the per-job time and CPU (start-up costs cancel out).
    ``job_overhead_ms`` is the slope minus a bare ``bash -c true`` spawn.
    """
    session = platform.session()
    _one_run(platform, session, "bench-overhead-warm", 2)
    bare = bare_spawn_ms()
    walls, cpus, windows, by_part = [], [], [], []
    for rep in range(repetitions):
        short, short_window = _one_run(platform, session, f"bench-overhead-1-{rep}", 1)
        long, long_window = _one_run(platform, session, f"bench-overhead-n-{rep}", steps)
        walls.append(slope(short, long, steps - 1) * 1000)
        cpus.append(slope(short_window["platform_s"], long_window["platform_s"],
                          steps - 1) * 1000)
        by_part.append({part: round(slope(short_window["parts_s"].get(part, 0.0), value,
                                          steps - 1) * 1000, 3)
                        for part, value in sorted(long_window["parts_s"].items())})
        windows += [short_window, long_window]
    results.add("job_overhead_ms", [w - bare for w in walls], "ms", windows,
                note=f"per-job slope of a {steps}-step serial run over a 1-step run, "
                     f"minus a bare spawn ({bare:.1f} ms)")
    results.add("job_cycle_ms", walls, "ms", windows)
    results.add("job_cpu_ms_serial", cpus, "ms", windows,
                note="platform CPU per job, same slope")
    results.details["bare_spawn_ms"] = rounded(bare, 2)
    results.details["job_cpu_ms_serial_by_part"] = by_part
    return bare


# --- throughput ----------------------------------------------------------------------------
def jobs_per_second(platform: Platform, results: Results, runs: int = 20, steps: int = 50,
                    repetitions: int = MIN_REPETITIONS) -> None:
    """No-op jobs per second across ``runs`` concurrent serial runs of ``steps`` steps."""
    from reana_db.database import new_session
    from sqlalchemy import text

    session = platform.session()
    spec = serial_spec(["true"] * steps)
    walls, busy_rates, cpus, windows, by_part = [], [], [], [], []
    for rep in range(repetitions):
        quiet(platform)
        ids = [create(session, platform, f"bench-throughput-{rep}-{i}", spec)
               for i in range(runs)]
        sessions = [platform.session() for _ in ids]
        window = platform.window()
        began = time.time()
        with ThreadPoolExecutor(runs) as pool:
            list(pool.map(lambda pair: start(pair[0], platform, pair[1]),
                          zip(sessions, ids, strict=True)))
        rows = wait_ended(platform, ids, interval=0.2)
        closed = window.close()
        check_finished(platform, rows)
        with new_session() as db:
            jobs, busy = db.execute(text(
                "SELECT count(*), EXTRACT(EPOCH FROM max(finished_at) - min(started_at)) "
                "FROM job WHERE workflow_uuid = ANY(CAST(:ids AS uuid[])) "
                "AND status = 'finished'"), {"ids": ids}).one()
        jobs = int(jobs)
        if jobs != runs * steps:
            raise RuntimeError(f"expected {runs * steps} finished jobs, found {jobs}")
        last_end = max(row["finished"] for row in rows.values())
        walls.append(jobs / (last_end - began))
        busy_rates.append(jobs / float(busy or 1))
        cpus.append(closed["platform_s"] * 1000 / jobs)
        by_part.append(cpu_ms(closed, jobs))
        windows.append(closed)
    results.add("jobs_per_s_wall", walls, "jobs/s", windows, 1,
                note=f"{runs} concurrent runs of {steps} no-op steps, first start request "
                     "to last run finished")
    results.add("jobs_per_s", busy_rates, "jobs/s", windows, 1,
                note="first job start to last job end")
    results.add("cpu_ms_per_job", cpus, "ms", windows,
                note="all platform processes incl. PostgreSQL and RabbitMQ")
    results.details["cpu_ms_per_job_by_part"] = by_part


# --- admission -----------------------------------------------------------------------------
def admission(platform: Platform, results: Results, runs: int = 400, clients: int = 16,
              repetitions: int = MIN_REPETITIONS) -> None:
    """Runs created and started per second by ``clients`` keep-alive clients (scheduler stopped).

    The scheduler is stopped so only admission is measured: each start leaves
    the run ``queued`` with its submission in the broker. The last step of a
    platform: its queued runs stay queued until the platform stops.
    """
    quiet(platform)
    platform.restart_service("stop", "scheduler")
    spec = serial_spec(["true"])
    rates, pair_ms, cpus, server_cpus, windows, errors, by_part = [], [], [], [], [], [], []
    for rep in range(repetitions):
        counter = iter(range(runs))
        lock = threading.Lock()
        latencies: list[float] = []

        def client(_index: int, rep=rep, counter=counter, lock=lock, latencies=latencies):
            session = platform.session()
            while True:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                began = time.perf_counter()
                try:
                    workflow_id = create(session, platform, f"bench-admission-{rep}-{number}",
                                         spec)
                    start(session, platform, workflow_id)
                except RuntimeError as error:
                    with lock:
                        errors.append(str(error)[:300])
                    continue
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)

        window = platform.window()
        began = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
        wall = time.monotonic() - began
        closed = window.close()
        done = max(len(latencies), 1)
        rates.append(len(latencies) / wall)
        pair_ms += latencies
        cpus.append(closed["platform_s"] * 1000 / done)
        server_cpus.append(closed["parts_s"].get("server", 0.0) * 1000 / done)
        by_part.append(cpu_ms(closed, done))
        windows.append(closed)
    results.add("admission_per_s", rates, "runs/s", windows, 1,
                note=f"create + start, {clients} keep-alive clients, scheduler stopped")
    results.add("create_start_server_cpu_ms", server_cpus, "ms", windows,
                note="reana-server CPU per create + start")
    results.add("admission_cpu_ms", cpus, "ms", windows, note="all platform processes")
    results.add("admission_pair_ms_p99", percentile(pair_ms, 0.99), "ms", windows, 1,
                samples=len(pair_ms))
    results.details["admission_cpu_ms_by_part"] = by_part
    if errors:
        results.errors["admission"] = f"{len(errors)} errors, first: {errors[0]}"
