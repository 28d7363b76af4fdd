"""Load runs for a status change without lost updates between concurrent writers.

The consumer, the reconciler and the REST API (stop, delete) may decide about
the same run at the same moment. Each loads the run with its row locked
(PostgreSQL ``SELECT ... FOR UPDATE``) or, on SQLite, after taking the
database's write lock (``BEGIN IMMEDIATE``), so it decides on the latest
committed status and nobody commits in between.

Lock order. Every writer that locks several of these takes them in this order,
so two writers wait for each other instead of deadlocking: the runs' rows (by
id), their retention rules, the owners' quota totals (``user_resource``), then
the runs' usage rows (``workflow_resource``). The status writer, the disk
measurement, retention rules, uploads and the quota updater all do
(``reana-db/tests/test_retention.py`` runs two of them against each other).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.models import Workflow


def _write_lock_sqlite(session: Session) -> bool:
    """On SQLite, open the transaction with the write lock; returns whether it is SQLite."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    connection = session.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


def lock_runs(
    session: Session, run_ids: Iterable[uuid.UUID], *options
) -> dict[uuid.UUID, Workflow]:
    """The runs with these ids, fresh from the database and locked until commit.

    ``options`` are loader options (for instance deferring the bulky columns a
    writer does not read).
    """
    ids = sorted(set(run_ids), key=str)
    if not ids:
        return {}
    query = select(Workflow).where(Workflow.id_.in_(ids)).order_by(Workflow.id_).options(*options)
    if not _write_lock_sqlite(session):
        # NO KEY UPDATE: job rows referencing the run (KEY SHARE) do not block it.
        query = query.with_for_update(key_share=True)
    rows = session.scalars(query.execution_options(populate_existing=True))
    return {workflow.id_: workflow for workflow in rows}


def lock_run(session: Session, run_id: uuid.UUID) -> Workflow | None:
    """One run, fresh and locked (see :func:`lock_runs`)."""
    return lock_runs(session, [run_id]).get(run_id)
