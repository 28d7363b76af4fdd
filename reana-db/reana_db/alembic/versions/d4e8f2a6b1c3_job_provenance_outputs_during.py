"""Files written while a job ran beside other jobs of its run (issue 19; ADR 0028).

Revision ID: d4e8f2a6b1c3
Revises: c4d5e6f7a8b9
Create Date: 2026-12-03

``outputs`` holds what the job certainly wrote; ``outputs_during`` what was written while it
and other jobs of the run ran, with those jobs' ids (null for rows recorded before).
"""

import sqlalchemy as sa
from alembic import op

revision = "d4e8f2a6b1c3"
down_revision = "c4d5e6f7a8b9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_provenance") as batch:
        batch.add_column(sa.Column("outputs_during", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_provenance") as batch:
        batch.drop_column("outputs_during")
