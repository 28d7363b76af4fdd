"""Job provenance's JSON columns compressed with lz4 on PostgreSQL (issue 19; ADR 0028).

Revision ID: a3f9c1d7e2b4
Revises: d8e9f0a1b2c3
Create Date: 2026-12-13

A job touching 100 files stores some 22 KB of ``inputs`` and ``outputs`` (110 bytes a file),
compressed out of line (TOAST). With pglz, PostgreSQL's default, the server spent 0.45 ms
on such an insert, with lz4 0.12 ms (the row is written before the job's end is announced).
A server without lz4 (before 14, or built without it) keeps pglz; values stored before keep
theirs. SQLite has no such setting.
"""

from alembic import op

revision = "a3f9c1d7e2b4"
down_revision = "d8e9f0a1b2c3"
branch_labels = None
depends_on = None

COLUMNS = ("parameters", "inputs", "outputs", "outputs_during")


def _compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or bind.dialect.server_version_info < (14,):
        return
    if method == "lz4" and not bind.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
            " WHERE name = 'default_toast_compression'").scalar():
        return
    op.execute("ALTER TABLE job_provenance "
               + ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}"
                           for column in COLUMNS))


def upgrade() -> None:
    _compression("lz4")


def downgrade() -> None:
    _compression("default")
