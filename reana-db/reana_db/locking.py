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

import threading
import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
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
    query = _lock_query(options, sqlite=_write_lock_sqlite(session))
    rows = session.scalars(query, {"ids": ids})
    return {workflow.id_: workflow for workflow in rows}


MAX_CACHED_QUERIES = 16
_queries: dict[tuple, tuple] = {}
_queries_lock = threading.Lock()


def _lock_query(options: tuple, sqlite: bool):
    """The locking SELECT for these loader options, built once: a statement's cache key is
    then computed once, not for every batch of the status consumer (it cost more than the
    query's round trip)."""
    key = (tuple(map(id, options)), sqlite)
    with _queries_lock:
        found = _queries.get(key)
        if found is not None:
            return found[0]
        query = (select(Workflow).where(Workflow.id_.in_(bindparam("ids", expanding=True)))
                 .order_by(Workflow.id_).options(*options))
        if not sqlite:
            # NO KEY UPDATE: job rows referencing the run (KEY SHARE) do not block it.
            query = query.with_for_update(key_share=True)
        query = query.execution_options(populate_existing=True)
        if len(_queries) < MAX_CACHED_QUERIES:  # callers passing new options each time
            _queries[key] = (query, options)  # kept alive: their ids stay theirs
        return query


def lock_run(session: Session, run_id: uuid.UUID) -> Workflow | None:
    """One run, fresh and locked (see :func:`lock_runs`)."""
    return lock_runs(session, [run_id]).get(run_id)
