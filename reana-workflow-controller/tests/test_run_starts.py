"""A run's start against its status writer: nothing erased, nothing stale, no I/O under locks.

* the run handle's columns have one writer each: a status batch applied while
  the start records the handle erases neither the process ids nor the applied
  sequence numbers (issue 13, point 4);
* a run that ended before its handle was recorded still gets its processes ended;
* the reports of a superseded start attempt are ignored (point 5), also with real
  processes: a job controller that cannot bind is started again and the run finishes;
* the status batch commits before the runtime is asked why a run ended and before
  its workspace is walked, and neither holds a lock meanwhile (point 3).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from reana_db import quota
from reana_db.database import new_session
from reana_db.disk_measurement import wait_for_measurements
from reana_db.enums import ResourceType, RunStatus
from reana_db.locking import lock_run
from reana_db.models import RunHandle, UserResource, Workflow
from reana_db.status import set_workflow_status
from reana_testing.pytest_plugin import apply_env
from reana_workflow_controller import run_managers, runs
from reana_workflow_controller.consumers.after_commit import AfterCommit
from reana_workflow_controller.consumers.status_writer import apply_batch
from reana_workflow_controller.run_managers import base, reset_run_managers
from sqlalchemy import select

HANDLE = {"engine": {"pid": 11}, "job_controller": {"pid": 12},
          "job_controller_url": "http://127.0.0.1:9"}


class ScriptedManager(base.RunManager):
    """A runtime without processes whose start and end cause run what a test scripts."""

    name = "scripted"

    def __init__(self):
        self.during_start = lambda: None
        self.cause = lambda handle: None
        self.ended: list[dict] = []

    def start(self, workflow, begin_attempt=None):
        begin_attempt(1)
        self.during_start()
        return dict(HANDLE)

    def stop(self, workflow, handle):
        self.ended.append(handle)

    def is_alive(self, handle):
        return True

    def cleanup(self, handle):
        pass

    def end_cause(self, handle):
        return self.cause(handle)


@pytest.fixture
def scripted(monkeypatch, reana_env):
    apply_env(monkeypatch, {"REANA_RUNTIME": "scripted"})
    reset_run_managers()
    manager = ScriptedManager()
    monkeypatch.setitem(run_managers._instances, "scripted", manager)
    yield manager
    reset_run_managers()


def queued_run(db, user, tmp_path) -> Workflow:
    workspace = tmp_path / f"workspace-{uuid.uuid4().hex[:6]}"
    workspace.mkdir()
    run = Workflow(name="wf", owner_id=user.id_, type_="serial", run_number_major=1,
                   workspace_path=str(workspace))
    db.add(run)
    db.flush()
    set_workflow_status(db, run, RunStatus.queued)
    db.commit()
    return run


def message(run, seq, status=1, attempt=1, logs=""):
    return {"workflow_uuid": str(run.id_), "status": status, "logs": logs, "seq": seq,
            "attempt": attempt}


def apply_committed(bodies):
    with new_session() as session:
        result = apply_batch(session, bodies)
        session.commit()
    return result


def stored_handle(db, run) -> RunHandle:
    db.expire_all()
    return db.get(RunHandle, run.id_)


def test_a_status_batch_during_the_handle_recording_erases_nothing(db, user, scripted, tmp_path):
    run = queued_run(db, user, tmp_path)
    applied = threading.Event()

    def slow_batch():
        # The engine's first message, applied while the start is still recording the handle:
        # the batch holds the run's lock and commits a moment later.
        with new_session() as session:
            apply_batch(session, [message(run, 1, logs="engine started")])
            applied.set()
            time.sleep(0.5)
            session.commit()

    consumer = threading.Thread(target=slow_batch)
    scripted.during_start = lambda: (consumer.start(), applied.wait(10))
    runs.start_run(db, run, {}, {})
    consumer.join(10)
    row = stored_handle(db, run)
    assert row.handle == HANDLE  # the process ids survived the batch
    assert row.job_controller_url == HANDLE["job_controller_url"]
    assert row.status_seq == {"floor": 1, "above": []}  # and the batch's bookkeeping the start
    assert row.attempt == 1
    assert RunStatus(db.get(Workflow, run.id_).status) == RunStatus.running


def test_a_run_that_ended_before_its_handle_was_recorded_is_ended(db, user, scripted, tmp_path):
    run = queued_run(db, user, tmp_path)
    scripted.during_start = lambda: apply_committed(
        [message(run, 1), message(run, 2, status=2, logs="all done")])
    runs.start_run(db, run, {}, {})
    assert scripted.ended == [HANDLE]  # nobody else would have: the writer saw no handle
    assert stored_handle(db, run).handle == HANDLE


def test_reports_of_a_superseded_attempt_are_ignored(db, user, scripted, tmp_path):
    run = queued_run(db, user, tmp_path)
    runs.start_run(db, run, {}, {})
    runs.begin_attempt(db, run.id_, 2)  # the processes were started again
    apply_committed([message(run, 1, status=3, attempt=1, logs="Workflow exited unexpectedly.")])
    db.expire_all()
    assert (RunStatus(db.get(Workflow, run.id_).status), db.get(Workflow, run.id_).logs) == (
        RunStatus.pending, "")
    apply_committed([message(run, 1, attempt=2, logs="engine started")])
    db.expire_all()
    assert RunStatus(db.get(Workflow, run.id_).status) == RunStatus.running


def test_the_status_batch_commits_before_any_outside_io(db, user, scripted, tmp_path,
                                                          monkeypatch):
    run = queued_run(db, user, tmp_path)
    runs.start_run(db, run, {}, {})
    calls, release = [], threading.Event()

    def evicted(handle):
        calls.append("runtime asked")
        release.wait(20)
        return "its pod was evicted"

    def walk(path):
        calls.append("workspace walked")
        release.wait(20)
        return 123

    scripted.cause = evicted
    monkeypatch.setattr(quota, "directory_size", walk)
    with new_session() as session:
        result = apply_batch(session, [message(run, 1, status=3, logs="a step failed")])
        calls.append("applied")
        session.commit()
        calls.append("committed")
    after_commit = AfterCommit()
    after_commit.submit(result.ended)
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert calls[:2] == ["applied", "committed"]
    assert set(calls[2:]) == {"runtime asked", "workspace walked"}
    # Both are still waiting on the world outside: the run and its owner's quota are free.
    started = time.monotonic()
    with new_session() as session:
        assert lock_run(session, run.id_) is not None
        session.execute(select(UserResource).with_for_update()).all()
        session.commit()
    assert time.monotonic() - started < 2
    release.set()
    after_commit.close()
    wait_for_measurements()
    db.expire_all()
    assert db.get(Workflow, run.id_).logs == (
        "a step failed\nWorkflow wf.1 failed: its pod was evicted.\n")
    assert quota.workflow_usage_of(db, run, ResourceType.disk) == 123
