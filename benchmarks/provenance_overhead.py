"""provenance_overhead_ms: what recording a job's provenance adds to a job touching 100 files.

The job controller's own :class:`~reana_job_controller.provenance.ProvenanceRecorder` runs
around a simulated job of a real run (database rows, migrations, the job controller's store):
before the job it scans the workspace and hashes the job's declared inputs (100 files of
4 KiB named by its command); the "job" then rewrites those 100 files (so they are its
outputs); after it, the recorder scans again, hashes the 100 changed files and inserts the
``job_provenance`` row. The median of begin + end (row insert included) is reported against
the target (5 ms), with the CPU time of the recording thread beside it (wall time grows
with the machine's load, CPU time hardly does). Also reported: the same for a workspace
holding 10,000 more files the job does not touch (the scans grow with the workspace, the
hashing does not). Embedded profile
(SQLite) unless PostgreSQL is reachable. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

TARGET_MS = 5.0
FILES = 100
JOBS = 40


def configure(home: Path) -> str | None:
    from reana_testing import pytest_plugin as services

    os.environ.update({"REANA_HOME": str(home), "SHARED_VOLUME_PATH": str(home / "shared"),
                       "REANA_SECRET_KEY": "bench"})
    pg_uri = None
    if services._reachable(services.POSTGRES_ADMIN_URI, 5432):
        pg_uri = services.create_postgres_database()
        os.environ["REANA_SQLALCHEMY_DATABASE_URI"] = pg_uri
    from reana_commons.config import reset_config

    reset_config()
    return pg_uri


def make_run(home: Path):
    from reana_db import migrations
    from reana_db.database import new_session
    from reana_db.users import create_user
    from reana_testing.job_controller import create_workflow

    migrations.upgrade()
    session = new_session()
    try:
        user, _ = create_user(session, f"bench-{uuid.uuid4().hex[:6]}@example.org")
        session.commit()
        workflow = create_workflow(session, user, home / "shared")
        return workflow.id_, Path(workflow.workspace_path)
    finally:
        session.close()


def measure(workflow_id, workspace: Path, extra_files: int) -> tuple[list[float], list[float]]:
    from reana_db.enums import JobStatus
    from reana_job_controller.job_managers.base import BackendState, JobRecord
    from reana_job_controller.provenance import ProvenanceRecorder
    from reana_job_controller.store import JobStore

    for index in range(extra_files):
        directory = workspace / "other" / f"d{index // 100}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{index}.txt").write_bytes(b"x" * 64)
    data = workspace / "data"
    data.mkdir(exist_ok=True)
    names = [f"data/in{i:03d}.dat" for i in range(FILES)]
    for name in names:
        (workspace / name).write_bytes(os.urandom(4096))
    command = "cd $REANA_WORKSPACE && ./process " + " ".join(names)
    store = JobStore(str(workflow_id))
    recorder = ProvenanceRecorder(store, workspace)
    samples, cpu = [], []
    try:
        for round_ in range(JOBS):
            job = JobRecord(id=str(uuid.uuid4()), workflow_uuid=str(workflow_id),
                            status=JobStatus.created, cmd=command, docker_img="bench:1",
                            job_name=f"s{round_}", compute_backend="local",
                            spec={"workflow_workspace": str(workspace)})
            store.insert(job)
            started, started_cpu = time.perf_counter(), time.thread_time()
            recorder.begin(job)
            cost = time.perf_counter() - started
            cost_cpu = time.thread_time() - started_cpu
            for name in names:  # the job: rewrites every file it read
                (workspace / name).write_bytes(os.urandom(4096))
            store.finish(job, BackendState(JobStatus.finished, 0), "")
            job.environment = {"node": "bench", "runtime": "host"}
            started, started_cpu = time.perf_counter(), time.thread_time()
            row = recorder.end(job)
            cost += time.perf_counter() - started
            cost_cpu += time.thread_time() - started_cpu
            assert row is not None and len(row["outputs"]) == FILES, row
            samples.append(cost * 1000)
            cpu.append(cost_cpu * 1000)
    finally:
        store.close()
    return samples, cpu


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-prov-") as tmp:
        home = Path(tmp)
        pg_uri = configure(home)
        try:
            workflow_id, workspace = make_run(home)
            small, small_cpu = measure(workflow_id, workspace, 0)
            workflow_id, workspace = make_run(home)
            large, large_cpu = measure(workflow_id, workspace, 10_000)
        finally:
            if pg_uri:
                from reana_db.database import reset_engine
                from reana_testing import pytest_plugin as services

                reset_engine()
                services.drop_postgres_database(pg_uri)
    median = statistics.median(small)
    result = {
        "provenance_overhead_ms": round(median, 2),
        "provenance_overhead_ms_p95": round(sorted(small)[int(len(small) * 0.95) - 1], 2),
        "provenance_overhead_target_ms": TARGET_MS,
        "provenance_overhead_cpu_ms": round(statistics.median(small_cpu), 2),
        "provenance_overhead_ms_with_10k_other_files": round(statistics.median(large), 2),
        "provenance_overhead_cpu_ms_with_10k_other_files": round(statistics.median(large_cpu),
                                                                 2),
        "provenance_overhead_database": "postgresql" if pg_uri else "sqlite",
        "provenance_overhead_load": round(os.getloadavg()[0], 1),
    }
    verdict = "OK" if median <= TARGET_MS else "ABOVE TARGET"
    print(f"provenance_overhead_ms {median:.2f} (target <= {TARGET_MS}) {verdict}; CPU "
          f"{result['provenance_overhead_cpu_ms']} ms; "
          f"with 10,000 untouched files {result['provenance_overhead_ms_with_10k_other_files']}"
          f" ms; load {result['provenance_overhead_load']}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
