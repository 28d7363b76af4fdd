"""WES run requests: the GA4GH WES RunRequest (and tags) of runs submitted through WES.

Revision ID: e3b7a51c9d20
Revises: 7c3d9e21a4f0
Create Date: 2026-12-03

A WES run is an ordinary ``workflow`` row; WES answers echo the request it was
submitted with, which REANA's columns cannot hold (type version, URL, tags).
"""

import sqlalchemy as sa
from alembic import op

revision = "e3b7a51c9d20"
down_revision = "7c3d9e21a4f0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wes_run_request",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflow.id_"],
            name=op.f("fk_wes_run_request_workflow_id_workflow"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", name=op.f("pk_wes_run_request")),
    )


def downgrade() -> None:
    op.drop_table("wes_run_request")
