"""Local accounts of the web UI: a user's password hash.

Revision ID: c4d5e6f7a8b9
Revises: a7b8c9d0e1f2
Create Date: 2026-12-10

Users created by ``reana-admin`` have none (they sign in with a token); users who
register with email and password on the web UI (``POST /api/register``) have one.
"""

import sqlalchemy as sa
from alembic import op

revision = "c4d5e6f7a8b9"
down_revision = "a7b8c9d0e1f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_") as batch:
        batch.drop_column("password_hash")
