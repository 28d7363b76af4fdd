"""Serial runs end to end on Kubernetes: the kubernetes run manager and backend against the double.

The test process starts runs with :func:`reana_workflow_controller.runs.start_run`
(``REANA_RUNTIME=kubernetes``); the double runs the batch pod (engine + job
controller) and every step's pod as local processes; a real
``reana-workflow-controller consume`` process applies the engine's status
messages and reconciles. Every object sent to the API is validated against
the Kubernetes 1.30 OpenAPI schemas (the fixture fails the test otherwise).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Workflow
from reana_testing.pytest_plugin import apply_env
from reana_workflow_controller import runs

from tests.conftest import SQLITE, jobs_of, new_run_row, wait_run_status

pytestmark = pytest.mark.slow
IMAGE = "docker.io/library/python:3.11"


def make_run(db, user, steps, name="k8s"):
    spec = {"version": "0.9.0", "inputs": {"parameters": {"greeting": "hello"}},
            "workflow": {"type": "serial", "specification": {"steps": steps}}}
    return new_run_row(db, user, name, "serial", spec, {})


def step(name, *commands, **fields):
    return {"name": name, "environment": IMAGE, "commands": list(commands), **fields}


def batch_jobs(cluster):
    return [j for j in cluster.store.list("jobs", "default")[0]
            if j["metadata"]["name"].startswith("reana-run-batch-")]


@SQLITE
def test_serial_run_end_to_end(db, user, k8s_platform):
    _serial_run(db, user, k8s_platform)


@pytest.fixture
def rabbitmq_env(monkeypatch, reana_env, broker):
    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.parametrize("database_uri", ["postgresql"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_serial_run_on_postgresql_and_rabbitmq(rabbitmq_env, db, user, k8s_platform):
    _serial_run(db, user, k8s_platform)


def _serial_run(db, user, k8s_platform):
    workflow = make_run(db, user, [
        step("first", "echo ${greeting} > a.txt", "echo first-out"),
        step("second", "cat a.txt > b.txt && echo second-out", kubernetes_memory_limit="512Mi"),
    ])
    runs.start_run(db, workflow, {"greeting": "bonjour"}, {})
    run = wait_run_status(db, workflow, {RunStatus.finished, RunStatus.failed})
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    workspace = Path(workflow.workspace_path)
    assert (workspace / "b.txt").read_text() == "bonjour\n"
    jobs = jobs_of(db, workflow)
    assert [j.job_name for j in jobs] == ["first", "first", "second"]
    assert all(JobStatus(j.status) == JobStatus.finished for j in jobs)
    assert {j.compute_backend for j in jobs} == {"kubernetes"}
    # Logs are collected from the pod right after the end; give that write a bounded moment.
    deadline = time.monotonic() + 10
    while not ("first-out" in (jobs[1].logs or "") and "second-out" in (jobs[2].logs or "")):
        assert time.monotonic() < deadline, [j.logs for j in jobs]
        time.sleep(0.2)
        db.expire_all()
        jobs = jobs_of(db, workflow)
    sent = k8s_platform.sent("Job")
    assert [j["metadata"]["name"] for j in sent][0] == f"reana-run-batch-{workflow.id_}"
    assert len(sent) == 4 and len({j["metadata"]["name"] for j in sent}) == 4
    batch = sent[0]["spec"]["template"]["spec"]
    assert [c["name"] for c in batch["containers"]] == ["workflow-engine", "job-controller"]
    assert sent[3]["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "512Mi"}}
    deadline = time.monotonic() + 60
    while k8s_platform.store.list("jobs", "default")[0]:  # consumer cleanup deletes the batch Job
        assert time.monotonic() < deadline, k8s_platform.store.list("jobs", "default")[0]
        time.sleep(0.1)


def _failed_run(db, user, k8s_platform, steps):
    workflow = make_run(db, user, steps)
    runs.start_run(db, workflow, {}, {})
    run = wait_run_status(db, workflow, {RunStatus.finished, RunStatus.failed, RunStatus.stopped})
    assert RunStatus(run.status) == RunStatus.failed, run.logs
    jobs = jobs_of(db, workflow)
    assert JobStatus(jobs[-1].status) == JobStatus.failed
    return run, jobs[-1]


@SQLITE
def test_oom_killed_step_fails_the_run(db, user, k8s_platform):
    run, job = _failed_run(db, user, k8s_platform, [step(
        "hungry", "python3 -c 'x = bytearray(400 * 2**20); import time; time.sleep(30)'",
        kubernetes_memory_limit="64Mi")])
    assert "OOMKilled" in job.logs and job.exit_code == 137


@SQLITE
def test_image_pull_error_fails_the_run(db, user, k8s_platform):
    run, job = _failed_run(db, user, k8s_platform, [
        {"name": "bad-image", "environment": "unpullable.example/analysis:1",
         "commands": ["true"]}])
    assert "ErrImagePull" in job.logs or "ImagePullBackOff" in job.logs


@SQLITE
def test_deadline_exceeded_fails_the_run(db, user, k8s_platform):
    run, job = _failed_run(db, user, k8s_platform, [step("slow", "sleep 60",
                                                    kubernetes_job_timeout=1)])
    assert "DeadlineExceeded" in job.logs and "time limit" in job.logs


@SQLITE
def test_unschedulable_step_fails_the_run(db, user, k8s_platform, monkeypatch):
    apply_env(monkeypatch, {"REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL": "gpu=yes"})
    run, job = _failed_run(db, user, k8s_platform, [step("gpu", "true")])
    assert "could not be scheduled" in job.logs and "didn't match" in job.logs


@SQLITE
def test_unschedulable_batch_pod_is_failed_by_the_reconciler(db, user, k8s_platform, monkeypatch):
    apply_env(monkeypatch, {"REANA_RUNTIME_BATCH_KUBERNETES_NODE_LABEL": "pool=batch"})
    workflow = make_run(db, user, [step("never", "true")])
    runs.start_run(db, workflow, {}, {})
    run = wait_run_status(db, workflow, {RunStatus.failed, RunStatus.finished}, seconds=30)
    assert RunStatus(run.status) == RunStatus.failed
    assert "could not be scheduled" in run.logs and "reconciler" in run.logs


@SQLITE
@pytest.mark.parametrize("reconcile_grace", ["1", "600"], ids=["either-first",
                                                              "engine-report-first"])
def test_job_deleted_under_a_running_run(db, user, k8s_platform):
    from reana_commons.k8s import api

    workflow = make_run(db, user, [step("long", "echo started; sleep 120")])
    runs.start_run(db, workflow, {}, {})
    deadline = time.monotonic() + 60
    while not [j for j in jobs_of(db, workflow) if JobStatus(j.status) == JobStatus.running]:
        assert time.monotonic() < deadline, "the step never ran"
        time.sleep(0.1)
    api.batch_v1().delete_namespaced_job(f"reana-run-batch-{workflow.id_}", "default",
                                         propagation_policy="Background")
    run = wait_run_status(db, workflow, {RunStatus.failed, RunStatus.finished, RunStatus.stopped},
                      seconds=60)
    assert RunStatus(run.status) == RunStatus.failed
    # The engine, terminated, only knows that (REANA's "Workflow exited unexpectedly."); the
    # run manager names the deleted Job, whether the engine's report or the reconciler (which
    # cannot win with a 600 s grace) fails the run first. After the engine's report the
    # consumer asks the Kubernetes API once the status is committed: the cause comes a
    # moment after the status.
    cause = f"Kubernetes Job reana-run-batch-{workflow.id_} was deleted"
    deadline = time.monotonic() + 15
    while cause not in run.logs and time.monotonic() < deadline:
        time.sleep(0.1)
        db.expire_all()
        run = db.get(Workflow, workflow.id_)
    assert cause in run.logs, run.logs
    (job,) = jobs_of(db, workflow)
    deadline = time.monotonic() + 30
    while JobStatus(job.status) not in JobStatus.terminal():
        assert time.monotonic() < deadline
        time.sleep(0.1)
        (job,) = jobs_of(db, workflow)
    assert JobStatus(job.status) == JobStatus.stopped  # the preStop hook stopped it
    assert "the job controller was shut down" in job.logs
    deadline = time.monotonic() + 30
    while k8s_platform.store.list("pods", "default")[0]:
        assert time.monotonic() < deadline, "pods left behind"
        time.sleep(0.1)


@SQLITE
def test_stop_a_running_run(db, user, k8s_platform):
    workflow = make_run(db, user, [step("long", "sleep 120")])
    runs.start_run(db, workflow, {}, {})
    deadline = time.monotonic() + 60
    while not [j for j in jobs_of(db, workflow) if JobStatus(j.status) == JobStatus.running]:
        assert time.monotonic() < deadline, "the step never ran"
        time.sleep(0.1)
    runs.stop_run(db, workflow)
    assert RunStatus(workflow.status) == RunStatus.stopped
    assert not batch_jobs(k8s_platform)
    deadline = time.monotonic() + 30
    while JobStatus(jobs_of(db, workflow)[0].status) != JobStatus.stopped:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # The engine's failure report (the stop deleted its Job: the preStop hook stops its step,
    # then SIGTERM) is applied late: it adds its words, neither a status nor a "Job deleted".
    run = db.get(Workflow, workflow.id_)
    while not any(said in (run.logs or "") for said in ("stopped with exit code",
                                                         "Workflow exited unexpectedly")):
        assert time.monotonic() < deadline, run.logs
        time.sleep(0.1)
        db.expire_all()
        run = db.get(Workflow, workflow.id_)
    assert RunStatus(run.status) == RunStatus.stopped
    assert "was deleted" not in run.logs



@SQLITE
@pytest.mark.parametrize("reconcile_grace", ["1"])
def test_a_dead_engine_container_fails_a_pending_run(db, user, k8s_platform, monkeypatch):
    """The engine dies before its first report (killed, a missing console script): its job
    controller still serves the pod, which stays Running. The kubelet reports the engine
    container's end at once and the reconciler fails the run (it stayed pending for ever
    while the double reported containers only when all had ended)."""
    from reana_workflow_controller.run_managers import kubernetes

    monkeypatch.setattr(kubernetes, "engine_command", lambda workflow: [
        "python3", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    workflow = make_run(db, user, [step("never", "true")])
    runs.start_run(db, workflow, {}, {})
    started = time.monotonic()
    run = wait_run_status(db, workflow,
                          {RunStatus.failed, RunStatus.finished, RunStatus.running}, seconds=30)
    assert RunStatus(run.status) == RunStatus.failed, run.logs
    assert "its workflow-engine container ended (Error, exit code 137)" in run.logs, run.logs
    assert "reconciler" in run.logs
    assert time.monotonic() - started < 30
    assert not jobs_of(db, workflow)
    deadline = time.monotonic() + 30
    while batch_jobs(k8s_platform):  # the reconciler deleted the Job: its job controller ended
        assert time.monotonic() < deadline, batch_jobs(k8s_platform)
        time.sleep(0.1)
