"""Quota accounting: CPU wall time, workspace disk, restarts counted once, limits, health."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from reana_db import quota
from reana_db.disk_measurement import wait_for_measurements
from reana_db.enums import QuotaHealth, ResourceType, RunStatus
from reana_db.models import UserResource, WorkflowResource
from reana_db.status import set_workflow_status
from reana_db.units import human_readable_bytes, human_readable_milliseconds
from reana_db.users import ensure_default_resources
from reana_testing.pytest_plugin import apply_env

S = RunStatus
T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 Bytes"), (20, "20 Bytes"), (1023, "1023 Bytes"), (1024, "1 KiB"),
        (3256, "3.18 KiB"), (1536, "1.5 KiB"), (1048576, "1 MiB"), (5 * 1024**3, "5 GiB"),
        (1024**4 * 3, "3 TiB"),
    ],
)  # fmt: skip
def test_human_readable_bytes(value, text):
    assert human_readable_bytes(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0s"), (999, "0s"), (1000, "1s"), (3723000, "1h 2m 3s"), (60000, "1m"),
     (90061000, "1d 1h 1m 1s")],
)  # fmt: skip
def test_human_readable_milliseconds(value, text):
    assert human_readable_milliseconds(value) == text


def _run(db, workflow, seconds, end=S.finished):
    for status, at in [(S.queued, T0), (S.pending, T0), (S.running, T0)]:
        set_workflow_status(db, workflow, status, now=at)
    set_workflow_status(db, workflow, end, now=T0 + timedelta(seconds=seconds))


def _usage(db, user, type_):
    wait_for_measurements()  # disk is measured after the commit, in the background
    db.expire_all()
    return quota.get_user_quota(db, user)[type_]["usage"]["raw"]


def test_cpu_is_wall_time_summed_over_runs(db, user, make_workflow):
    first, second, third = (make_workflow(user, "w") for _ in range(3))
    _run(db, first, 1.5)
    _run(db, second, 60, end=S.stopped)
    set_workflow_status(db, third, S.queued)
    db.commit()
    assert quota.workflow_cpu_milliseconds(first) == 1500
    assert quota.workflow_cpu_milliseconds(second) == 60000
    assert quota.workflow_cpu_milliseconds(third) == 0
    assert _usage(db, user, "cpu") == 61500
    usage = quota.get_user_quota(db, user)["cpu"]["usage"]
    assert usage == {"raw": 61500, "human_readable": "1m 1s"}


def test_disk_counts_a_shared_workspace_once(db, user, make_workflow, write_file):
    original = make_workflow(user, "w")
    write_file(original, "data/input.txt", 1000)
    _run(db, original, 1)
    restart = make_workflow(user, "w", restart_of=original)
    write_file(restart, "results/plot.png", 24)
    _run(db, restart, 1)
    other = make_workflow(user, "x")
    write_file(other, "a", 7)
    _run(db, other, 1)
    db.commit()
    assert _usage(db, user, "disk") == 1024 + 7  # not 1000 + 1024 + 7
    # deleting the restart's files and then the runs: the workspace stops counting
    os.remove(os.path.join(original.workspace_path, "data/input.txt"))
    assert quota.add_disk_usage(db, restart, -1000) == 24
    assert _usage(db, user, "disk") == 24 + 7
    assert quota.add_disk_usage(db, restart, -10**9) == 0  # clamped at 0
    assert quota.refresh_disk_usage(db, original) == 24
    assert _usage(db, user, "disk") == 24 + 7
    # deleting a run stops counting its workspace even before the files are removed
    set_workflow_status(db, restart, S.deleted)
    db.commit()
    assert _usage(db, user, "disk") == 7
    assert quota.workflow_usage_of(db, original, ResourceType.disk) == 0


def test_disk_walk_does_not_follow_symlinks(db, user, make_workflow, write_file, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"x" * 5000)
    workflow = make_workflow(user)
    write_file(workflow, "f", 10)
    os.symlink(outside, os.path.join(workflow.workspace_path, "link-dir"))
    os.symlink(outside / "big", os.path.join(workflow.workspace_path, "link-file"))
    os.link(os.path.join(workflow.workspace_path, "f"), os.path.join(workflow.workspace_path, "h"))
    assert quota.directory_size(workflow.workspace_path) == 10
    assert quota.directory_size(tmp_path / "missing") == 0


def test_termination_policy_is_respected(
    db, user, make_workflow, write_file, monkeypatch, reana_env
):
    apply_env(monkeypatch, {"REANA_WORKFLOW_TERMINATION_QUOTA_UPDATE_POLICY": "cpu"})
    workflow = make_workflow(user)
    write_file(workflow, "f", 100)
    _run(db, workflow, 2)
    db.commit()
    assert _usage(db, user, "cpu") == 2000
    assert _usage(db, user, "disk") == 0
    assert quota.add_disk_usage(db, workflow, 10) == -1  # disk not in the policy: skipped
    assert quota.add_disk_usage(db, workflow, 10, force=True) == 10
    # the periodic update computes everything regardless of the policy
    assert quota.update_all_usage(db) == 1
    db.commit()
    assert _usage(db, user, "disk") == 100


def test_update_all_usage(db, user, other_user, make_workflow, write_file):
    mine = make_workflow(user)
    write_file(mine, "a/b/c", 300)
    restart = make_workflow(user, restart_of=mine)
    theirs = make_workflow(other_user)
    write_file(theirs, "z", 5)
    gone = make_workflow(other_user, status=S.deleted)
    write_file(gone, "left-over", 1000)  # a deleted run's workspace never counts
    for workflow, seconds in ((mine, 1), (restart, 2), (theirs, 3)):
        workflow.run_started_at = T0
        workflow.run_finished_at = T0 + timedelta(seconds=seconds)
    db.commit()
    assert db.query(WorkflowResource).count() == 0
    assert quota.update_all_usage(db) == 4
    db.commit()
    assert _usage(db, user, "cpu") == 3000
    assert _usage(db, user, "disk") == 300
    assert _usage(db, other_user, "cpu") == 3000
    assert _usage(db, other_user, "disk") == 5


def test_run_ends_move_totals_by_the_run_alone(
    db, user, other_user, make_workflow, write_file
):
    """Ending a run adds its own difference: no query sums over the owner's runs,
    and the totals equal a full recomputation after reruns, restarts and deletions."""
    from sqlalchemy import event

    old = make_workflow(user, "old")
    write_file(old, "f", 50)
    _run(db, old, 4)
    db.commit()
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.lower())

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        first = make_workflow(user, "w")
        write_file(first, "a", 100)
        _run(db, first, 2)
        set_workflow_status(db, first, S.running, now=T0)  # the same run runs again
        write_file(first, "b", 10)
        set_workflow_status(db, first, S.finished, now=T0 + timedelta(seconds=5))
        restart = make_workflow(user, "w", restart_of=first)
        write_file(restart, "c", 1)
        _run(db, restart, 1, end=S.failed)
        theirs = make_workflow(other_user, "t")
        _run(db, theirs, 7)
        set_workflow_status(db, old, S.deleted)
        db.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not [s for s in statements if "sum(" in s or "group by" in s]
    seen = {k: (_usage(db, user, k), _usage(db, other_user, k)) for k in ("cpu", "disk")}
    assert seen == {"cpu": (4000 + 5000 + 1000, 7000), "disk": (111, 0)}
    for owner in (user, other_user):
        quota.update_user_cpu(db, owner.id_)
        quota.update_user_disk(db, owner.id_)
    db.commit()
    assert {kind: (_usage(db, user, kind), _usage(db, other_user, kind)) for kind in seen} == seen


@pytest.mark.parametrize(
    ("used", "limit", "health"),
    [(0, 0, "healthy"), (10**12, 0, "healthy"), (79, 100, "healthy"), (80, 100, "warning"),
     (99, 100, "warning"), (100, 100, "critical"), (150, 100, "critical")],
)  # fmt: skip
def test_health_thresholds(used, limit, health):
    assert quota.quota_health(used, limit) == QuotaHealth[health]


def test_limits_health_and_exceeding(db, user, make_workflow, write_file):
    workflow = make_workflow(user)
    write_file(workflow, "f", 900)
    _run(db, workflow, 10)
    db.commit()
    wait_for_measurements()
    db.expire_all()
    shown = quota.get_user_quota(db, user)
    assert shown == {
        "cpu": {
            "usage": {"raw": 10000, "human_readable": "10s"},
            "limit": {"raw": 0, "human_readable": "0s"},
            "health": "healthy",
        },
        "disk": {
            "usage": {"raw": 900, "human_readable": "900 Bytes"},
            "limit": {"raw": 0, "human_readable": "0 Bytes"},
            "health": "healthy",
        },
    }
    assert quota.has_exceeded_quota(db, user) == (False, "")

    quota.set_quota_limit(db, user, "disk", 1024)
    quota.set_quota_limit(db, user, ResourceType.cpu, 3_600_000)
    db.commit()
    shown = quota.get_user_quota(db, user)
    assert shown["disk"]["limit"] == {"raw": 1024, "human_readable": "1 KiB"}
    assert shown["disk"]["health"] == "warning"
    assert shown["cpu"]["limit"]["human_readable"] == "1h"
    assert shown["cpu"]["health"] == "healthy"

    quota.add_disk_usage(db, workflow, 124)
    exceeded, message = quota.has_exceeded_quota(db, user)
    assert exceeded
    assert message == "User quota exceeded: disk 1 KiB used out of 1 KiB."
    assert quota.get_user_quota(db, user)["disk"]["health"] == "critical"

    with pytest.raises(ValueError):
        quota.set_quota_limit(db, user, "memory", 1)
    with pytest.raises(ValueError):
        quota.set_quota_limit(db, user, "cpu", -1)


def test_users_get_default_limits(db, monkeypatch, reana_env):
    from reana_db.users import create_user

    apply_env(
        monkeypatch,
        {"REANA_DEFAULT_QUOTA_CPU_LIMIT": "1000", "REANA_DEFAULT_QUOTA_DISK_LIMIT": "2048"},
    )
    from reana_db.database import new_session

    session = new_session()
    created, _ = create_user(session, "limited@example.org")
    session.commit()
    limits = {
        row.resource.type_: row.quota_limit
        for row in session.query(UserResource).filter_by(user_id=created.id_)
    }
    assert limits == {ResourceType.cpu: 1000, ResourceType.disk: 2048}
    assert len(ensure_default_resources(session)) == 2
    session.close()


def test_concurrent_uploads_lose_no_bytes(db, user, make_workflow):
    import threading

    from reana_db.database import new_session
    from reana_db.models import Workflow

    workflow = make_workflow(user)
    db.commit()
    barrier = threading.Barrier(3)
    errors = []

    def upload():
        session = new_session()
        try:
            mine = session.get(Workflow, workflow.id_)
            barrier.wait(10)
            for _ in range(5):
                quota.add_disk_usage(session, mine, 100)
                session.commit()
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=upload) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    db.expire_all()
    assert quota.workflow_usage_of(db, workflow, ResourceType.disk) == 1500
    assert quota.update_user_disk(db, user.id_) == 1500
