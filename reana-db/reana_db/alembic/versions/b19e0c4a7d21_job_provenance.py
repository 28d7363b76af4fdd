"""Job provenance: what each job ran and the SHA-256 of what it read and wrote (issue 19).

Revision ID: b19e0c4a7d21
Revises: e3b7a51c9d20
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "b19e0c4a7d21"
down_revision = "e3b7a51c9d20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_provenance",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_uuid", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("job_name", sa.Text(), nullable=True),
        sa.Column("image", sa.String(length=256), nullable=True),
        sa.Column("image_digest", sa.String(length=256), nullable=True),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("compute_backend", sa.String(length=30), nullable=True),
        sa.Column("runtime", sa.String(length=255), nullable=True),
        sa.Column("node", sa.String(length=255), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("status", sa.Enum("created", "running", "finished", "failed", "stopped",
                                    "queued", name="jobstatus", native_enum=False,
                                    create_constraint=False, length=32), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("cached_from", sa.Uuid(), nullable=True),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("overhead_ms", sa.Float(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id_"], ondelete="CASCADE",
                                name=op.f("fk_job_provenance_job_id_job")),
        sa.ForeignKeyConstraint(["workflow_uuid"], ["workflow.id_"], ondelete="CASCADE",
                                name=op.f("fk_job_provenance_workflow_uuid_workflow")),
        sa.ForeignKeyConstraint(["owner_id"], ["user_.id_"],
                                name=op.f("fk_job_provenance_owner_id_user_")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_provenance")),
    )
    op.create_index("ix_job_provenance_owner_cache_key", "job_provenance",
                    ["owner_id", "cache_key"])
    op.create_index("ix_job_provenance_workflow_uuid", "job_provenance", ["workflow_uuid"])


def downgrade() -> None:
    op.drop_index("ix_job_provenance_workflow_uuid", table_name="job_provenance")
    op.drop_index("ix_job_provenance_owner_cache_key", table_name="job_provenance")
    op.drop_table("job_provenance")
