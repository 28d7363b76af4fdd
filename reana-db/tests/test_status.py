"""The workflow status machine, checked for every pair of statuses on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job
from reana_db.status import (
    ALLOWED_WORKFLOW_STATUS_TRANSITIONS,
    InvalidStatusTransition,
    can_transition,
    set_job_status,
    set_workflow_status,
)

S = RunStatus

EXPECTED = {
    (S.created, S.deleted), (S.created, S.queued),
    (S.queued, S.deleted), (S.queued, S.pending), (S.queued, S.failed), (S.queued, S.stopped),
    (S.pending, S.running), (S.pending, S.deleted), (S.pending, S.stopped), (S.pending, S.failed),
    (S.running, S.failed), (S.running, S.finished), (S.running, S.stopped), (S.running, S.running),
    (S.stopped, S.deleted),
    (S.failed, S.deleted), (S.failed, S.running),
    (S.finished, S.deleted), (S.finished, S.running),
}  # fmt: skip
NOW = datetime(2026, 1, 2, 3, 4, 5)


def test_transition_table_is_reanas_plus_our_additions():
    table = {(old, new) for old, n in ALLOWED_WORKFLOW_STATUS_TRANSITIONS.items() for new in n}
    assert table == EXPECTED
    assert set(ALLOWED_WORKFLOW_STATUS_TRANSITIONS) == set(RunStatus)


def test_every_pair_of_statuses(db, user, make_workflow):
    problems = []
    for old in RunStatus:
        for new in RunStatus:
            workflow = make_workflow(user, name=f"w-{old.name}-{new.name}", status=old)
            allowed = (old, new) in EXPECTED
            assert can_transition(old, new) is allowed
            if not allowed:
                try:
                    set_workflow_status(db, workflow, new, now=NOW)
                    problems.append(f"{old.name}->{new.name} was accepted")
                except InvalidStatusTransition as error:
                    assert workflow.full_name in str(error)
                if workflow.status != old:
                    problems.append(f"{old.name}->{new.name} changed the status")
                continue
            changed = set_workflow_status(db, workflow, new, now=NOW)
            db.flush()
            if workflow.status != new or changed is (old == new):
                problems.append(f"{old.name}->{new.name} did not apply")
            stamps = {
                "run_started_at": workflow.run_started_at,
                "run_finished_at": workflow.run_finished_at,
                "run_stopped_at": workflow.run_stopped_at,
            }
            expected = {
                "run_started_at": NOW if new == S.running else None,
                "run_finished_at": NOW if new in (S.finished, S.failed) else None,
                "run_stopped_at": NOW if new == S.stopped else None,
            }
            if stamps != expected:
                problems.append(f"{old.name}->{new.name} stamped {stamps}")
    db.commit()
    assert problems == []


def test_statuses_and_stamps_persist(db, user, make_workflow):
    workflow = make_workflow(user)
    for status, at in [
        (S.queued, datetime(2026, 1, 1, 0, 0, 0)),
        (S.pending, datetime(2026, 1, 1, 0, 0, 1)),
        (S.running, datetime(2026, 1, 1, 0, 0, 2)),
        (S.running, datetime(2026, 1, 1, 0, 0, 3)),
        (S.finished, datetime(2026, 1, 1, 0, 1, 2)),
    ]:
        set_workflow_status(db, workflow, status, now=at)
    db.commit()
    db.expire_all()
    assert workflow.status == S.finished
    assert workflow.run_started_at == datetime(2026, 1, 1, 0, 0, 2)  # a repeated running keeps it
    assert workflow.run_finished_at == datetime(2026, 1, 1, 0, 1, 2)
    # a restart-in-place (finished -> running) keeps the first start
    set_workflow_status(db, workflow, S.running, now=datetime(2026, 1, 1, 0, 5, 0))
    assert workflow.run_started_at == datetime(2026, 1, 1, 0, 0, 2)


def test_status_given_as_integer_and_logs_appended(db, user, make_workflow):
    workflow = make_workflow(user, status=S.running)
    assert set_workflow_status(db, workflow, 1, logs="still going") is False
    assert set_workflow_status(db, workflow, 2, logs="done\n") is True
    assert workflow.status == S.finished
    assert workflow.logs == "still going\ndone\n"
    with pytest.raises(InvalidStatusTransition):
        set_workflow_status(db, workflow, 6)


def test_job_status(db, user, make_workflow):
    workflow = make_workflow(user)
    cases = [
        ([JobStatus.running, JobStatus.finished], JobStatus.finished),
        ([JobStatus.failed, JobStatus.running], JobStatus.failed),  # terminal jobs never change
        ([JobStatus.queued, JobStatus.stopped, JobStatus.finished], JobStatus.stopped),
    ]
    for steps, final in cases:
        job = Job(workflow_uuid=workflow.id_, status=JobStatus.created)
        db.add(job)
        for step in steps:
            set_job_status(job, step)
        db.commit()
        assert job.status == final
        assert job.started_at is not None and job.finished_at is not None
        assert job.finished_at >= job.started_at
