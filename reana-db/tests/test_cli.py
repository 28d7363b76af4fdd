"""The reana-db command through click's CliRunner, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner
from reana_db import migrations
from reana_db.cli import cli


def _run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def _count(uri, table):
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
    finally:
        engine.dispose()


def test_init_and_alembic_commands(database_uri, reana_env):
    head = migrations.head_revision()
    result = _run("init")
    assert result.exit_code == 0, result.output
    assert head in result.output
    assert _count(database_uri, "resource") == 2
    assert _run("init").exit_code == 0  # idempotent
    assert _count(database_uri, "resource") == 2

    assert _run("alembic", "current").output.strip() == head
    assert head in _run("alembic", "history").output
    result = _run("alembic", "downgrade", "base")
    assert result.exit_code == 0 and "base" in result.output
    assert _run("alembic", "current").output.strip() == "base"
    result = _run("alembic", "upgrade")
    assert result.exit_code == 0 and head in result.output
    result = _run("alembic", "downgrade")  # one step down: the revision before the head
    assert result.exit_code == 0, result.output
    assert _run("alembic", "current").output.strip() not in ("base", head)
    assert _run("--database-uri", database_uri, "alembic", "upgrade", head).exit_code == 0
    assert _run("alembic", "current").output.strip() == head


def test_alembic_stamp_adopts_existing_tables(database_uri, reana_env):
    from reana_db.models import Base

    engine = sa.create_engine(database_uri, poolclass=sa.pool.NullPool)
    Base.metadata.create_all(engine)
    engine.dispose()
    assert _run("alembic", "stamp").exit_code == 0
    assert _run("alembic", "current").output.strip() == migrations.head_revision()


def test_quota_commands(database_uri, reana_env):
    assert _run("alembic", "upgrade").exit_code == 0
    result = _run("quota", "create-default-resources")
    assert result.output.splitlines() == ["cpu: processing time", "disk: shared storage"]
    result = _run("quota", "resource-usage-update")
    assert result.exit_code == 0
    assert result.output.strip() == "Updated the resource usage of 0 workflows."
