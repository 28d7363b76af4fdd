"""Alembic migrations on SQLite and PostgreSQL: up, down, up again, and in sync with the models."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from reana_db import migrations
from reana_db.models import Base

ALL_TABLES = set(Base.metadata.tables)


def _tables(uri: str) -> set[str]:
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_base_head_base_head(database_uri, reana_env):
    head = migrations.head_revision()
    assert migrations.current_revision(database_uri) is None
    migrations.upgrade(database_uri)
    assert migrations.current_revision(database_uri) == head
    assert _tables(database_uri) == ALL_TABLES
    migrations.upgrade(database_uri)  # idempotent
    migrations.downgrade(database_uri, "base")
    assert migrations.current_revision(database_uri) is None
    assert _tables(database_uri) == set()
    migrations.upgrade()  # default: the configured database
    assert migrations.current_revision(database_uri) == head
    assert _tables(database_uri) == ALL_TABLES


def test_migrated_schema_matches_the_models(database_uri, reana_env):
    migrations.upgrade(database_uri)
    assert migrations.schema_differences(database_uri) == []
    # the comparison does see a drift
    engine = sa.create_engine(database_uri, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_workflow_owner_status"))
    engine.dispose()
    differences = migrations.schema_differences(database_uri)
    assert [d[0] for d in differences] == ["add_index"]
    assert differences[0][1].name == "ix_workflow_owner_status"


def test_upgrade_adopts_a_database_made_by_create_all(database_uri, reana_env):
    engine = sa.create_engine(database_uri, poolclass=sa.pool.NullPool)
    Base.metadata.create_all(engine)
    engine.dispose()
    migrations.upgrade(database_uri)
    assert migrations.current_revision(database_uri) == migrations.head_revision()


def test_concurrent_upgrades_at_startup(database_uri, reana_env):
    errors = []

    def start():
        try:
            migrations.upgrade(database_uri)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert migrations.current_revision(database_uri) == migrations.head_revision()


def test_history_names_the_head():
    assert migrations.head_revision() in migrations.history()


def test_services_starting_together_run_init_once(database_uri, reana_env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "reana-db"), "init"]
    env = {**os.environ, "REANA_SQLALCHEMY_DATABASE_URI": database_uri}
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert migrations.current_revision(database_uri) == migrations.head_revision()
    engine = sa.create_engine(database_uri, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM resource")).scalar() == 2
    engine.dispose()


def _provenance_compression(uri: str) -> tuple[bool, dict]:
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            has_lz4 = connection.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'").scalar()
            return bool(has_lz4), dict(connection.exec_driver_sql(
                "SELECT attname, attcompression FROM pg_attribute WHERE attrelid ="
                " 'job_provenance'::regclass AND attname IN ('inputs', 'outputs')").all())
    finally:
        engine.dispose()


def test_provenance_json_is_compressed_with_lz4_on_postgresql(database_uri, reana_env):
    """Where the server has lz4 (pglz cost the server 4x the time on a job's digest lists)."""
    if database_uri.startswith("sqlite"):
        pytest.skip("SQLite has no compression setting")
    migrations.upgrade(database_uri)
    has_lz4, methods = _provenance_compression(database_uri)
    assert methods == ({"inputs": "l", "outputs": "l"} if has_lz4
                       else {"inputs": "", "outputs": ""})
    migrations.downgrade(database_uri, "d8e9f0a1b2c3")
    assert _provenance_compression(database_uri)[1] == {"inputs": "", "outputs": ""}
