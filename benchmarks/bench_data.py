"""Platform benchmarks fed directly with rows and messages: listing, status consumer, memory."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from datetime import timedelta

from bench_platform import CpuMeter, Platform
from bench_stats import percentile, rounded


def idle_rss(platform: Platform) -> dict:
    """Resident memory (MB) of every idle service process (gunicorn master and workers apart)."""
    rss, uss = {}, {}
    for service, processes in platform.service_processes().items():
        for index, process in enumerate(processes):
            name = service if index == 0 else f"{service}-worker-{index}"
            if service == "zygote" and index:
                continue  # the zygote's children are runs, not services
            info = process.memory_full_info()
            rss[name] = rounded(info.rss / 2**20)
            uss[name] = rounded(info.uss / 2**20)
    return {"idle_rss_mb": rss, "idle_rss_mb_max": max(rss.values()),
            "idle_uss_mb": uss}


def _bench_user(email: str) -> tuple[uuid.UUID, str]:
    from reana_db.database import new_session
    from reana_db.users import create_user

    with new_session() as session:
        user, token = create_user(session, email)
        session.commit()
        return user.id_, token


def _insert_runs(owner_id: uuid.UUID, count: int, prefix: str, status: str, spec: dict,
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


def _vacuum_analyze(table: str) -> None:
    """What autovacuum does to a table that grew: planner statistics and the visibility map.

    10,000 rows inserted in one second are measured at once, before autovacuum's
    next round: without statistics PostgreSQL plans for a handful of rows (a
    bitmap scan and a sort of all the user's runs instead of the newest 20 by
    index). A platform whose runs accumulated over time has been analyzed.
    """
    from reana_db.database import get_engine
    from sqlalchemy import text

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {table}"))


def list_10k(platform: Platform, runs: int = 10_000, requests_count: int = 200) -> dict:
    """p99 of reana-client's first page (``type=batch&page=1&size=20``) with 10,000 runs."""
    import requests
    from bench_runs import serial_spec

    owner, token = _bench_user("bench-list@example.org")
    spec = serial_spec(["echo hello"])
    _insert_runs(owner, runs, "bench-list-", "finished", spec,
                 {"run_finished_at": None})
    _vacuum_analyze("workflow")
    session = requests.Session()
    params = {"access_token": token, "type": "batch", "verbose": "false", "page": 1, "size": 20}
    url = platform.url + "/api/workflows"
    for _ in range(10):  # warm-up: connections, caches
        response = session.get(url, params=params, timeout=60)
        response.raise_for_status()
    body = response.json()
    if body.get("total") != runs or len(body.get("items", [])) != 20:
        raise RuntimeError(f"unexpected listing: total {body.get('total')}, "
                           f"{len(body.get('items', []))} items")
    samples = []
    meter = CpuMeter(platform)
    for _ in range(requests_count):
        begin = time.perf_counter()
        response = session.get(url, params=params, timeout=60)
        samples.append((time.perf_counter() - begin) * 1000)
        response.raise_for_status()
    return {
        "list_10k_p99_ms": rounded(percentile(samples, 0.99)),
        "list_10k_p50_ms": rounded(percentile(samples, 0.50)),
        "list_10k_requests": requests_count,
        "list_10k_cpu_ms_per_request": meter.per_operation_ms(requests_count),
    }


def _queue_state(name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a RabbitMQ queue."""
    from kombu import Connection
    from reana_commons.config import get_config

    with Connection(get_config().broker_url, connect_timeout=5) as connection:
        ok = connection.default_channel.queue_declare(name, passive=True)
        return ok.message_count, ok.consumer_count


def status_messages(platform: Platform, messages: int = 20_000, runs: int = 40) -> dict:
    """jobs-status messages applied per second by the consumer, from a pre-filled queue.

    The consumer is stopped, ``messages`` progress messages (a job started, a
    job finished, each with a log line) for ``runs`` running runs are
    published, then the consumer is started; the clock runs from the moment it
    attaches to the queue until every run shows all its jobs finished in the
    database.
    """
    from bench_runs import serial_spec

    jobs_per_run = messages // runs // 2
    owner, _token = _bench_user("bench-status@example.org")
    ids = _insert_runs(owner, runs, "bench-status-", "running", serial_spec(["true"]))
    stand_in = _alive_handles(platform, ids)
    try:
        return _status_messages(platform, ids, jobs_per_run)
    finally:
        stand_in.kill()
        stand_in.wait()


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


def _status_messages(platform: Platform, ids: list[uuid.UUID], jobs_per_run: int) -> dict:
    from reana_commons.config import get_config
    from reana_commons.messaging import (
        build_progress_message,
        close_shared_connections,
        publish_workflow_status,
    )
    from reana_db.database import new_session
    from sqlalchemy import text

    runs = len(ids)
    platform.supervisorctl("stop", "consumer")
    queue = get_config().queue_name("jobs-status")
    published = time.monotonic()
    for job in range(jobs_per_run):
        for run_id in ids:
            # Numbered as the engine numbers them (seq from 1 per run): the consumer keeps
            # the applied numbers with the run handle, as it does for real runs.
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
    publish_s = time.monotonic() - published
    sent = jobs_per_run * runs * 2
    platform.wait_until(lambda: _queue_state(queue)[0] >= sent, 60, "messages to be queued")
    platform.supervisorctl("start", "consumer")
    platform.wait_until(lambda: _queue_state(queue)[1] >= 1, 120, "the consumer", 0.01)
    attached = time.monotonic()
    meter = CpuMeter(platform)

    def applied() -> bool:
        with new_session() as session:
            done = session.execute(text(
                "SELECT count(*) FROM workflow WHERE id_ = ANY(CAST(:ids AS uuid[])) "
                "AND (job_progress::jsonb -> 'finished' ->> 'total')::int = :jobs"
            ), {"ids": [str(i) for i in ids], "jobs": jobs_per_run}).scalar()
        return done == runs

    platform.wait_until(applied, 300, "the status messages to be applied", 0.02)
    elapsed = time.monotonic() - attached
    return {
        "status_msgs_per_s": rounded(sent / elapsed),
        "status_msgs": sent,
        "status_msgs_runs": runs,
        "status_msgs_publish_per_s": rounded(sent / publish_s),
        "status_msgs_cpu_ms_per_msg": meter.per_operation_ms(sent),
    }
