"""The Slurm job manager in-process: batched monitoring, restarts, images, state mapping.

Everything but the state-mapping unit tests runs real jobs on the test Slurm
(``make slurm-up``); skipped with the reason without it, failing in CI.
"""

from __future__ import annotations

import time
import uuid

import pytest
from reana_db.enums import JobStatus
from reana_job_controller.job_managers import JobRecord
from reana_job_controller.job_managers.slurm_script import (
    image_reference,
    parse_exit_code,
    state_for,
)
from reana_testing.batch_managers import ManagerFactory
from reana_testing.slurm import require_slurm

pytestmark = pytest.mark.slurm


@pytest.fixture
def manager_factory(tmp_path, monkeypatch):
    """Builds started Slurm managers on a fresh workspace (closed at the end)."""
    require_slurm()
    factory = ManagerFactory("slurm", tmp_path, monkeypatch, interval="0.5")
    yield factory
    factory.close()


def _job(factory, cmd, **spec) -> JobRecord:
    return JobRecord(id=str(uuid.uuid4()), workflow_uuid=factory.workflow_uuid,
                     status=JobStatus.created, cmd=cmd, docker_img="docker.io/library/ubuntu:20.04",
                     job_name="step", spec=spec)


def _submit(manager, job) -> JobRecord:
    job.backend_job_id = manager.submit(job)
    manager.follow(job)
    return job


def test_many_jobs_are_followed_with_one_query_per_period(manager_factory):
    manager = manager_factory()
    calls = []
    real_run = manager.transport.run

    def counting_run(argv, check=True):
        calls.append(argv[0])
        return real_run(argv, check)

    manager.transport.run = counting_run
    started = time.monotonic()
    jobs = [_submit(manager, _job(manager_factory, f"sleep 2; echo job-{n}")) for n in range(6)]
    states = manager_factory.wait_ended([job.id for job in jobs])
    elapsed = time.monotonic() - started
    assert all(state.status == JobStatus.finished for state in states.values())
    periods = elapsed / manager.interval
    squeue_calls = calls.count("squeue")
    assert squeue_calls == manager.queries
    assert squeue_calls <= periods + 2, (squeue_calls, periods)
    assert calls.count("sbatch") == 6
    assert "job-3" in manager.logs(jobs[3])


def test_a_new_manager_adopts_running_jobs(manager_factory):
    first = manager_factory()
    job = _submit(first, _job(manager_factory, "sleep 2; exit 4"))
    first.close()
    second = manager_factory()  # as after a job controller restart: knows only the backend id
    deadline = time.monotonic() + 60
    while True:
        state = second.status([job.backend_job_id])[job.backend_job_id]
        if state.is_terminal:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state.status == JobStatus.failed
    assert state.exit_code == 4


def test_sacct_answers_for_jobs_squeue_forgot(manager_factory):
    manager = manager_factory()
    job = _submit(manager, _job(manager_factory, "exit 2"))
    manager_factory.wait_ended([job.id])
    deadline = time.monotonic() + 30
    # slurmdbd records the job's end a moment after squeue shows it (RUNNING until then).
    while manager._query_sacct([job.backend_job_id]).get(job.backend_job_id, ("",))[0] in (
            "", "PENDING", "RUNNING"):
        assert time.monotonic() < deadline, "slurmdbd never recorded the job's end"
        time.sleep(0.2)
    assert manager._query_sacct([job.backend_job_id])[job.backend_job_id] == ("FAILED", 2)


def test_image_runs_under_apptainer_when_the_node_has_it(manager_factory, tmp_path, monkeypatch):
    # A stand-in apptainer on PATH records how it is called, then runs the command itself:
    # Apptainer cannot be installed here; this checks the detection and the command we build.
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    record = tmp_path / "apptainer-args"
    shim = shim_dir / "apptainer"
    shim.write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > {record}\n'
                    'while [ "$1" != bash ]; do shift; done\nexec "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}:/usr/local/bin:/usr/bin:/bin")
    manager = manager_factory()
    job = _submit(manager, _job(manager_factory, "echo inside", unpacked_img=True))
    state = manager_factory.wait_ended([job.id])[job.id]
    assert state.status == JobStatus.finished
    logs = manager.logs(job)
    assert logs.splitlines()[0].startswith("[reana] running under apptainer")
    assert "inside" in logs
    args = record.read_text().splitlines()
    assert args[0] == "exec"
    assert "/cvmfs/unpacked.cern.ch/registry.hub.docker.com/library/ubuntu:20.04" in args
    assert str(manager_factory.workspace) in args


def test_image_references():
    assert image_reference("reanahub/reana-env-root6:6.18.04", unpacked=False) == (
        "docker://reanahub/reana-env-root6:6.18.04")
    assert image_reference("python", unpacked=True) == (
        "/cvmfs/unpacked.cern.ch/registry.hub.docker.com/python:latest")


@pytest.mark.parametrize(("text", "code"), [
    ("0:0", 0), ("3:0", 3), ("0:15", 143), ("0", 0), ("768", 3), ("9", 137), ("", None),
])
def test_exit_codes(text, code):
    assert parse_exit_code(text) == code


@pytest.mark.parametrize(("slurm", "status", "words"), [
    ("PENDING", JobStatus.queued, ""),
    ("RUNNING", JobStatus.running, ""),
    ("COMPLETING", JobStatus.running, ""),
    ("COMPLETED", JobStatus.finished, ""),
    ("FAILED", JobStatus.failed, "failed"),
    ("TIMEOUT", JobStatus.failed, "TIMEOUT"),
    ("OUT_OF_MEMORY", JobStatus.failed, "OUT_OF_MEMORY"),
    ("NODE_FAIL", JobStatus.failed, "NODE_FAIL"),
    ("CANCELLED by 0", JobStatus.failed, "CANCELLED"),
])
def test_state_mapping(slurm, status, words):
    state = state_for("17", slurm, 0, stop_requested=False)
    assert state.status == status
    assert words in state.reason


def test_cancel_we_asked_for_is_stopped():
    assert state_for("17", "CANCELLED", 0, stop_requested=True).status == JobStatus.stopped

