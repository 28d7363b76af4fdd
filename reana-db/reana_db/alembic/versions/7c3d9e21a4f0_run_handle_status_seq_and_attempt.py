"""Run handles: the applied status sequence numbers and the current start attempt, in columns.

Revision ID: 7c3d9e21a4f0
Revises: 5a1e0c0d2b11
Create Date: 2026-12-02

The job-status consumer kept its per-run sequence state inside the run
manager's ``handle`` JSON; rewriting that JSON raced with the start recording
the handle (process ids were lost). Each writer now owns its own column.
"""

import sqlalchemy as sa
from alembic import op

revision = "7c3d9e21a4f0"
down_revision = "5a1e0c0d2b11"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_handle") as batch:
        batch.add_column(sa.Column("status_seq", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_handle") as batch:
        batch.drop_column("attempt")
        batch.drop_column("status_seq")
