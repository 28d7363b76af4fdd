"""Platform benchmarks fed directly with rows and messages: listing, the status consumer,
idle memory and idle CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench_platform import ROOT, Platform, cpu_ms
from bench_report import Results
from bench_stats import MIN_P99_SAMPLES, MIN_REPETITIONS, percentile, rounded

CLIENT_096_VENV = Path(os.environ.get("REANA_CLIENT_096_VENV",
                                      ROOT / ".ci/venvs/reana-client-0.9.6"))
CLIENT_MAIN = "import sys; from reana_client.cli import cli; sys.argv[0] = 'reana-client'; cli()"


# --- idle ----------------------------------------------------------------------------------
def idle(platform: Platform, results: Results, prefix: str = "", seconds: float = 5.0,
         repetitions: int = MIN_REPETITIONS) -> None:
    """CPU of the idle platform (% of one core) and, for the services profile, its memory."""
    time.sleep(2)  # what the previous step started settles
    windows = []
    for _ in range(repetitions):
        window = platform.window()
        time.sleep(seconds)
        windows.append(window.close())
    pcts = [w["platform_s"] / w["wall_s"] * 100 for w in windows]
    results.add(f"{prefix}idle_cpu_pct", pcts, "% core", windows,
                note=f"{platform.profile} profile, every platform process")
    results.details[f"{prefix}idle_cpu_pct_by_part"] = {
        part: round(value / windows[-1]["wall_s"] * 100, 2)
        for part, value in windows[-1]["parts_s"].items()}
    if prefix:
        return
    pss: dict[str, float] = {}
    rss_max, largest = 0.0, ""
    for part in ("supervisor", "server", "controller", "scheduler", "consumer", "runs",
                 "postgres", "rabbitmq"):
        for process in platform.accounting.processes(f"platform/{part}"):
            try:
                info = process.memory_full_info()
            except Exception:  # noqa: BLE001 - exited meanwhile
                continue
            pss[part] = pss.get(part, 0.0) + info.pss / 2**20
            if part not in ("postgres", "rabbitmq") and info.rss / 2**20 > rss_max:
                rss_max, largest = info.rss / 2**20, f"{part} (pid {process.pid})"
    services = sum(v for k, v in pss.items() if k not in ("postgres", "rabbitmq"))
    results.add("idle_pss_mb_total", services, "MB", note="PSS of every platform service "
                "process (database and broker apart)")
    results.add("idle_rss_mb_max", rss_max, "MB", note=f"largest: {largest}")
    results.details["idle_pss_mb_by_part"] = {k: rounded(v) for k, v in pss.items()}


# --- rows ----------------------------------------------------------------------------------
def bench_user(email: str) -> tuple[uuid.UUID, str]:
    from reana_db.database import new_session
    from reana_db.users import create_user

    with new_session() as session:
        user, token = create_user(session, email)
        session.commit()
        return user.id_, token


def insert_runs(owner_id: uuid.UUID, count: int, prefix: str, status: str, spec: dict,
                extra: dict | None = None) -> list[uuid.UUID]:
    """Bulk-insert ``count`` runs of one user straight into the workflow table."""
    from reana_db.database import new_session
    from reana_db.models import Workflow, utcnow
    from sqlalchemy import insert

    now = utcnow()
    rows = []
    for i in range(count):
        created = now - timedelta(seconds=count - i)
        rows.append({
            "id_": uuid.uuid4(), "name": f"{prefix}{i % 500}", "status": status,
            "owner_id": owner_id, "reana_specification": spec, "input_parameters": {},
            "operational_options": {}, "type_": "serial", "logs": "",
            "run_number_major": i // 500 + 1, "run_number_minor": 0, "job_progress": {},
            "workspace_path": f"/nonexistent/{prefix}{i}", "created": created,
            "updated": created, "run_started_at": created, **(extra or {}),
        })
    with new_session() as session:
        for chunk in range(0, count, 2000):
            session.execute(insert(Workflow), rows[chunk:chunk + 2000])
        session.commit()
    return [row["id_"] for row in rows]


def vacuum_analyze(table: str) -> None:
    """What autovacuum does to a table that grew (planner statistics, visibility map)."""
    from reana_db.database import get_engine
    from sqlalchemy import text

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {table}"))


# --- listing -------------------------------------------------------------------------------
def _page_samples(platform: Platform, token: str, count: int) -> list[float]:
    import requests

    session = requests.Session()
    params = {"access_token": token, "type": "batch", "verbose": "false", "page": 1, "size": 20}
    url = platform.url + "/api/workflows"
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        response = session.get(url, params=params, timeout=60)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return samples


def _client_seconds(platform: Platform, token: str, which: str) -> tuple[float, int]:
    """Wall seconds of ``reana-client list`` (the project's or 0.9.6) and its output lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    env.update({"REANA_SERVER_URL": platform.url, "REANA_ACCESS_TOKEN": token})
    if which == "project":
        command = [str(ROOT / ".venv/bin/reana-client"), "list"]
    else:
        command = [str(CLIENT_096_VENV / "bin/python"), "-W", "ignore", "-c", CLIENT_MAIN,
                   "list"]
    began = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                            preexec_fn=platform.accounting.joiner("outside/clients"))
    took = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"reana-client list ({which}) failed: {result.stderr[-500:]}")
    return took, len(result.stdout.splitlines())


def client_096_available() -> bool:
    python = CLIENT_096_VENV / "bin/python"
    if not python.exists():
        CLIENT_096_VENV.parent.mkdir(parents=True, exist_ok=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(CLIENT_096_VENV)], check=False)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "reana-client==0.9.6"],
                       check=False, capture_output=True)
    return subprocess.run([str(python), "-c", "import reana_client.cli"],
                          capture_output=True).returncode == 0


def _time_clients(platform: Platform, results: Results, token: str, label: str, runs: int,
                  repetitions: int) -> None:
    clients = ["project", *(["0.9.6"] if client_096_available() else [])]
    for which in clients:
        seconds, windows = [], []
        for _ in range(repetitions):
            window = platform.window()
            took, lines = _client_seconds(platform, token, which)
            windows.append(window.close())
            seconds.append(took)
        if lines < runs:
            raise RuntimeError(f"reana-client list ({which}) printed {lines} lines for "
                               f"{runs} runs")
        key = "client_list" if which == "project" else "client096_list"
        results.add(f"{key}_{label}_s", seconds, "s", windows,
                    server_cpu_ms=round(windows[-1]["parts_s"].get("server", 0) * 1000, 1))


def listing(platform: Platform, results: Results, runs: int = 10_000, big: int = 50_000,
            repetitions: int = MIN_REPETITIONS) -> None:
    """The first page (``type=batch&page=1&size=20``) with 10,000 runs, p99 of ≥ 200 requests,
    before and after the benchmark's own ``VACUUM ANALYZE``; ``reana-client list`` (the
    project's and 0.9.6) with 10,000 and 50,000 runs."""
    from bench_runs import serial_spec

    spec = serial_spec(["echo hello"])
    owner, token = bench_user("bench-list@example.org")
    insert_runs(owner, runs, "bench-list-", "finished", spec, {"run_finished_at": None})
    _page_samples(platform, token, 10)  # warm-up: connections, caches
    per_rep = max(MIN_P99_SAMPLES // repetitions + 1, 70)
    for suffix in ("", "_analyzed"):
        pooled, p50s, windows, cpus = [], [], [], []
        for _ in range(repetitions):
            window = platform.window()
            samples = _page_samples(platform, token, per_rep)
            closed = window.close()
            windows.append(closed)
            cpus.append(cpu_ms(closed, per_rep))
            p50s.append(percentile(samples, 0.5))
            pooled += samples
        results.add(f"list_10k_p99_ms{suffix}", percentile(pooled, 0.99), "ms", windows, 1,
                    samples=len(pooled), note="without the benchmark's VACUUM ANALYZE"
                    if not suffix else "after VACUUM ANALYZE workflow")
        results.add(f"list_10k_p50_ms{suffix}", p50s, "ms", windows, 1)
        results.details[f"list_10k_cpu_ms_per_request{suffix}"] = cpus[-1]
        if not suffix:
            _time_clients(platform, results, token, "10k", runs, repetitions)
            vacuum_analyze("workflow")
    big_owner, big_token = bench_user("bench-list-50k@example.org")
    insert_runs(big_owner, big, "bench-big-", "finished", spec, {"run_finished_at": None})
    _time_clients(platform, results, big_token, "50k", big, repetitions)


# --- the status consumer -------------------------------------------------------------------
def _queue_state(name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a RabbitMQ queue."""
    from kombu import Connection
    from reana_commons.config import get_config

    with Connection(get_config().broker_url, connect_timeout=5) as connection:
        ok = connection.default_channel.queue_declare(name, passive=True)
        return ok.message_count, ok.consumer_count


def status_messages(platform: Platform, results: Results, messages: int = 10_000,
                    runs: int = 20, repetitions: int = MIN_REPETITIONS) -> None:
    """jobs-status messages applied per second by the consumer, from a pre-filled queue.

    Per repetition: the consumer is stopped, ``messages`` progress messages (a job
    started, a job finished, each with a log line) for ``runs`` running runs are
    published, then the consumer is started; the clock runs from the moment it
    attaches to the queue until every run shows all its jobs finished. The runs
    are then marked finished (they are the benchmark's rows), so the reconciler
    does not fail them during the next step.
    """
    from bench_runs import quiet, serial_spec

    quiet(platform)
    owner, _token = bench_user("bench-status@example.org")
    rates, cpus, windows = [], [], []
    for rep in range(repetitions):
        ids = insert_runs(owner, runs, f"bench-status-{rep}-", "running", serial_spec(["true"]))
        stand_in = _alive_handles(platform, ids)
        try:
            rate, window = _status_messages(platform, ids, messages // runs // 2)
        finally:
            _mark_finished(ids)
            stand_in.kill()
            stand_in.wait()
        rates.append(rate)
        cpus.append(window["platform_s"] * 1000 / messages)
        windows.append(window)
    results.add("status_msgs_per_s", rates, "msgs/s", windows, 0)
    results.add("status_msg_cpu_ms", cpus, "ms", windows, 3)


def _mark_finished(ids: list[uuid.UUID]) -> None:
    from reana_db.database import new_session
    from reana_db.models import Workflow
    from sqlalchemy import update

    with new_session() as session:
        session.execute(update(Workflow).where(Workflow.id_.in_(ids)).values(status="finished"))
        session.commit()


def _alive_handles(platform: Platform, ids: list[uuid.UUID]) -> subprocess.Popen:
    """Give the inserted runs a local-runtime handle whose processes are alive.

    One ``sleep`` stands in for every run's engine and job controller, so the
    reconciler (which fails running runs without live processes) leaves the
    runs alone while the consumer works through the queue.
    """
    import psutil
    from reana_db.database import new_session
    from reana_db.models import RunHandle
    from sqlalchemy import insert

    env = {**os.environ, "REANA_HOME": platform.env["REANA_HOME"]}
    stand_in = subprocess.Popen(["sleep", "3600"], env=env, start_new_session=True)
    info = {"pid": stand_in.pid, "create_time": psutil.Process(stand_in.pid).create_time()}
    url = "http://127.0.0.1:9/"  # never called: no run ends during the benchmark
    rows = [{"workflow_id": run_id, "runtime": "local", "job_controller_url": url,
             "handle": {"workflow_uuid": str(run_id), "engine": info, "job_controller": info,
                        "job_controller_url": url}} for run_id in ids]
    with new_session() as session:
        session.execute(insert(RunHandle), rows)
        session.commit()
    return stand_in


def _status_messages(platform: Platform, ids: list[uuid.UUID],
                     jobs_per_run: int) -> tuple[float, dict]:
    from reana_commons.config import get_config
    from reana_commons.messaging import (
        build_progress_message,
        close_shared_connections,
        publish_workflow_status,
    )
    from reana_db.database import new_session
    from sqlalchemy import text

    platform.restart_service("stop", "consumer")
    queue = get_config().queue_name("jobs-status")
    for job in range(jobs_per_run):
        for run_id in ids:
            # Numbered as the engine numbers them (seq from 1 per run).
            job_id = f"{run_id.hex[:8]}-job-{job}"
            publish_workflow_status(run_id, None, logs=f"job {job_id} started\n",
                                    message=build_progress_message(
                                        total=jobs_per_run, running=[job_id]),
                                    seq=2 * job + 1)
            publish_workflow_status(run_id, None, logs=f"job {job_id} finished\n",
                                    message=build_progress_message(
                                        total=jobs_per_run, finished=[job_id]),
                                    seq=2 * job + 2)
    close_shared_connections()
    sent = jobs_per_run * len(ids) * 2
    platform.wait_until(lambda: _queue_state(queue)[0] >= sent, 60, "messages to be queued")
    platform.restart_service("start", "consumer")
    platform.wait_until(lambda: _queue_state(queue)[1] >= 1, 120, "the consumer", 0.01)
    attached = time.monotonic()
    window = platform.window()  # after the consumer's start-up: applying only

    def applied() -> bool:
        with new_session() as session:
            done = session.execute(text(
                "SELECT count(*) FROM workflow WHERE id_ = ANY(CAST(:ids AS uuid[])) "
                "AND (job_progress::jsonb -> 'finished' ->> 'total')::int = :jobs"
            ), {"ids": [str(i) for i in ids], "jobs": jobs_per_run}).scalar()
        return done == len(ids)

    platform.wait_until(applied, 300, "the status messages to be applied", 0.02)
    elapsed = time.monotonic() - attached
    return sent / elapsed, window.close()
