"""Alembic environment of reana-db.

The connection comes from the caller (``config.attributes["connection"]``, as
:mod:`reana_db.migrations` passes it), else from ``config.attributes["database_uri"]``
or ``sqlalchemy.url``, else from the platform configuration. SQLite runs in
batch mode, because it cannot alter most of a table in place.
"""

from __future__ import annotations

from alembic import context
from reana_db.models import Base
from sqlalchemy import create_engine, pool

config = context.config
target_metadata = Base.metadata


def _database_uri() -> str:
    uri = config.attributes.get("database_uri") or config.get_main_option("sqlalchemy.url")
    if uri:
        return uri
    from reana_commons.config import get_config

    return get_config().database_uri


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``--sql``)."""
    uri = _database_uri()
    _configure(
        url=uri,
        literal_binds=True,
        render_as_batch=uri.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the caller's connection or on a short-lived one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(_database_uri(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
