"""Schema migrations (Alembic) as plain Python calls.

Services call :func:`upgrade` at start-up instead of ``create_all``: it is
idempotent and safe when several processes start at once (a PostgreSQL
advisory lock, or a lock file beside a SQLite database, serializes them).
A database whose tables were made by ``create_all`` (no ``alembic_version``
yet) is stamped at head rather than created again.
"""

from __future__ import annotations

import fcntl
import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from reana_commons.config import get_config
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import Connection, Engine

PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
SCRIPT_LOCATION = PACKAGE_DIR / "alembic"
ADVISORY_LOCK_ID = 0x5E_A7A_DB
"""PostgreSQL advisory lock key held while migrating (any constant shared by all processes)."""


def alembic_config(uri: str | None = None) -> Config:
    """The packaged Alembic configuration, pointed at ``uri`` (default: configured DB)."""
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["database_uri"] = uri or get_config().database_uri
    return cfg


def _migration_engine(uri: str) -> Engine:
    if not uri.startswith("sqlite"):
        return create_engine(uri, poolclass=pool.NullPool)
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # Wait for the platform's other processes instead of failing on "database is locked".
    return create_engine(uri, poolclass=pool.NullPool, connect_args={"timeout": 30})


@contextmanager
def _sqlite_file_lock(uri: str) -> Iterator[None]:
    if not uri.startswith("sqlite:///") or uri == "sqlite:///:memory:":
        yield
        return
    lock_path = Path(uri[len("sqlite:///") :] + ".migrate.lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def migration_connection(uri: str | None = None) -> Iterator[tuple[Config, Connection]]:
    """An Alembic config bound to one locked connection; commits when the block ends."""
    cfg = alembic_config(uri)
    uri = cfg.attributes["database_uri"]
    engine = _migration_engine(uri)
    try:
        with _sqlite_file_lock(uri), engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_ID})
            try:
                cfg.attributes["connection"] = connection
                yield cfg, connection
                connection.commit()
            finally:
                if connection.dialect.name == "postgresql":
                    connection.rollback()
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_ID}
                    )
                    connection.commit()
    finally:
        engine.dispose()


def _stamp_if_created_without_alembic(cfg: Config, connection: Connection) -> None:
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and "workflow" in tables:
        command.stamp(cfg, "head")


def upgrade(uri: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (idempotent; creates the schema if empty)."""
    with migration_connection(uri) as (cfg, connection):
        _stamp_if_created_without_alembic(cfg, connection)
        command.upgrade(cfg, revision)


def init_database(uri: str | None = None) -> None:
    """Schema at head plus the default resources, in one locked transaction (``reana-db init``)."""
    from sqlalchemy.orm import Session

    from reana_db.users import ensure_default_resources

    with migration_connection(uri) as (cfg, connection):
        _stamp_if_created_without_alembic(cfg, connection)
        command.upgrade(cfg, "head")
        with Session(bind=connection, autoflush=False) as session:
            ensure_default_resources(session)


def downgrade(uri: str | None = None, revision: str = "-1") -> None:
    """Downgrade the database to ``revision`` (``base`` drops the whole schema)."""
    with migration_connection(uri) as (cfg, _connection):
        command.downgrade(cfg, revision)


def current_revision(uri: str | None = None) -> str | None:
    """The revision the database is at, ``None`` when it has none."""
    with migration_connection(uri) as (_cfg, connection):
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def history(uri: str | None = None) -> str:
    """The revision history as ``alembic history`` prints it."""
    cfg = alembic_config(uri or "sqlite://")
    output = io.StringIO()
    with redirect_stdout(output):
        cfg.stdout = output
        command.history(cfg)
    return output.getvalue()


def schema_differences(uri: str | None = None) -> list:
    """What autogenerate sees between the database and the models (empty = in sync)."""
    from alembic.autogenerate import compare_metadata

    from reana_db.models import Base

    with migration_connection(uri) as (_cfg, connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return [
            diff
            for diff in compare_metadata(context, Base.metadata)
            if not _is_alembic_table(diff)
        ]


def _is_alembic_table(diff) -> bool:
    return (
        isinstance(diff, tuple)
        and diff[0] == "remove_table"
        and diff[1].name == "alembic_version"
    )
