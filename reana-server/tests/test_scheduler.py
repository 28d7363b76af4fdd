"""Scheduler: fairness, priorities, the concurrency limit, retries and acknowledgements.

The workflow controller is replaced by a faithful fake: a start moves the run
from queued to pending in the database through reana-db, as the real one does.
"""

from __future__ import annotations

import time
import uuid

import pytest
from reana_commons.api_clients import WorkflowControllerUnavailable
from reana_db.enums import RunStatus
from reana_db.models import Workflow
from reana_db.status import set_workflow_status
from reana_db.users import create_user
from reana_server.scheduler import Scheduler
from reana_testing.pytest_plugin import DEPLOYMENT_PROFILES, apply_env
from sqlalchemy import select


class FakeResponse:
    def __init__(self, status_code, message=""):
        self.status_code = status_code
        self._body = {"message": message}
        self.text = message

    def json(self):
        return self._body


class FakeController:
    """Starts runs like the workflow controller (queued → pending), or fails on demand."""

    def __init__(self, answer=200):
        self.answer = answer
        self.calls = []

    def set_workflow_status(self, user_id, run_id, status, parameters=None):
        from reana_db.database import new_session

        self.calls.append((run_id, parameters))
        if self.answer == "down":
            raise WorkflowControllerUnavailable("connection refused")
        if self.answer != 200:
            return FakeResponse(self.answer, f"answer {self.answer}")
        with new_session() as session:
            workflow = session.get(Workflow, run_id)
            if RunStatus(workflow.status) != RunStatus.queued:
                return FakeResponse(409, "not queued")
            set_workflow_status(session, workflow, RunStatus.pending)
            session.commit()
        return FakeResponse(200, "started")


class FakeMessage:
    def __init__(self):
        self.acked = 0

    def ack(self):
        self.acked += 1


def queue_runs(db, owner, count, priority=0, name="wf"):
    runs = []
    for index in range(count):
        run = Workflow(
            name=name,
            owner_id=owner.id_,
            type_="serial",
            run_number_major=index + 1,
            priority=priority,
            status=RunStatus.queued,
            workspace_path="/nonexistent",
        )
        db.add(run)
        runs.append(run)
    db.commit()
    return runs


def submit(scheduler, run):
    message = FakeMessage()
    body = {
        "user": str(run.owner_id),
        "workflow_id_or_name": str(run.id_),
        "parameters": {"input_parameters": {"n": run.run_number_major}},
        "priority": run.priority,
    }
    scheduler.on_submission(body, message)
    return message


def settle(scheduler, seconds=5.0, until=lambda: False):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scheduler.step()
        if not scheduler.in_flight and until():
            return
        time.sleep(scheduler.idle_timeout())


def statuses(db, runs):
    db.expire_all()
    return [RunStatus(db.get(Workflow, r.id_).status) for r in runs]


@pytest.fixture
def limit(monkeypatch, reana_env):
    def set_limit(value, **extra):
        apply_env(monkeypatch, {"REANA_MAX_CONCURRENT_BATCH_WORKFLOWS": value, **extra})

    return set_limit


def test_single_run_of_another_user_is_not_starved(db, user, limit):
    limit(5)
    other, _ = create_user(db, "bob@example.org")
    db.commit()
    many = queue_runs(db, user, 1000)
    single = queue_runs(db, other, 1, name="single")[0]
    controller = FakeController()
    scheduler = Scheduler(controller)
    messages = [submit(scheduler, run) for run in many]
    single_message = submit(scheduler, single)
    settle(scheduler, until=lambda: len(controller.calls) >= 5)
    assert len(controller.calls) == 5
    assert single.id_ in [call[0] for call in controller.calls]
    assert statuses(db, [single]) == [RunStatus.pending]
    assert single_message.acked == 1
    assert sum(m.acked for m in messages) == 4
    scheduler.close()


def test_priority_then_fifo_within_a_user(db, user, limit):
    limit(1)
    low = queue_runs(db, user, 2, priority=0, name="low")
    high = queue_runs(db, user, 1, priority=50, name="high")[0]
    controller = FakeController()
    scheduler = Scheduler(controller)
    for run in [*low, high]:
        submit(scheduler, run)
    settle(scheduler, 2, until=lambda: len(controller.calls) >= 1)
    assert [c[0] for c in controller.calls] == [high.id_]
    # The slot frees: the oldest low-priority run is next.
    set_workflow_status(db, db.get(Workflow, high.id_), RunStatus.stopped)
    db.commit()
    settle(scheduler, 2, until=lambda: len(controller.calls) >= 2)
    assert [c[0] for c in controller.calls] == [high.id_, low[0].id_]
    scheduler.close()


def test_concurrency_limit_holds_messages_until_slots_free(db, user, limit):
    limit(3)
    runs = queue_runs(db, user, 10)
    controller = FakeController()
    scheduler = Scheduler(controller)
    messages = [submit(scheduler, run) for run in runs]
    settle(scheduler, 1.0)
    assert statuses(db, runs).count(RunStatus.pending) == 3
    assert sum(m.acked for m in messages) == 3
    # One run ends: exactly one more starts, without waiting for a new message.
    started = [r for r in runs if statuses(db, [r])[0] == RunStatus.pending]
    run = db.get(Workflow, started[0].id_)
    set_workflow_status(db, run, RunStatus.running)
    set_workflow_status(db, run, RunStatus.finished)
    db.commit()
    settle(scheduler, 2, until=lambda: len(controller.calls) >= 4)
    assert statuses(db, runs).count(RunStatus.pending) == 3
    assert sum(m.acked for m in messages) == 4
    scheduler.close()


def test_parameters_of_the_message_reach_the_controller(db, user, limit):
    limit(2)
    run = queue_runs(db, user, 1)[0]
    controller = FakeController()
    scheduler = Scheduler(controller)
    submit(scheduler, run)
    settle(scheduler, 2, until=lambda: controller.calls)
    assert controller.calls == [(run.id_, {"input_parameters": {"n": 1}})]
    scheduler.close()


@pytest.mark.parametrize("answer", [502, "down"])
def test_retries_then_failed_with_reason(db, user, limit, answer):
    limit(2, REANA_SCHEDULER_REQUEUE_COUNT=3, REANA_SCHEDULER_REQUEUE_SLEEP=0.01)
    run = queue_runs(db, user, 1)[0]
    controller = FakeController(answer)
    scheduler = Scheduler(controller)
    message = submit(scheduler, run)
    settle(scheduler, 5, until=lambda: statuses(db, [run]) == [RunStatus.failed])
    db.expire_all()
    failed = db.get(Workflow, run.id_)
    assert RunStatus(failed.status) == RunStatus.failed
    assert "could not be scheduled after 3 retries" in failed.logs
    assert len(controller.calls) == 4
    scheduler.step()
    assert message.acked == 1
    scheduler.close()


def test_client_error_fails_the_run_with_the_reason(db, user, limit):
    limit(2)
    run = queue_runs(db, user, 1)[0]
    scheduler = Scheduler(FakeController(400))
    message = submit(scheduler, run)
    settle(scheduler, 3, until=lambda: statuses(db, [run]) == [RunStatus.failed])
    db.expire_all()
    assert "answer 400" in db.get(Workflow, run.id_).logs
    scheduler.step()
    assert message.acked == 1
    scheduler.close()


def test_deleted_run_releases_its_message(db, user, limit):
    limit(1)
    busy = queue_runs(db, user, 1, name="busy")[0]
    waiting = queue_runs(db, user, 1, name="waiting")[0]
    controller = FakeController()
    scheduler = Scheduler(controller)
    submit(scheduler, busy)
    message = submit(scheduler, waiting)
    settle(scheduler, 1.0)
    assert message.acked == 0
    set_workflow_status(db, db.get(Workflow, waiting.id_), RunStatus.deleted)
    db.commit()
    settle(scheduler, 1.0)
    assert message.acked == 1
    assert [c[0] for c in controller.calls] == [busy.id_]
    scheduler.close()


def test_queued_run_whose_message_was_lost_starts_from_the_database(db, user, limit):
    limit(2)
    run = queue_runs(db, user, 1)[0]
    run.input_parameters = {"from": "row"}
    db.commit()
    controller = FakeController()
    scheduler = Scheduler(controller)
    settle(scheduler, 0.5)
    assert controller.calls == []  # too young: its message may still come
    settle(scheduler, 5, until=lambda: controller.calls)
    assert controller.calls[0][0] == run.id_
    assert controller.calls[0][1]["input_parameters"] == {"from": "row"}
    scheduler.close()


def test_message_for_unknown_run_is_acknowledged(db, user, limit):
    limit(2)
    scheduler = Scheduler(FakeController())
    message = FakeMessage()
    scheduler.on_submission({"workflow_id_or_name": str(uuid.uuid4()), "parameters": {}}, message)
    scheduler.step()
    assert message.acked == 1
    assert db.scalars(select(Workflow)).all() == []
    scheduler.close()


@pytest.fixture
def broker_env(monkeypatch, reana_env, broker):
    from reana_commons.messaging import close_shared_connections

    url, prefix = broker
    apply_env(monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix})
    yield
    close_shared_connections()


@DEPLOYMENT_PROFILES
def test_submissions_through_the_broker_are_held_then_acked(db, user, limit, broker_env):
    import threading

    from reana_commons.messaging import publish_workflow_submission
    from reana_server.scheduler import SubmissionConsumer

    limit(2)
    runs = queue_runs(db, user, 3)
    for run in runs:
        publish_workflow_submission(user.id_, run.id_, {"input_parameters": {}}, priority=0)
    controller = FakeController()
    scheduler = Scheduler(controller)
    consumer = SubmissionConsumer(scheduler)
    thread = threading.Thread(target=consumer.loop)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(controller.calls) < 2
                                                or len(scheduler.held) != 1):
            time.sleep(0.05)  # the two started runs' messages are settled a moment later
        time.sleep(0.3)
        assert len(controller.calls) == 2  # the third waits for a slot, its message held
        assert len(scheduler.held) == 1
    finally:
        scheduler.stopping.set()
        thread.join(10)
        scheduler.close()
    # Only the third submission is still in the queue (released unacked at close).
    observer = SubmissionConsumer(Scheduler(FakeController()))
    seen = []
    observer.handle = lambda body, message: (seen.append(body), message.ack())
    observer.drain(timeout=1.0)
    assert [b["workflow_id_or_name"] for b in seen] == [str(runs[2].id_)]


def test_idle_scheduler_only_looks_for_orphans(db, user, limit):
    """With no submission waiting, a pass every second asks one question (any orphan?)."""
    from reana_db.database import get_engine
    from sqlalchemy import event

    limit(2)
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.lower())

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        scheduler = Scheduler(FakeController())
        settle(scheduler, 2.5)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    queries = [s for s in statements if s.lstrip().startswith("select") and "workflow" in s]
    assert 2 <= len(queries) <= 4
    assert not [s for s in queries if "count(" in s or "row_number" in s]
    scheduler.close()
