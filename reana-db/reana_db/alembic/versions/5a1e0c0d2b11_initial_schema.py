"""Initial schema: every table of REANA 0.9 plus secrets, sharing and run handles.

Revision ID: 5a1e0c0d2b11
Revises:
Create Date: 2026-11-28

Enums are plain strings of the member names (``native_enum=False``), so the
same migration runs on PostgreSQL and SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "5a1e0c0d2b11"
down_revision = None
branch_labels = None
depends_on = None

RUN_STATUSES = (
    "created", "running", "finished", "failed", "deleted", "stopped", "queued", "pending",
)
JOB_STATUSES = ("created", "running", "finished", "failed", "stopped", "queued")
RULE_STATUSES = ("created", "active", "inactive", "applied", "pending")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def _id() -> sa.Column:
    return sa.Column("id_", sa.Uuid(), nullable=False)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
    ]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id_",)), name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str, **kwargs) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id_"], name=name, **kwargs)


def _create_users() -> None:
    op.create_table(
        "resource",
        _id(),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("type_", _enum("resourcetype", "cpu", "disk"), nullable=False),
        sa.Column("unit", _enum("resourceunit", "bytes_", "milliseconds"), nullable=False),
        sa.Column("title", sa.String(1024), nullable=True),
        *_timestamps(),
        _pk("resource"),
        sa.UniqueConstraint("name", name=op.f("uq_resource_name")),
    )
    op.create_table(
        "user_",
        _id(),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        *_timestamps(),
        _pk("user_"),
        sa.UniqueConstraint("email", name=op.f("uq_user__email")),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "action",
            _enum("auditlogaction", "request_token", "grant_token", "revoke_token"),
            nullable=False,
        ),
        sa.Column("details", sa.JSON(), nullable=True),
        *_timestamps(),
        _fk("audit_log", "user_id", "user_"),
        _pk("audit_log"),
    )
    op.create_table(
        "interactive_session",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("status", _enum("runstatus", *RUN_STATUSES), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("type_", _enum("interactivesessiontype", "jupyter"), nullable=False),
        *_timestamps(),
        _fk("interactive_session", "owner_id", "user_"),
        _pk("interactive_session"),
        sa.UniqueConstraint("name", "path", name=op.f("uq_interactive_session_name")),
    )
    op.create_table(
        "user_resource",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("quota_limit", sa.BigInteger(), nullable=False),
        sa.Column("quota_used", sa.BigInteger(), nullable=False),
        *_timestamps(),
        _fk("user_resource", "resource_id", "resource"),
        _fk("user_resource", "user_id", "user_"),
        _pk("user_resource", "user_id", "resource_id"),
    )
    op.create_table(
        "user_secret",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type_", _enum("secrettype", "env", "file"), nullable=False),
        sa.Column("value_encrypted", sa.Text(), nullable=False),
        *_timestamps(),
        _fk("user_secret", "user_id", "user_"),
        _pk("user_secret"),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_user_secret_user_id")),
    )
    op.create_table(
        "user_token",
        _id(),
        sa.Column("token_digest", sa.String(64), nullable=True),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column(
            "status", _enum("usertokenstatus", "requested", "active", "revoked"), nullable=False
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("type_", _enum("usertokentype", "reana"), nullable=False),
        *_timestamps(),
        _fk("user_token", "user_id", "user_"),
        _pk("user_token"),
        sa.UniqueConstraint("token_digest", name=op.f("uq_user_token_token_digest")),
    )


def _create_workflows() -> None:
    op.create_table(
        "workflow",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", _enum("runstatus", *RUN_STATUSES), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("reana_specification", sa.JSON(), nullable=True),
        sa.Column("input_parameters", sa.JSON(), nullable=True),
        sa.Column("operational_options", sa.JSON(), nullable=True),
        sa.Column("complexity", sa.JSON(), nullable=True),
        sa.Column("type_", sa.String(30), nullable=False),
        sa.Column("logs", sa.Text(), nullable=True),
        sa.Column("run_started_at", sa.DateTime(), nullable=True),
        sa.Column("run_finished_at", sa.DateTime(), nullable=True),
        sa.Column("run_stopped_at", sa.DateTime(), nullable=True),
        sa.Column("run_number_major", sa.Integer(), nullable=False),
        sa.Column("run_number_minor", sa.Integer(), nullable=False),
        sa.Column("job_progress", sa.JSON(), nullable=True),
        sa.Column("workspace_path", sa.Text(), nullable=True),
        sa.Column("restart", sa.Boolean(), nullable=False),
        sa.Column("engine_specific", sa.JSON(), nullable=True),
        sa.Column("git_ref", sa.String(40), nullable=True),
        sa.Column("git_repo", sa.String(255), nullable=True),
        sa.Column("git_provider", sa.String(255), nullable=True),
        sa.Column("launcher_url", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        *_timestamps(),
        _fk("workflow", "owner_id", "user_"),
        _pk("workflow"),
        sa.UniqueConstraint(
            "owner_id",
            "name",
            "run_number_major",
            "run_number_minor",
            name=op.f("uq_workflow_owner_id"),
        ),
    )
    op.create_index("ix_workflow_owner_created", "workflow", ["owner_id", "created"])
    op.create_index("ix_workflow_owner_status", "workflow", ["owner_id", "status"])
    op.create_index(op.f("ix_workflow_status"), "workflow", ["status"])


def _create_jobs() -> None:
    op.create_table(
        "job",
        _id(),
        sa.Column("backend_job_id", sa.String(256), nullable=True),
        sa.Column("workflow_uuid", sa.Uuid(), nullable=False),
        sa.Column("status", _enum("jobstatus", *JOB_STATUSES), nullable=False),
        sa.Column("compute_backend", sa.String(30), nullable=True),
        sa.Column("cvmfs_mounts", sa.Text(), nullable=True),
        sa.Column("shared_file_system", sa.Boolean(), nullable=False),
        sa.Column("docker_img", sa.String(256), nullable=True),
        sa.Column("cmd", sa.Text(), nullable=True),
        sa.Column("env_vars", sa.JSON(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("logs", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("prettified_cmd", sa.Text(), nullable=True),
        sa.Column("job_name", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=True),
        *_timestamps(),
        _fk("job", "workflow_uuid", "workflow", ondelete="CASCADE"),
        _pk("job"),
    )
    op.create_index("ix_job_workflow_uuid_created", "job", ["workflow_uuid", "created"])
    op.create_table(
        "job_cache",
        _id(),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("parameters", sa.String(1024), nullable=True),
        sa.Column("result_path", sa.String(1024), nullable=True),
        sa.Column("workspace_hash", sa.String(1024), nullable=True),
        sa.Column("access_times", sa.JSON(), nullable=True),
        *_timestamps(),
        _fk("job_cache", "job_id", "job", ondelete="CASCADE"),
        _pk("job_cache"),
    )


def _create_workflow_children() -> None:
    op.create_table(
        "run_handle",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("runtime", sa.String(30), nullable=False),
        sa.Column("handle", sa.JSON(), nullable=True),
        sa.Column("job_controller_url", sa.Text(), nullable=True),
        *_timestamps(),
        _fk("run_handle", "workflow_id", "workflow", ondelete="CASCADE"),
        _pk("run_handle", "workflow_id"),
    )
    op.create_table(
        "user_workflow",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("access_type", _enum("accesstype", "read"), nullable=False),
        sa.Column("message", sa.String(5000), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        *_timestamps(),
        _fk("user_workflow", "user_id", "user_"),
        _fk("user_workflow", "workflow_id", "workflow", ondelete="CASCADE"),
        _pk("user_workflow", "workflow_id", "user_id"),
    )
    op.create_table(
        "workflow_resource",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("quota_used", sa.BigInteger(), nullable=False),
        *_timestamps(),
        _fk("workflow_resource", "resource_id", "resource"),
        _fk("workflow_resource", "workflow_id", "workflow", ondelete="CASCADE"),
        _pk("workflow_resource", "workflow_id", "resource_id"),
    )
    op.create_table(
        "workflow_session",
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        _fk("workflow_session", "session_id", "interactive_session", ondelete="CASCADE"),
        _fk("workflow_session", "workflow_id", "workflow", ondelete="CASCADE"),
        _pk("workflow_session", "session_id"),
    )


def _create_retention() -> None:
    op.create_table(
        "workspace_retention_rule",
        _id(),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_files", sa.String(255), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("apply_on", sa.DateTime(), nullable=True),
        sa.Column(
            "status", _enum("workspaceretentionrulestatus", *RULE_STATUSES), nullable=False
        ),
        *_timestamps(),
        _fk("workspace_retention_rule", "workflow_id", "workflow", ondelete="CASCADE"),
        _pk("workspace_retention_rule"),
        sa.UniqueConstraint(
            "workflow_id",
            "workspace_files",
            name=op.f("uq_workspace_retention_rule_workflow_id"),
        ),
    )
    op.create_index(
        "ix_workspace_retention_rule_status_apply_on",
        "workspace_retention_rule",
        ["status", "apply_on"],
    )
    op.create_table(
        "workspace_retention_audit_log",
        _id(),
        sa.Column("workspace_retention_rule_id", sa.Uuid(), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column(
            "action", _enum("workspaceretentionrulestatus", *RULE_STATUSES), nullable=False
        ),
        _fk(
            "workspace_retention_audit_log",
            "workspace_retention_rule_id",
            "workspace_retention_rule",
            ondelete="CASCADE",
        ),
        _pk("workspace_retention_audit_log"),
    )


def upgrade() -> None:
    """Create every table, parents before children."""
    _create_users()
    _create_workflows()
    _create_jobs()
    _create_workflow_children()
    _create_retention()


def downgrade() -> None:
    """Drop every table, children before parents."""
    for table in (
        "workspace_retention_audit_log",
        "workspace_retention_rule",
        "workflow_session",
        "workflow_resource",
        "user_workflow",
        "run_handle",
        "job_cache",
        "job",
        "workflow",
        "user_token",
        "user_secret",
        "user_resource",
        "interactive_session",
        "audit_log",
        "user_",
        "resource",
    ):
        op.drop_table(table)
