"""Conformance suite: every compute backend that can run here behaves the same.

Add a backend by appending a ``pytest.param("<name>", marks=...)`` to
:data:`BACKENDS` (with a skip mark when its service is absent). The suite
drives the in-process :class:`JobController`, i.e. the base class's cycle
around the backend's ``submit``/``status``/``logs``/``stop``.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from k8s_double.pytest_plugin import k8s_cluster  # noqa: F401 - fixture of the kubernetes param
from reana_db.enums import JobStatus
from reana_db.models import Job
from reana_job_controller.controller import JobController
from reana_testing.pytest_plugin import apply_env

BACKENDS = [pytest.param("local", id="local"),
            pytest.param("kubernetes", id="kubernetes"),
            pytest.param("slurm", id="slurm", marks=pytest.mark.slurm),
            pytest.param("htcondorcern", id="htcondor", marks=pytest.mark.htcondor)]

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch, reana_env):
    if request.param == "slurm":  # the real test Slurm (make slurm-up); skip/fail without it
        from reana_testing.slurm import require_slurm

        require_slurm()
        apply_env(monkeypatch, {"REANA_SLURM_MONITOR_INTERVAL": "0.5"})
    if request.param == "htcondorcern":  # the HTCondor double (make htcondor-up)
        from reana_testing.htcondor import require_htcondor

        require_htcondor()
        apply_env(monkeypatch, {"REANA_HTCONDOR_MONITOR_INTERVAL": "0.5"})
    if request.param == "kubernetes":  # the Kubernetes API double (k8s-double)
        request.getfixturevalue("k8s_cluster")
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": f'["{request.param}"]',
                            "REANA_DEFAULT_COMPUTE_BACKEND": request.param})
    return request.param


@pytest.fixture
def controller(backend, workflow):
    controller = JobController(workflow.id_, workflow.workspace_path, resync_interval=0.1)
    controller.start_monitor()
    yield controller
    controller.shutdown()
    controller.close()


def _request(workflow, cmd, **extra):
    return {
        "workflow_uuid": str(workflow.id_),
        "workflow_workspace": workflow.workspace_path,
        "docker_img": "docker.io/library/busybox:1.36",
        "job_name": "conformance",
        "cmd": f"cd {workflow.workspace_path} && {cmd}",
        "env_vars": {},
        "shared_file_system": True,
        **extra,
    }


def test_success_is_recorded_with_logs_and_times(controller, workflow, backend, db):
    job = controller.create_job(_request(workflow, "echo out-line && echo 42 > result.txt"))
    ended = controller.wait_for_job(job.id, timeout=60)
    assert ended.status == JobStatus.finished
    assert ended.exit_code == 0
    assert (Path(workflow.workspace_path) / "result.txt").read_text() == "42\n"
    assert "out-line" in controller.job_logs(job.id)
    row = db.get(Job, uuid.UUID(job.id))
    db.refresh(row)
    assert row.backend_job_id and row.compute_backend == backend
    assert row.started_at and row.finished_at and row.started_at <= row.finished_at
    assert row.spec["job_name"] == "conformance"


def test_failure_keeps_the_exit_code(controller, workflow):
    job = controller.create_job(_request(workflow, "echo err-line >&2; exit 5"))
    ended = controller.wait_for_job(job.id, timeout=60)
    assert ended.status == JobStatus.failed
    assert ended.exit_code == 5
    assert "err-line" in controller.job_logs(job.id)


def test_logs_while_running_and_stop(controller, workflow):
    job = controller.create_job(_request(workflow, "echo early-line; sleep 120"))
    manager = controller.manager(job.compute_backend)
    if manager.logs_while_running:
        deadline = time.monotonic() + 30
        while "early-line" not in controller.job_logs(job.id):
            assert time.monotonic() < deadline, "logs not readable while the job runs"
            time.sleep(0.1)
    assert controller.get_job(job.id).status == JobStatus.running
    controller.stop_job(job.id)
    stopped = controller.get_job(job.id)
    assert stopped.status == JobStatus.stopped
    backend_id = stopped.backend_job_id
    deadline = time.monotonic() + 30
    while not manager.status([backend_id])[backend_id].is_terminal:
        assert time.monotonic() < deadline, "the backend still runs a stopped job"
        time.sleep(0.1)


def test_status_is_a_batch_query(controller, workflow):
    jobs = [controller.create_job(_request(workflow, f"exit {code}")) for code in (0, 1, 0)]
    for job in jobs:
        controller.wait_for_job(job.id, timeout=60)
    manager = controller.manager(jobs[0].compute_backend)
    ids = [job.backend_job_id for job in jobs]
    states = manager.status(ids)
    assert set(states) == set(ids)
    assert all(state.is_terminal for state in states.values())


def test_a_resync_catches_a_missed_event(controller, workflow):
    """Level-triggered: an end the backend did not push is found by the monitor."""
    manager = controller.manager(controller.default_backend)
    manager._on_completion = None  # drop pushed events: only the resync remains
    job = controller.create_job(_request(workflow, "true"))
    ended = controller.wait_for_job(job.id, timeout=60)
    assert ended.status == JobStatus.finished


def test_a_stopped_job_keeps_the_reason_of_its_stop(controller, workflow):
    """The backend's own end event of a job being stopped may be stored before the stop
    itself (a monitor thread against the stopping one): the job still says why it stopped."""
    job = controller.create_job(_request(workflow, "sleep 120"))
    manager = controller.manager(job.compute_backend)
    real_stop = manager.stop

    def stop_then_report_first(backend_job_id):
        real_stop(backend_job_id)
        deadline = time.monotonic() + 30
        while not (state := manager.status([backend_job_id])[backend_job_id]).is_terminal:
            assert time.monotonic() < deadline, "the backend still runs a stopped job"
            time.sleep(0.05)
        controller._on_completion(job.id, state)  # the monitor wins the race

    manager.stop = stop_then_report_first
    assert controller.shutdown() == ([job.id], [])
    ended = controller.get_job(job.id)
    assert ended.status == JobStatus.stopped
    assert "[reana] stopped: the job controller was shut down" in controller.job_logs(job.id)
