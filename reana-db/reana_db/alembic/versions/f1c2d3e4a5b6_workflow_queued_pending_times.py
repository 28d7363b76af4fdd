"""When a run became queued and pending: the scheduling latency histograms' start points.

Revision ID: f1c2d3e4a5b6
Revises: b19e0c4a7d21
Create Date: 2026-12-03

:func:`reana_db.status.set_workflow_status` stamps them; the workflow controller
observes queued → pending and pending → running from them (Prometheus metrics).
"""

import sqlalchemy as sa
from alembic import op

revision = "f1c2d3e4a5b6"
down_revision = "b19e0c4a7d21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("pending_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow") as batch:
        batch.drop_column("pending_at")
        batch.drop_column("queued_at")
