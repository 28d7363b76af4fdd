"""Job-status consumer: idempotent application, group commit, ack after commit."""

from __future__ import annotations

import time
import uuid

import pytest
from reana_commons.messaging import close_shared_connections, jobs_status_queue, publish
from reana_db.enums import RunStatus
from reana_db.models import RunHandle, Workflow
from reana_db.status import set_workflow_status
from reana_testing.pytest_plugin import DEPLOYMENT_PROFILES, apply_env
from reana_workflow_controller.consumers import jobs_status
from reana_workflow_controller.consumers.jobs_status import JobStatusConsumer
from reana_workflow_controller.consumers.status_writer import apply_batch
from sqlalchemy.exc import OperationalError


def make_run(db, user, status=RunStatus.pending, name="wf"):
    run = Workflow(
        name=name, owner_id=user.id_, type_="serial", run_number_major=1, workspace_path="/x"
    )
    db.add(run)
    db.flush()
    if status != RunStatus.created:
        set_workflow_status(db, run, RunStatus.queued)
    if status == RunStatus.pending:
        set_workflow_status(db, run, RunStatus.pending)
    db.add(RunHandle(workflow_id=run.id_, runtime="local", handle={"run_dir": "/nonexistent"}))
    db.commit()
    return run


def job_messages(run_id):
    job = str(uuid.uuid4())
    return [
        {"workflow_uuid": str(run_id), "status": 1, "logs": "", "seq": 1,
         "message": {"progress": {"total": {"total": 1, "job_ids": []}}}},
        {"workflow_uuid": str(run_id), "status": 1, "logs": "step one started", "seq": 2,
         "message": {"progress": {"running": {"total": 1, "job_ids": [job]}}}},
        {"workflow_uuid": str(run_id), "status": 2, "logs": "all done", "seq": 3,
         "message": {"progress": {"finished": {"total": 1, "job_ids": [job]}}}},
    ]


def snapshot(db, run_id):
    db.expire_all()
    run = db.get(Workflow, run_id)
    return (RunStatus(run.status), run.logs, run.job_progress, run.run_finished_at)


def test_redelivered_messages_change_nothing(db, user):
    run = make_run(db, user)
    bodies = job_messages(run.id_)
    apply_batch(db, bodies)
    db.commit()
    first = snapshot(db, run.id_)
    assert first[0] == RunStatus.finished
    assert first[1] == "step one started\nall done\n"
    assert first[2]["finished"]["total"] == 1 and first[2]["running"]["total"] == 0
    # Every message again (a redelivery after a crash before the ack), and in a second batch.
    apply_batch(db, bodies)
    db.commit()
    assert snapshot(db, run.id_) == first


def test_redelivered_log_chunk_of_running_run_is_not_appended_twice(db, user):
    run = make_run(db, user)
    bodies = job_messages(run.id_)[:2]
    apply_batch(db, bodies)
    db.commit()
    first = snapshot(db, run.id_)
    apply_batch(db, [bodies[1]])
    db.commit()
    assert snapshot(db, run.id_) == first


def test_batch_of_many_runs_keeps_each_runs_logs_in_order_once(db, user):
    """Many runs interleaved in one batch (the many-row log append), then all redelivered."""
    runs = [make_run(db, user, name=f"wf{n}") for n in range(6)]
    bodies = [body for step in zip(*(job_messages(r.id_) for r in runs), strict=True)
              for body in step]
    for batch in (bodies, bodies[::-1], bodies):
        apply_batch(db, batch)
        db.commit()
        for run in runs:
            status, logs, progress, _ = snapshot(db, run.id_)
            assert (status, logs) == (RunStatus.finished, "step one started\nall done\n")
            assert progress["running"] == {"total": 0, "job_ids": []}
            assert progress["finished"]["total"] == progress["total"]["total"] == 1


def test_only_allowed_transitions_apply(db, user):
    run = make_run(db, user, status=RunStatus.queued)
    # queued → finished is not a transition: ignored entirely (logs too).
    apply_batch(db, [{"workflow_uuid": str(run.id_), "status": 2, "logs": "nope"}])
    db.commit()
    assert snapshot(db, run.id_)[:2] == (RunStatus.queued, "")
    # A stopped run ignores the engine's "failed" sent on SIGTERM.
    set_workflow_status(db, db.get(Workflow, run.id_), RunStatus.stopped)
    db.commit()
    apply_batch(db, [{"workflow_uuid": str(run.id_), "status": 3, "logs": "killed"}])
    db.commit()
    assert snapshot(db, run.id_)[0] == RunStatus.stopped


def test_unknown_run_and_scheduler_failure_without_handle(db, user):
    run = make_run(db, user, status=RunStatus.queued)
    result = apply_batch(
        db,
        [
            {"workflow_uuid": str(uuid.uuid4()), "status": 1},
            {"workflow_uuid": str(run.id_), "status": 3, "logs": "could not be scheduled"},
        ],
    )
    db.commit()
    assert snapshot(db, run.id_)[:2] == (RunStatus.failed, "could not be scheduled\n")
    assert [r.run_id for r in result.ended] == [run.id_]


@pytest.fixture
def consumer_env(monkeypatch, reana_env, broker):
    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})
    yield
    close_shared_connections()


def run_consumer(consumer, until, seconds=10.0):
    deadline = time.monotonic() + seconds
    consumer.loop(stop=lambda: until() or time.monotonic() > deadline, idle_timeout=0.05)


@DEPLOYMENT_PROFILES
def test_consumer_acks_after_commit_and_redelivers_on_failure(db, user, consumer_env, monkeypatch):
    run = make_run(db, user)
    for body in job_messages(run.id_):
        publish(jobs_status_queue(), body)
    calls = {"n": 0}
    real_apply = jobs_status.apply_batch

    def flaky(session, bodies, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:  # the batch, then the first message alone: "database down"
            raise RuntimeError("database is down")
        return real_apply(session, bodies, **kwargs)

    monkeypatch.setattr(jobs_status, "apply_batch", flaky)
    consumer = JobStatusConsumer(prefetch_count=50)

    def all_applied():
        status, _, progress, _ = snapshot(db, run.id_)
        return status == RunStatus.finished and "total" in (progress or {})

    # The requeued first message may come back after the final status (embedded broker):
    # it is still applied, once.
    run_consumer(consumer, all_applied)
    consumer.close()
    status, logs, progress, _ = snapshot(db, run.id_)
    assert status == RunStatus.finished
    assert logs == "step one started\nall done\n"
    assert progress["total"]["total"] == 1
    # Nothing is left in the queue: every message was acked once applied.
    again = JobStatusConsumer()
    assert again.drain(timeout=0.5) == 0


@DEPLOYMENT_PROFILES
def test_unacked_messages_survive_a_consumer_that_never_committed(db, user, consumer_env,
                                                                   monkeypatch):
    run = make_run(db, user)
    publish(jobs_status_queue(), job_messages(run.id_)[0])
    real_apply = jobs_status.apply_batch
    monkeypatch.setattr(jobs_status, "apply_batch", _always_fail)
    doomed = JobStatusConsumer()
    doomed.batch = []
    run_consumer(doomed, lambda: False, seconds=0.5)
    doomed.connection.release()
    monkeypatch.setattr(jobs_status, "apply_batch", real_apply)
    consumer = JobStatusConsumer()
    run_consumer(consumer, lambda: snapshot(db, run.id_)[0] == RunStatus.running, seconds=5)
    assert snapshot(db, run.id_)[0] == RunStatus.running


def _always_fail(session, bodies, **kwargs):
    raise OperationalError("SELECT 1", {}, Exception("database is down"))


KILLED_CONSUMER = """
import os
from reana_workflow_controller.consumers import jobs_status

def killed(session, bodies, **kwargs):
    os.kill(os.getpid(), 9)  # kill -9 while holding the messages, before the commit

jobs_status.apply_batch = killed
jobs_status.JobStatusConsumer().loop()
"""


@DEPLOYMENT_PROFILES
def test_final_status_held_by_a_killed_consumer_reaches_the_next(db, user, consumer_env):
    """On both brokers: the embedded one redelivers only because the loop recovers."""
    import signal
    import subprocess
    import sys

    run = make_run(db, user)
    for body in job_messages(run.id_):
        publish(jobs_status_queue(), body)
    process = subprocess.run([sys.executable, "-c", KILLED_CONSUMER], timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert snapshot(db, run.id_)[0] == RunStatus.pending  # nothing was applied
    consumer = JobStatusConsumer()
    run_consumer(consumer, lambda: snapshot(db, run.id_)[0] == RunStatus.finished)
    consumer.close()
    status, logs, _, _ = snapshot(db, run.id_)
    assert (status, logs) == (RunStatus.finished, "step one started\nall done\n")
