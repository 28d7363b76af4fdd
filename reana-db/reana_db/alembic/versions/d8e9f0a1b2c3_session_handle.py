"""Interactive sessions: the runtime side and history of each session (``session_handle``).

Revision ID: d8e9f0a1b2c3
Revises: d4e8f2a6b1c3
Create Date: 2026-12-12

REANA keeps an ``interactive_session`` row only while a session is open; this table
keeps where it runs, the secret its Jupyter server accepts (encrypted, erased at
close) and when it started and closed (the CPU quota counts that time).
"""

import sqlalchemy as sa
from alembic import op

revision = "d8e9f0a1b2c3"
down_revision = "d4e8f2a6b1c3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_handle",
        sa.Column("id_", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("type_", sa.Enum("jupyter", name="interactivesessiontype", native_enum=False,
                                   create_constraint=False, length=32), nullable=False),
        sa.Column("runtime", sa.String(length=30), nullable=False),
        sa.Column("handle", sa.JSON(), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("image", sa.String(length=256), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflow.id_"],
            name=op.f("fk_session_handle_workflow_id_workflow"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_.id_"], name=op.f("fk_session_handle_owner_id_user_"),
        ),
        sa.PrimaryKeyConstraint("id_", name=op.f("pk_session_handle")),
    )
    op.create_index("ix_session_handle_workflow_id_closed_at", "session_handle",
                    ["workflow_id", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_session_handle_workflow_id_closed_at", table_name="session_handle")
    op.drop_table("session_handle")
