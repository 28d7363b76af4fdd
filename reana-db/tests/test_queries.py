"""Workflow listing for the API: filters, sorts, pagination, and speed on 10,000 runs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from reana_db import quota
from reana_db.enums import ResourceType, RunStatus
from reana_db.models import InteractiveSession, WorkflowResource, WorkflowSession
from reana_db.queries import (
    InvalidListQuery,
    build_list_queries,
    list_workflows,
    user_has_workflows,
    workflow_usage,
)
from reana_db.users import ensure_default_resources

S = RunStatus
T0 = datetime(2026, 1, 1)
ALIVE = [s for s in RunStatus if s != S.deleted]


def _names(items):
    return [w.full_name for w in items]


@pytest.fixture
def runs(db, user, other_user, make_workflow):
    """Six runs of ``user`` created one minute apart, one of ``other_user``."""
    specs = [
        ("fit", S.finished), ("fit", S.failed), ("plot", S.running),
        ("fit_more", S.created), ("plot", S.deleted), ("percent%", S.queued),
    ]  # fmt: skip
    made = []
    for index, (name, status) in enumerate(specs):
        workflow = make_workflow(user, name, status=status)
        workflow.created = T0 + timedelta(minutes=index)
        made.append(workflow)
    make_workflow(other_user, "fit", status=S.finished)
    db.commit()
    return made


def test_filters_and_sorts(db, user, other_user, runs):
    items, total = list_workflows(db, user.id_)
    assert total == 6
    assert _names(items) == ["percent%.1", "plot.2", "fit_more.1", "plot.1", "fit.2", "fit.1"]
    items, total = list_workflows(db, user.id_, sort="asc", status_in=ALIVE)
    assert total == 5
    assert _names(items) == ["fit.1", "fit.2", "plot.1", "fit_more.1", "percent%.1"]
    items, _ = list_workflows(db, user.id_, status_in=["finished", "failed"])
    assert _names(items) == ["fit.2", "fit.1"]
    items, _ = list_workflows(db, user.id_, status_in=[1, 6])
    assert _names(items) == ["percent%.1", "plot.1"]
    assert _names(list_workflows(db, user.id_, search_name="FIT")[0]) == [
        "fit_more.1", "fit.2", "fit.1",
    ]  # fmt: skip
    # LIKE wildcards in the search are literal
    assert _names(list_workflows(db, user.id_, search_name="t_m")[0]) == ["fit_more.1"]
    assert _names(list_workflows(db, user.id_, search_name="%")[0]) == ["percent%.1"]
    assert _names(list_workflows(db, user.id_, workflow_id_or_name="fit")[0]) == [
        "fit.2", "fit.1",
    ]  # fmt: skip
    assert _names(list_workflows(db, user.id_, workflow_id_or_name="fit.2")[0]) == ["fit.2"]
    by_id = list_workflows(db, user.id_, workflow_id_or_name=str(runs[2].id_))[0]
    assert _names(by_id) == ["plot.1"]
    # another user's run is never listed, even asked by its UUID
    theirs = list_workflows(db, other_user.id_)[0][0]
    assert list_workflows(db, user.id_, workflow_id_or_name=str(theirs.id_)) == ([], 0)
    assert user_has_workflows(db, user.id_)
    assert not user_has_workflows(db, uuid.uuid4())


def test_pagination(db, user, runs):
    pages = [list_workflows(db, user.id_, page=p, size=4) for p in (1, 2, 3)]
    assert [total for _, total in pages] == [6, 6, 6]
    assert [len(items) for items, _ in pages] == [4, 2, 0]
    assert _names(pages[0][0] + pages[1][0]) == _names(list_workflows(db, user.id_)[0])
    for bad in ({"page": 0}, {"size": 0}, {"sort": "name"}, {"type_": "service"}):
        with pytest.raises(InvalidListQuery):
            list_workflows(db, user.id_, **bad)
    with pytest.raises(InvalidListQuery):
        list_workflows(db, user.id_, status_in=["sleeping"])


def test_usage_sorts_and_interactive(db, user, runs):
    resources = ensure_default_resources(db)
    for workflow, disk, cpu in ((runs[0], 10, 5), (runs[3], 30, 1), (runs[2], 20, 9)):
        db.add(WorkflowResource(workflow_id=workflow.id_, resource_id=resources[ResourceType.disk].id_, quota_used=disk))  # noqa: E501
        db.add(WorkflowResource(workflow_id=workflow.id_, resource_id=resources[ResourceType.cpu].id_, quota_used=cpu))  # noqa: E501
    session = InteractiveSession(name="s", path="/p", owner_id=user.id_, type_=0)
    db.add(session)
    db.flush()
    db.add(WorkflowSession(workflow_id=runs[1].id_, session_id=session.id_))
    db.commit()
    disk = _names(list_workflows(db, user.id_, sort="disk-desc", size=3)[0])
    assert disk == ["fit_more.1", "plot.1", "fit.1"]
    cpu = _names(list_workflows(db, user.id_, sort="cpu-desc", size=3)[0])
    assert cpu == ["plot.1", "fit.1", "fit_more.1"]
    assert _names(list_workflows(db, user.id_, type_="interactive")[0]) == ["fit.2"]
    usage = workflow_usage(db, [runs[0].id_, runs[1].id_], ResourceType.disk)
    assert usage == {runs[0].id_: 10}
    assert workflow_usage(db, [], ResourceType.cpu) == {}
    assert quota.get_user_quota(db, user)["disk"]["usage"]["raw"] == 0  # not recomputed here


_STATUS_CASE = (
    "CASE i % 8 " + " ".join(f"WHEN {s.value} THEN '{s.name}'" for s in RunStatus) + " END"
)
_BULK_SQL = {
    "postgresql": (
        "INSERT INTO workflow (id_, name, owner_id, status, type_, run_number_major,"
        " run_number_minor, restart, priority, logs, created, updated)"
        " SELECT gen_random_uuid(), 'analysis' || (i % 50), :owner, " + _STATUS_CASE + ","
        " 'serial', i / 50 + 1, 0, false, 0, repeat('log line ', 20),"
        " timestamp '2026-01-01' + i * interval '1 second', timestamp '2026-01-01'"
        " FROM generate_series(0, :count - 1) AS i"
    ),
    "sqlite": (
        "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :count)"
        " INSERT INTO workflow (id_, name, owner_id, status, type_, run_number_major,"
        " run_number_minor, restart, priority, logs, created, updated)"
        " SELECT lower(hex(randomblob(16))), 'analysis' || (i % 50), :owner, "
        + _STATUS_CASE
        + ", 'serial', i / 50 + 1, 0, 0, 0, 'log line log line log line',"
        " datetime('2026-01-01', '+' || i || ' seconds') || '.000000', '2026-01-01 00:00:00.000000'"
        " FROM s"
    ),
}
_USAGE_SQL = (
    "INSERT INTO workflow_resource (workflow_id, resource_id, quota_used, created, updated)"
    " SELECT w.id_, r.id_, (w.run_number_major * 7919 + length(r.name)) % 100003, w.created,"
    " w.created FROM workflow w, resource r WHERE w.owner_id = :owner"
)


def _bulk_runs(db, owner_id, count):
    """``count`` runs of one owner, with CPU and disk usage, generated inside the database."""
    ensure_default_resources(db)
    dialect = db.bind.dialect.name
    owner = owner_id if dialect == "postgresql" else owner_id.hex
    db.execute(sa.text(_BULK_SQL[dialect]), {"owner": owner, "count": count})
    db.execute(sa.text(_USAGE_SQL), {"owner": owner})
    db.commit()
    if dialect == "postgresql":
        db.connection().exec_driver_sql("COMMIT")  # VACUUM cannot run inside a transaction
        db.connection().exec_driver_sql("VACUUM ANALYZE workflow")
    else:
        db.execute(sa.text("ANALYZE"))
    db.commit()


def _explain(db, statement) -> str:
    sql = statement.compile(dialect=db.bind.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(db.execute(sa.text(f"EXPLAIN {sql}")).scalars())


def test_ten_thousand_runs_page_from_the_indexes(db, user, other_user):
    _bulk_runs(db, user.id_, 10_000)
    _bulk_runs(db, other_user.id_, 2_000)
    first, total = list_workflows(db, user.id_, status_in=ALIVE, size=20)
    assert total == 10_000 - 10_000 // len(RunStatus)
    assert first[0].created == T0 + timedelta(seconds=9_999)
    disk = list_workflows(db, user.id_, sort="disk-desc", size=20)[0]
    values = workflow_usage(db, [w.id_ for w in disk], ResourceType.disk)
    assert [values[w.id_] for w in disk] == sorted(values.values(), reverse=True)

    if db.bind.dialect.name == "postgresql":
        count, page = build_list_queries(user.id_, status_in=ALIVE, size=20)
        assert "ix_workflow_owner_status" in _explain(db, count)
        assert "Index Scan Backward using ix_workflow_owner_created" in _explain(db, page)

    # Every kind of page answers from the indexes above; how fast is make bench's "list" step
    # (a timing asserted on a shared CI machine would be a flaky test, not a check).
    cases = [
        {"status_in": ALIVE},
        {"status_in": ALIVE, "sort": "asc", "page": 40},
        {"status_in": ALIVE, "sort": "disk-desc"},
        {"status_in": ALIVE, "sort": "cpu-desc", "page": 3},
        {"search_name": "analysis4"},
        {"workflow_id_or_name": "analysis7"},
    ]
    for case in cases:
        db.expunge_all()
        items, total = list_workflows(db, user.id_, size=20, **case)
        assert len(items) == 20 and total > 20, case
