"""The API rate limiter's windows, shared by every reana-server process.

Revision ID: a7b8c9d0e1f2
Revises: f1c2d3e4a5b6
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "a7b8c9d0e1f2"
down_revision = "f1c2d3e4a5b6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_window",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_window")),
    )
    op.create_index(op.f("ix_rate_limit_window_expires_at"), "rate_limit_window",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_window_expires_at"), table_name="rate_limit_window")
    op.drop_table("rate_limit_window")
