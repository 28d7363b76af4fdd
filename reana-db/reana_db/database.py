"""Engine and session factory, built lazily from the configuration.

SQLite (the embedded profile) is opened in WAL mode with a busy timeout so the
platform's several processes can share one file; PostgreSQL gets a bounded pool.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from reana_commons.config import get_config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

_engine: Engine | None = None
_engine_lock = threading.Lock()
_session_factory = sessionmaker(autoflush=False, expire_on_commit=False)
db_session = scoped_session(_session_factory)
"""Thread-local session used by the Flask services (removed at request teardown)."""


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_engine(uri: str | None = None) -> Engine:
    """Create an engine for ``uri`` (default: the configured database)."""
    config = get_config()
    uri = uri or config.database_uri
    if uri.startswith("sqlite"):
        if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
            from pathlib import Path

            Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(uri, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = {}
    if uri.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        # Many-row UPDATEs (a status batch touches many runs) go in pages, not a round
        # trip per row.
        options["executemany_mode"] = "values_plus_batch"
    return create_engine(
        uri,
        **options,
        pool_size=config.pool_size,
        max_overflow=config.max_overflow,
        pool_recycle=config.pool_recycle,
        pool_timeout=config.pool_timeout,
        pool_pre_ping=config.pool_pre_ping,
    )


def get_engine() -> Engine:
    """The process-wide engine (created on first use)."""
    global _engine
    engine = _engine
    if engine is not None:
        return engine
    with _engine_lock:
        if _engine is None:
            _engine = build_engine()
            _session_factory.configure(bind=_engine)
        return _engine


def reset_engine() -> None:
    """Dispose the engine; the next use builds one from the current configuration."""
    global _engine
    db_session.remove()
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None:
        engine.dispose()


def new_session() -> Session:
    """A fresh session, for code outside a request (consumers, CLIs), bound to the engine
    current at the call (a thread that builds an engine concurrently cannot rebind it)."""
    return _session_factory(bind=get_engine())


@contextmanager
def session_scope():
    """Commit on success, roll back on error, always close."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
