"""Small pure pieces: the URL file, memory quantities, the registry."""

from __future__ import annotations

import os

import pytest
from reana_job_controller.job_managers import UnknownBackend, known_backends, load_job_manager
from reana_job_controller.quantities import InvalidQuantity, memory_bytes
from reana_job_controller.server import write_url_file


def test_url_file_is_written_atomically(tmp_path):
    target = tmp_path / "sub" / "url"
    write_url_file(str(target), "http://127.0.0.1:1234")
    assert target.read_text() == "http://127.0.0.1:1234\n"
    assert os.listdir(target.parent) == ["url"]


@pytest.mark.parametrize(
    "quantity, expected",
    [("256Mi", 256 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("0.5Gi", 2**29),
     ("129e6", 129 * 10**6),
     ("4096", 4096), ("", None), (None, None), ("100k", 100_000)],
)
def test_memory_bytes(quantity, expected):
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["lots", "12 parsecs", "-1Mi", "Mi"])
def test_invalid_memory_quantity(quantity):
    with pytest.raises(InvalidQuantity):
        memory_bytes(quantity)


def test_registry_loads_lazily_by_name():
    assert "local" in known_backends()
    assert load_job_manager("local").name == "local"
    with pytest.raises(UnknownBackend):
        load_job_manager("nope")


def test_an_end_seen_before_submit_returned_keeps_its_status(workflow, database_uri):
    # A Kubernetes watch can report a job's end before the create call returned: the
    # submission then records the backend id and leaves the end as it is.
    import uuid

    from reana_db.enums import JobStatus
    from reana_job_controller.job_managers.base import BackendState, JobRecord
    from reana_job_controller.store import JobStore

    store = JobStore(str(workflow.id_), database_uri)
    job = JobRecord(id=str(uuid.uuid4()), workflow_uuid=str(workflow.id_),
                    status=JobStatus.created, cmd="true", docker_img="img", job_name="s",
                    prettified_cmd="true", compute_backend="kubernetes", env_vars={},
                    cvmfs_mounts="", spec={})
    store.insert(job)
    assert store.finish(job, BackendState(JobStatus.finished, 0), "hello\n")
    job.backend_job_id = "reana-run-job-x"
    store.record_submission(job, JobStatus.running)
    stored = store.get(job.id)
    assert (stored.status, stored.backend_job_id, stored.logs) == (
        JobStatus.finished, "reana-run-job-x", "hello\n")
    assert stored.finished_at is not None



def test_a_provenance_row_reads_back_as_written(workflow, database_uri):
    """The row goes in on a bare DBAPI connection: every column reads back through the ORM."""
    import uuid
    from datetime import datetime

    import sqlalchemy as sa
    from reana_db.enums import JobStatus
    from reana_db.models import JobProvenance
    from reana_job_controller.job_managers.base import JobRecord
    from reana_job_controller.store import JobStore

    store = JobStore(str(workflow.id_), database_uri)
    job = JobRecord(id=str(uuid.uuid4()), workflow_uuid=str(workflow.id_),
                    status=JobStatus.created, cmd="true", docker_img="img", job_name="s",
                    compute_backend="local", spec={})
    store.insert(job)
    other = str(uuid.uuid4())
    row = {
        "job_id": uuid.UUID(job.id), "owner_id": workflow.owner_id, "job_name": "fit",
        "image": "img", "image_digest": None, "command": "python fit.py données/x.csv",
        "compute_backend": "local", "runtime": "host", "node": "n1",
        "parameters": {"env_vars": {"A": "1"}}, "inputs": None,
        "outputs": [{"path": "données/x.csv", "sha256": "0" * 64, "size": 3}],
        "outputs_during": [{"path": "y", "sha256": "1" * 64, "size": 0, "jobs": [other]}],
        "started_at": datetime(2026, 1, 2, 3, 4, 5, 6), "finished_at": datetime(2026, 1, 2, 3, 5),
        "exit_code": 0, "status": JobStatus.finished, "cached": False,
        "cached_from": uuid.UUID(other), "cache_key": "k" * 64, "overhead_ms": 4.25,
    }
    store.insert_provenance(row)
    store.close()
    engine = sa.create_engine(database_uri, poolclass=sa.pool.NullPool)
    try:
        with sa.orm.Session(engine) as session:
            stored = session.get(JobProvenance, uuid.UUID(job.id))
            assert {key: getattr(stored, key) for key in row} == row
            assert stored.workflow_uuid == workflow.id_ and stored.created is not None
    finally:
        engine.dispose()

PRELOAD_CHECK = """
import sys
import reana_job_controller
from reana_job_controller import app

reana_job_controller.preload()
prepared = app._prepared
assert prepared is not None, "no application was prepared"
assert "reana_job_controller.server" in sys.modules
assert "reana_job_controller.job_managers.local" in sys.modules
assert app.create_app(object(), "token") is prepared, "create_app built another application"
assert app._prepared is None
"""


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_preload_prepares_the_next_application_without_connecting(reana_env, tmp_path):
    """The public seam the zygote calls: modules imported, the app built ahead, SQL compiled
    without a connection (the SQLite file named here is never created)."""
    import subprocess
    import sys

    missing = tmp_path / "absent" / "reana.db"
    env = dict(os.environ, REANA_SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    done = subprocess.run([sys.executable, "-c", PRELOAD_CHECK], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not missing.exists()


BACKEND_LIBRARIES = """
import sys
import reana_job_controller

assert "kubernetes.client" not in sys.modules
reana_job_controller.preload()
assert ("kubernetes.watch" in sys.modules) is (sys.argv[1] == "yes"), sys.argv
"""


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_preload_imports_the_enabled_backends_libraries(reana_env):
    """The live-log flake under load: a run's first Kubernetes job spent 30 s (5 s of CPU)
    importing the Kubernetes client inside its submission, past the engine's 30 s wait; the
    engine failed the run and its job was stopped after its first line. The zygote now
    imports the enabled backends' libraries once (and a cold job controller its default
    backend's, before it listens)."""
    import subprocess
    import sys

    env = dict(os.environ, REANA_COMPUTE_BACKENDS='["local","kubernetes"]')
    done = subprocess.run([sys.executable, "-c", BACKEND_LIBRARIES, "yes"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    env["REANA_COMPUTE_BACKENDS"] = '["local"]'  # nothing imported for a disabled backend
    done = subprocess.run([sys.executable, "-c", BACKEND_LIBRARIES, "no"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
