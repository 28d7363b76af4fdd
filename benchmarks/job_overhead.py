"""job_overhead_ms: median per-job overhead of a no-op serial run over a bare spawn.

A 200-step serial workflow of ``true`` commands runs through a real job
controller process (local backend) with real messaging; the engine runs in
this process so each job's cycle (log line, submit, publish running,
long-poll until the end, publish finished) is timed between two consecutive
"finished" publishes. The baseline is a bare ``bash -c true`` spawn and wait,
measured in the same run. Jobs run sandboxed (bubblewrap) unless
``--isolation none``. Uses PostgreSQL and RabbitMQ when reachable (the
shared test services), else the embedded profile. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def bare_spawn_ms(count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def configure(home: Path) -> tuple[str, str, str | None]:
    """Environment of an isolated platform; returns (database, broker, pg uri to drop)."""
    from reana_testing import pytest_plugin as services

    pg_uri = None
    env = {"REANA_HOME": str(home), "SHARED_VOLUME_PATH": str(home / "shared"),
           "REANA_QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}-",
           "REANA_SECRET_KEY": "bench"}
    if services._reachable(services.POSTGRES_ADMIN_URI, 5432):
        pg_uri = services.create_postgres_database()
        env["REANA_SQLALCHEMY_DATABASE_URI"] = pg_uri
    if services._reachable(services.RABBITMQ_URL, 5672):
        env["RABBIT_MQ"] = services.RABBITMQ_URL
    os.environ.update(env)
    from reana_commons.config import reset_config

    reset_config()
    database = "postgresql" if pg_uri else "sqlite"
    broker = "rabbitmq" if "RABBIT_MQ" in env else "embedded"
    return database, broker, pg_uri


@contextmanager
def isolated_services(home: Path) -> Iterator[tuple[str, str]]:
    """This process configured for an isolated platform under ``home`` (:func:`configure`);
    yields (database, broker); its PostgreSQL database and RabbitMQ queues are removed after."""
    database, broker, pg_uri = configure(home)
    try:
        yield database, broker
    finally:
        from reana_commons.messaging import close_shared_connections
        from reana_db.database import reset_engine
        from reana_testing import pytest_plugin as services

        close_shared_connections()
        reset_engine()
        if pg_uri:
            services.drop_postgres_database(pg_uri)
        if broker == "rabbitmq":
            services.delete_rabbitmq_queues(os.environ["REANA_QUEUE_PREFIX"])


def bench_user(email: str):
    """The schema created and a user: ``(session, user)`` (the caller closes the session)."""
    from reana_db.database import get_engine, new_session
    from reana_db.models import Base
    from reana_db.users import create_user

    Base.metadata.create_all(get_engine())
    session = new_session()
    user, _token = create_user(session, email)
    session.commit()
    return session, user


def run_engine(home: Path, workflow, engine_main: str, *args: str, timeout: float = 900) -> float:
    """Seconds an engine process (``python -c engine_main``) takes to run ``workflow`` to its
    end through a job controller of its own; ``args`` follow its uuid and workspace."""
    from reana_testing.engine import EnginePlatform
    from reana_testing.job_controller import JobControllerProcess

    job_controller = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                          home / "run" / str(workflow.id_), extra_args=())
    job_controller.start()
    engine = EnginePlatform(workflow, job_controller)
    engine.engine_main = engine_main
    try:
        started = time.perf_counter()
        process = engine.start_process(*args)
        out, err = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise RuntimeError(f"the engine failed ({process.returncode}): {err[-2000:]}")
        return time.perf_counter() - started
    finally:
        job_controller.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--isolation", choices=("bwrap", "none"),
                        default=os.environ.get("REANA_LOCAL_JOB_ISOLATION") or "bwrap",
                        help="REANA_LOCAL_JOB_ISOLATION of the jobs (default: as configured)")
    args = parser.parse_args()
    os.environ["REANA_LOCAL_JOB_ISOLATION"] = args.isolation
    with tempfile.TemporaryDirectory(prefix="reana-bench-") as tmp, \
            isolated_services(Path(tmp)) as (database, broker):
        result = measure(Path(tmp), args.jobs)
    result.update({"job_overhead_database": database, "job_overhead_broker": broker,
                   "job_overhead_isolation": args.isolation})
    print(json.dumps(result))
    return 0


def measure(home: Path, count: int) -> dict:
    from reana_commons.engine.harness import EngineRun, execute
    from reana_commons.engine.job_controller_client import JobControllerClient
    from reana_commons.engine.reporter import RunReporter
    from reana_commons.messaging import close_shared_connections, publish_workflow_status
    from reana_testing.job_controller import JobControllerProcess, create_workflow
    from reana_workflow_engine_serial.engine import run_serial

    session, user = bench_user("bench@example.org")
    workflow = create_workflow(session, user, home / "shared", name="bench")
    session.close()
    job_controller = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                          home / "run" / str(workflow.id_), extra_args=())
    job_controller.start()
    import psutil

    jc_process = psutil.Process(job_controller.process.pid)
    idle_rss = jc_process.memory_info().rss
    finished_at: list[float] = []

    def timed_publish(workflow_uuid, status, logs="", message=None, seq=None):
        publish_workflow_status(workflow_uuid, status, logs=logs, message=message, seq=seq)
        if message and "finished" in message.get("progress", {}):
            finished_at.append(time.perf_counter())

    try:
        spec = {"steps": [{"name": f"s{i}", "environment": "busybox", "commands": ["true"]}
                          for i in range(count)]}
        baseline_before = bare_spawn_ms(max(count // 2, 10))
        reporter = RunReporter(str(workflow.id_), "reana-workflow-engine-serial",
                               publish=timed_publish, stream=None)
        run = EngineRun(str(workflow.id_), workflow.workspace_path, spec, {}, {}, None,
                        JobControllerClient(job_controller.url, token=job_controller.token),
                        reporter)
        started = time.perf_counter()
        status = 2 if execute(run, run_serial) == 0 else reporter.end_status
        total_s = time.perf_counter() - started
        baseline_after = bare_spawn_ms(max(count // 2, 10))
        busy_rss = jc_process.memory_info().rss
    finally:
        job_controller.kill()
        close_shared_connections()
    if status != 2:
        print(f"run ended with status {status}", file=sys.stderr)
        return {}
    cycles = [(b - a) * 1000 for a, b in zip(finished_at, finished_at[1:], strict=False)]
    bare = statistics.median(baseline_before + baseline_after)
    cycle = statistics.median(cycles)
    return {
        "job_overhead_ms": round(cycle - bare, 2),
        "job_cycle_ms_p50": round(cycle, 2),
        "job_cycle_ms_p99": round(sorted(cycles)[int(len(cycles) * 0.99) - 1], 2),
        "bare_spawn_ms_p50": round(bare, 2),
        "serial_run_jobs_per_s": round(count / total_s, 1),
        "job_controller_rss_mb_idle": round(idle_rss / 2**20, 1),
        "job_controller_rss_mb_after_run": round(busy_rss / 2**20, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
