"""SQLAlchemy 2 models of REANA 0.9's tables, plus secrets, sharing, run and session handles.

The same models run on PostgreSQL and SQLite: UUIDs use the portable ``Uuid``
type, JSON the portable ``JSON`` type, and enums are stored by member *name*
(as REANA does) in plain strings, so migrations stay simple on both.

Status changes never assign ``Workflow.status`` directly: they go through
:func:`reana_db.status.set_workflow_status`, which checks the transition table.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    insert,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from reana_db.enums import (
    AccessType,
    AuditLogAction,
    InteractiveSessionType,
    JobStatus,
    ResourceType,
    ResourceUnit,
    RunStatus,
    SecretType,
    UserTokenStatus,
    UserTokenType,
    WorkspaceRetentionRuleStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC now (REANA's wire format has no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_cls, **kwargs):
    """An enum stored by member name in a plain string column (portable)."""
    return mapped_column(
        Enum(enum_cls, native_enum=False, create_constraint=False, length=32),
        **kwargs,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamp:
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class User(Timestamp, Base):
    __tablename__ = "user_"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    full_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(Text)
    """A local account's password (werkzeug's salted scrypt hash); None: token sign-in only."""

    tokens: Mapped[list[UserToken]] = relationship(back_populates="user")
    workflows: Mapped[list[Workflow]] = relationship(back_populates="owner")
    resources: Mapped[list[UserResource]] = relationship(back_populates="user")
    secrets: Mapped[list[UserSecret]] = relationship(back_populates="user")

    @property
    def active_token(self) -> UserToken | None:
        for token in self.tokens:
            if token.status == UserTokenStatus.active:
                return token
        return None


class UserToken(Timestamp, Base):
    """An access token: looked up by keyed digest, shown back decrypted."""

    __tablename__ = "user_token"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[UserTokenStatus] = enum_column(UserTokenStatus, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    type_: Mapped[UserTokenType] = enum_column(
        UserTokenType, nullable=False, default=UserTokenType.reana
    )

    user: Mapped[User] = relationship(back_populates="tokens")


class Workflow(Timestamp, Base):
    __tablename__ = "workflow"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", "run_number_major", "run_number_minor"),
        Index("ix_workflow_owner_created", "owner_id", "created"),
        Index("ix_workflow_owner_status", "owner_id", "status"),
    )

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[RunStatus] = enum_column(
        RunStatus, nullable=False, default=RunStatus.created, index=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    reana_specification: Mapped[dict | None] = mapped_column(JSON)
    input_parameters: Mapped[dict | None] = mapped_column(JSON)
    operational_options: Mapped[dict | None] = mapped_column(JSON)
    complexity: Mapped[list | None] = mapped_column(JSON, default=list)
    type_: Mapped[str] = mapped_column(String(30), nullable=False)
    logs: Mapped[str | None] = mapped_column(Text, default="")
    run_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    run_finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    run_stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    """When the run last became ``queued`` (our addition: scheduling latency metrics)."""
    pending_at: Mapped[datetime | None] = mapped_column(DateTime)
    """When the run last became ``pending`` (our addition: scheduling latency metrics)."""
    run_number_major: Mapped[int] = mapped_column(Integer, nullable=False)
    run_number_minor: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    job_progress: Mapped[dict | None] = mapped_column(JSON, default=dict)
    workspace_path: Mapped[str | None] = mapped_column(Text)
    restart: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    engine_specific: Mapped[dict | None] = mapped_column(JSON)
    git_ref: Mapped[str | None] = mapped_column(String(40))
    git_repo: Mapped[str | None] = mapped_column(String(255))
    git_provider: Mapped[str | None] = mapped_column(String(255))
    launcher_url: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    owner: Mapped[User] = relationship(back_populates="workflows")
    jobs: Mapped[list[Job]] = relationship(
        back_populates="workflow", order_by="Job.created", passive_deletes=True
    )
    retention_rules: Mapped[list[WorkspaceRetentionRule]] = relationship(
        back_populates="workflow"
    )
    resources: Mapped[list[WorkflowResource]] = relationship(back_populates="workflow")
    handle: Mapped[RunHandle | None] = relationship(back_populates="workflow", uselist=False)
    wes_request: Mapped[WesRunRequest | None] = relationship(
        back_populates="workflow", uselist=False, passive_deletes=True
    )

    @property
    def run_number(self) -> str:
        """``"N"`` or ``"N.M"`` (minor shown only when it is not zero)."""
        if self.run_number_minor:
            return f"{self.run_number_major}.{self.run_number_minor}"
        return str(self.run_number_major)

    @property
    def full_name(self) -> str:
        """``name.N`` or ``name.N.M``, as shown everywhere in the API."""
        return f"{self.name}.{self.run_number}"


class Job(Timestamp, Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_workflow_uuid_created", "workflow_uuid", "created"),)

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    backend_job_id: Mapped[str | None] = mapped_column(String(256))
    workflow_uuid: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[JobStatus] = enum_column(JobStatus, nullable=False, default=JobStatus.created)
    compute_backend: Mapped[str | None] = mapped_column(String(30))
    cvmfs_mounts: Mapped[str | None] = mapped_column(Text)
    shared_file_system: Mapped[bool] = mapped_column(Boolean, default=True)
    docker_img: Mapped[str | None] = mapped_column(String(256))
    cmd: Mapped[str | None] = mapped_column(Text)
    env_vars: Mapped[dict | None] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    logs: Mapped[str | None] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    prettified_cmd: Mapped[str | None] = mapped_column(Text)
    job_name: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    spec: Mapped[dict | None] = mapped_column(JSON)
    """The whole job request, so a restarted job controller can follow the job."""

    workflow: Mapped[Workflow] = relationship(back_populates="jobs")


class JobProvenance(Base):
    """What one job ran and touched (issue 19; our addition): written once, when the job ended.

    ``inputs``/``outputs`` are ``[{"path", "sha256", "size"}]`` relative to the workspace:
    the declared inputs present when the job started and the files it created or changed;
    ``outputs_during`` the files changed while other jobs of the run ran too (``"jobs"``: their
    ids), which no one of them can be credited with for certain.
    ``cache_key`` digests the image, the command and the environment: jobs sharing it are the
    cache candidates of each other (their inputs are compared file by file).
    """

    __tablename__ = "job_provenance"
    __table_args__ = (
        Index("ix_job_provenance_owner_cache_key", "owner_id", "cache_key"),
        Index("ix_job_provenance_workflow_uuid", "workflow_uuid"),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("job.id_", ondelete="CASCADE"), primary_key=True
    )
    workflow_uuid: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), nullable=False
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    job_name: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(256))
    image_digest: Mapped[str | None] = mapped_column(String(256))
    command: Mapped[str | None] = mapped_column(Text)
    compute_backend: Mapped[str | None] = mapped_column(String(30))
    runtime: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str | None] = mapped_column(String(255))
    parameters: Mapped[dict | None] = mapped_column(JSON)
    inputs: Mapped[list | None] = mapped_column(JSON)
    outputs: Mapped[list | None] = mapped_column(JSON)
    outputs_during: Mapped[list | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[JobStatus] = enum_column(JobStatus, nullable=False)
    cached: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    cached_from: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    overhead_ms: Mapped[float | None] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


def _lz4_available(_ddl, _target, bind, **_kw) -> bool:
    return bind.dialect.server_version_info >= (14,) and bool(bind.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
        " WHERE name = 'default_toast_compression'").scalar())


# As migration a3f9c1d7e2b4 does (its docstring says why), for tables made by create_all.
event.listen(JobProvenance.__table__, "after_create", DDL(
    "ALTER TABLE job_provenance " + ", ".join(
        f"ALTER COLUMN {column} SET COMPRESSION lz4"
        for column in ("parameters", "inputs", "outputs", "outputs_during"))
).execute_if(dialect="postgresql", callable_=_lz4_available))


class JobCache(Timestamp, Base):
    __tablename__ = "job_cache"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("job.id_", ondelete="CASCADE"))
    parameters: Mapped[str | None] = mapped_column(String(1024))
    result_path: Mapped[str | None] = mapped_column(String(1024))
    workspace_hash: Mapped[str | None] = mapped_column(String(1024))
    access_times: Mapped[dict | None] = mapped_column(JSON)


class AuditLog(Timestamp, Base):
    __tablename__ = "audit_log"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    action: Mapped[AuditLogAction] = enum_column(AuditLogAction, nullable=False)
    details: Mapped[dict | None] = mapped_column(JSON)


class WorkspaceRetentionRule(Timestamp, Base):
    __tablename__ = "workspace_retention_rule"
    __table_args__ = (
        UniqueConstraint("workflow_id", "workspace_files"),
        Index("ix_workspace_retention_rule_status_apply_on", "status", "apply_on"),
    )

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), nullable=False
    )
    workspace_files: Mapped[str] = mapped_column(String(255), nullable=False)
    retention_days: Mapped[int] = mapped_column(Integer, nullable=False)
    apply_on: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[WorkspaceRetentionRuleStatus] = enum_column(
        WorkspaceRetentionRuleStatus,
        nullable=False,
        default=WorkspaceRetentionRuleStatus.created,
    )

    workflow: Mapped[Workflow] = relationship(back_populates="retention_rules")


class WorkspaceRetentionAuditLog(Base):
    __tablename__ = "workspace_retention_audit_log"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace_retention_rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace_retention_rule.id_", ondelete="CASCADE"), nullable=False
    )
    timestamp: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    action: Mapped[WorkspaceRetentionRuleStatus] = enum_column(
        WorkspaceRetentionRuleStatus, nullable=False
    )


class Resource(Timestamp, Base):
    __tablename__ = "resource"

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(1024), unique=True, nullable=False)
    type_: Mapped[ResourceType] = enum_column(ResourceType, nullable=False)
    unit: Mapped[ResourceUnit] = enum_column(ResourceUnit, nullable=False)
    title: Mapped[str | None] = mapped_column(String(1024))


class UserResource(Timestamp, Base):
    __tablename__ = "user_resource"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), primary_key=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resource.id_"), primary_key=True)
    quota_limit: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    quota_used: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    user: Mapped[User] = relationship(back_populates="resources")
    resource: Mapped[Resource] = relationship()


class WorkflowResource(Timestamp, Base):
    __tablename__ = "workflow_resource"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resource.id_"), primary_key=True)
    quota_used: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    workflow: Mapped[Workflow] = relationship(back_populates="resources")
    resource: Mapped[Resource] = relationship()


class InteractiveSession(Timestamp, Base):
    __tablename__ = "interactive_session"
    __table_args__ = (UniqueConstraint("name", "path"),)

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RunStatus] = enum_column(RunStatus, nullable=False, default=RunStatus.created)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"))
    type_: Mapped[InteractiveSessionType] = enum_column(InteractiveSessionType, nullable=False)


class WorkflowSession(Base):
    __tablename__ = "workflow_session"

    workflow_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE")
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactive_session.id_", ondelete="CASCADE"), primary_key=True
    )


class SessionHandle(Base):
    """An interactive session's runtime side and its history (our addition).

    REANA's ``interactive_session`` row (with its ``workflow_session`` link) exists
    while the session is open and is deleted when it closes, as in REANA; this row
    has the same id and stays: where the session runs (``runtime``, the session
    manager's ``handle``: processes and socket, or Kubernetes objects), the secret
    its Jupyter server accepts (encrypted with ``REANA_SECRET_KEY``, erased at close),
    and when it started and closed, which the CPU quota counts like a job's wall time.
    """

    __tablename__ = "session_handle"
    __table_args__ = (Index("ix_session_handle_workflow_id_closed_at", "workflow_id",
                            "closed_at"),)

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), nullable=False
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    type_: Mapped[InteractiveSessionType] = enum_column(InteractiveSessionType, nullable=False)
    runtime: Mapped[str] = mapped_column(String(30), nullable=False)
    handle: Mapped[dict | None] = mapped_column(JSON)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(256))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)


class UserSecret(Timestamp, Base):
    """A user secret, encrypted with ``REANA_SECRET_KEY`` (REANA keeps these in k8s)."""

    __tablename__ = "user_secret"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id_: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type_: Mapped[SecretType] = enum_column(SecretType, nullable=False)
    value_encrypted: Mapped[str] = mapped_column(Text, nullable=False)

    user: Mapped[User] = relationship(back_populates="secrets")


class UserWorkflow(Timestamp, Base):
    """Workflow sharing (REANA 0.95's ``user_workflow``)."""

    __tablename__ = "user_workflow"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_.id_"), primary_key=True)
    access_type: Mapped[AccessType] = enum_column(
        AccessType, nullable=False, default=AccessType.read
    )
    message: Mapped[str | None] = mapped_column(String(5000))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)


class RunHandle(Timestamp, Base):
    """Where a run lives on its runtime (our addition, for stop and the reconciler).

    ``runtime`` names the run manager (``local``, ``kubernetes``); ``handle`` is
    that manager's own description (process ids, Job name, ...), written only by
    the start; ``job_controller_url`` is where the run's engine reaches its job
    controller. ``status_seq`` is the job-status consumer's: the sequence numbers
    of the run's status messages applied so far (``{"floor": n, "above": [...]}``).
    ``attempt`` numbers the start attempts of the run's processes: messages of an
    earlier attempt are ignored.
    """

    __tablename__ = "run_handle"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), primary_key=True
    )
    runtime: Mapped[str] = mapped_column(String(30), nullable=False)
    handle: Mapped[dict | None] = mapped_column(JSON)
    job_controller_url: Mapped[str | None] = mapped_column(Text)
    status_seq: Mapped[dict | None] = mapped_column(JSON)
    attempt: Mapped[int | None] = mapped_column(Integer)

    workflow: Mapped[Workflow] = relationship(back_populates="handle")


class WesRunRequest(Timestamp, Base):
    """The GA4GH WES RunRequest a run was submitted with (our addition, for WES answers).

    A WES run is an ordinary run of its user; this row only keeps what WES
    echoes back and REANA has no column for: the request as sent (workflow
    type and version, URL, parameters, engine parameters) and its ``tags``.
    """

    __tablename__ = "wes_run_request"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow.id_", ondelete="CASCADE"), primary_key=True
    )
    request: Mapped[dict] = mapped_column(JSON, nullable=False)

    workflow: Mapped[Workflow] = relationship(back_populates="wes_request")


class RateLimitWindow(Base):
    """A fixed window of the API rate limiter (our addition; reana-server's storage).

    One row per limited key (a user, a client address) and limit: how many
    requests it made in the window that ends at ``expires_at`` (epoch seconds).
    Shared by every gunicorn worker of every reana-server (docs/adr/0027).
    """

    __tablename__ = "rate_limit_window"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


def _audit_retention_rule(connection, rule: WorkspaceRetentionRule) -> None:
    connection.execute(
        insert(WorkspaceRetentionAuditLog.__table__).values(
            id_=uuid.uuid4(),
            workspace_retention_rule_id=rule.id_,
            timestamp=utcnow(),
            action=WorkspaceRetentionRuleStatus(rule.status).name,
        )
    )


@event.listens_for(WorkspaceRetentionRule, "after_insert")
def _audit_rule_insert(_mapper, connection, rule) -> None:
    """Every new retention rule gets an audit row (REANA's listener)."""
    _audit_retention_rule(connection, rule)


@event.listens_for(WorkspaceRetentionRule, "after_update")
def _audit_rule_update(_mapper, connection, rule) -> None:
    """Every status change of a retention rule gets an audit row."""
    if inspect(rule).attrs.status.history.has_changes():
        _audit_retention_rule(connection, rule)
