"""Workspace retention rules: creation, activation, restarts, the periodic job, audit rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from reana_commons.config import load_config
from reana_db import quota, retention
from reana_db.enums import ResourceType, RunStatus
from reana_db.enums import WorkspaceRetentionRuleStatus as R
from reana_db.status import set_workflow_status

S = RunStatus
END = datetime(2026, 3, 10, 15, 0, 0)


def _config(period):
    return load_config({"WORKSPACE_RETENTION_PERIOD": period} if period else {})


def test_rules_for_new_workflow():
    spec = {"workspace": {"retention_days": {"data/*.csv": 5, "results/**": 0}}}
    assert retention.rules_for_new_workflow(spec, _config(None)) == [
        {"workspace_files": "data/*.csv", "retention_days": 5},
        {"workspace_files": "results/**", "retention_days": 0},
    ]
    assert retention.rules_for_new_workflow(spec, _config("365"))[-1] == {
        "workspace_files": "**/*",
        "retention_days": 365,
    }
    assert retention.rules_for_new_workflow({}, _config("forever")) == []
    own_default = {"workspace": {"retention_days": {"**/*": 3}}}
    assert retention.rules_for_new_workflow(own_default, _config("30")) == [
        {"workspace_files": "**/*", "retention_days": 3}
    ]


@pytest.mark.parametrize(
    "days",
    [{"/abs": 1}, {"../up": 1}, {"a/../../b": 1}, {"x": -1}, {"x": "3"}, {"x": True}, {"x": 31},
     {"x": 30}],  # REANA's rule: less than the maximum
)
def test_invalid_rules_are_refused(days):
    with pytest.raises(retention.InvalidRetentionRule):
        retention.rules_for_new_workflow({"workspace": {"retention_days": days}}, _config("30"))


def _audit(db, rule):
    rows = db.execute(
        sa.text(
            "SELECT action FROM workspace_retention_audit_log "
            "WHERE workspace_retention_rule_id = :id ORDER BY timestamp"
        ),
        {"id": rule.id_ if db.bind.dialect.name == "postgresql" else rule.id_.hex},
    ).scalars()
    return list(rows)


def _finish(db, workflow, status=S.finished, now=END):
    for step in (S.queued, S.pending, S.running):
        set_workflow_status(db, workflow, step, now=now)
    set_workflow_status(db, workflow, status, now=now)


def test_activation_on_end_and_inactivation_on_restart(db, user, make_workflow):
    spec = {"workspace": {"retention_days": {"*.tmp": 2, "logs/**": 0}}}
    workflow = make_workflow(user, spec=spec)
    rules = retention.add_rules(db, workflow, spec, _config(None))
    db.commit()
    assert [r.status for r in rules] == [R.created, R.created]
    _finish(db, workflow)
    db.commit()
    db.refresh(rules[0])
    assert {r.workspace_files: r.apply_on for r in rules} == {
        "*.tmp": datetime(2026, 3, 12, 23, 59, 59),
        "logs/**": datetime(2026, 3, 10, 23, 59, 59),
    }
    assert all(r.status == R.active for r in rules)
    assert retention.inactivate_rules(workflow) == 2
    db.commit()
    assert all(r.status == R.inactive for r in rules)
    assert _audit(db, rules[0]) == ["created", "active", "inactive"]


def test_stopped_runs_do_not_activate_rules(db, user, make_workflow):
    workflow = make_workflow(user)
    rules = retention.add_rules(db, workflow, {"workspace": {"retention_days": {"x": 1}}})
    _finish(db, workflow, status=S.stopped)
    db.commit()
    assert rules[0].status == R.created


def test_apply_due_rules_keeps_inputs_and_outputs(db, user, make_workflow, write_file):
    spec = {
        "inputs": {"files": ["code/fit.py"], "directories": ["data"]},
        "outputs": {"files": ["results/plot.png"]},
        "workspace": {"retention_days": {"**/*": 1, "results/*.log": 30}},
    }
    workflow = make_workflow(user, spec=spec)
    for relative in (
        "code/fit.py", "code/scratch.py", "data/a.csv", "data/sub/b.csv", "results/plot.png",
        "results/tmp/x.bin", "results/run.log", "top.txt",
    ):  # fmt: skip
        write_file(workflow, relative, 10)
    outside = Path(workflow.workspace_path).parent / "outside.txt"
    outside.write_text("keep me")
    Path(workflow.workspace_path, "link").symlink_to(outside)
    rules = retention.add_rules(db, workflow, spec)
    _finish(db, workflow, now=datetime(2026, 3, 1))
    db.commit()

    assert retention.apply_due_rules(db, now=datetime(2026, 3, 2, 12)) == []  # not due yet
    applied = retention.apply_due_rules(db, now=datetime(2026, 3, 3))
    assert [r.workspace_files for r in applied] == ["**/*"]
    remaining = sorted(
        p.relative_to(workflow.workspace_path).as_posix()
        for p in Path(workflow.workspace_path).rglob("*")
        if p.is_file() or p.is_symlink()
    )
    # rules are independent (as in REANA): the 30-day rule does not shield results/run.log
    assert remaining == ["code/fit.py", "data/a.csv", "data/sub/b.csv", "results/plot.png"]
    assert outside.read_text() == "keep me"  # the symlink went, not its target
    assert not Path(workflow.workspace_path, "results/tmp").exists()
    by_files = {r.workspace_files: r for r in rules}
    assert by_files["**/*"].status == R.applied
    assert by_files["results/*.log"].status == R.active
    assert _audit(db, by_files["**/*"]) == ["created", "active", "pending", "applied"]
    assert quota.get_user_quota(db, user)["disk"]["usage"]["raw"] == 40


def test_failed_application_goes_back_to_active(db, user, make_workflow):
    workflow = make_workflow(user)
    (rule,) = retention.add_rules(db, workflow, {"workspace": {"retention_days": {"*": 0}}})
    _finish(db, workflow, status=S.failed, now=datetime(2026, 1, 1))
    db.commit()
    seen = []

    def broken(workspace, pattern, keep):
        seen.append(retention.has_pending_rules(db, workflow))
        raise OSError("disk on fire")

    assert retention.apply_due_rules(db, now=datetime(2026, 1, 5), deleter=broken) == []
    assert seen == [True]
    db.refresh(rule)
    assert rule.status == R.active
    assert _audit(db, rule) == ["created", "active", "pending", "active"]
    assert not retention.has_pending_rules(db, workflow)


def test_declared_inputs_outputs():
    spec = {
        "inputs": {"files": ["/a.txt", "b/c.txt"], "directories": ["d"]},
        "outputs": {"files": ["o.png"], "directories": None},
    }
    assert retention.declared_inputs_outputs(spec) == {"a.txt", "b/c.txt", "d", "o.png"}
    assert retention.declared_inputs_outputs(None) == set()


def test_deleting_never_leaves_the_workspace(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "real").mkdir(parents=True)
    (workspace / "real" / "f").write_text("f")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    (workspace / "linked").symlink_to(outside)
    for pattern in ("*/*", "linked/*", "**/*", "*", "**"):
        retention.delete_matching_files(workspace, pattern, set())
        assert (outside / "precious").read_text() == "keep", pattern
    assert list(workspace.iterdir()) == []
    with pytest.raises(retention.InvalidRetentionRule):
        retention.delete_matching_files(workspace, "../outside/*", set())



def test_retention_and_disk_measurement_never_deadlock(db, user, make_workflow, write_file):
    """A retention rule applied while the run's disk is measured (after any status commit,
    in the background): both write the run's disk and its owner's total, so they must take
    their locks in one order (run, owner's total, the run's usage rows), or PostgreSQL
    kills one of them as a deadlock. Many rounds, both started together each time."""
    import threading
    from datetime import timedelta

    from reana_db.database import new_session
    from reana_db.disk_measurement import measure, wait_for_measurements

    rounds, day = 20, datetime(2026, 1, 1)  # 9 of 30 rounds deadlocked before the fix
    runs = []
    for i in range(rounds):
        workflow = make_workflow(user, f"w{i}")
        for relative in ("keep.txt", "tmp/a.bin", "tmp/b/c.bin"):
            write_file(workflow, relative, 10)
        retention.add_rules(db, workflow, {"workspace": {"retention_days": {"tmp/**": 0}}})
        _finish(db, workflow, now=day + timedelta(days=i))  # due on day i + 1, not before
        runs.append(workflow)
    db.commit()
    wait_for_measurements()
    errors, applied = [], []
    for i, workflow in enumerate(runs):
        barrier = threading.Barrier(2)

        def measuring(run_id=workflow.id_, barrier=barrier):
            try:
                barrier.wait(10)
                measure(run_id)
            except Exception as error:  # noqa: BLE001 - asserted below
                errors.append(error)

        def applying(now=day + timedelta(days=i + 1), barrier=barrier):
            with new_session() as session:
                try:
                    barrier.wait(10)
                    applied.extend(r.workflow_id for r in retention.apply_due_rules(session, now))
                except Exception as error:  # noqa: BLE001 - asserted below
                    errors.append(error)

        threads = [threading.Thread(target=measuring), threading.Thread(target=applying)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert applied == [w.id_ for w in runs]  # none went back to active after a failure
    db.expire_all()
    for workflow in runs:
        assert quota.workflow_usage_of(db, workflow, ResourceType.disk) == 10
    assert quota.get_user_quota(db, user)["disk"]["usage"]["raw"] == 10 * rounds
