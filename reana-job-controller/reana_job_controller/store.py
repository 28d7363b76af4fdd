"""The job rows of one run, read and written with short database sessions.

The job controller lives as long as its run, so it must not hold a database
connection while jobs merely run (REANA reana#819): connections are pooled
while the controller is busy and closed by :meth:`JobStore.release_if_idle`,
which the monitor calls, once nothing used the database for a few seconds.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

from reana_commons.config import get_config
from reana_db.database import build_engine
from reana_db.enums import JobStatus, ResourceType, RunStatus
from reana_db.models import Job, JobProvenance, UserSecret, Workflow, utcnow
from reana_db.status import set_job_status
from sqlalchemy import JSON, bindparam, case, create_engine, insert, select, update
from sqlalchemy.orm import sessionmaker

from reana_job_controller.job_managers.base import BackendState, JobRecord

APPLICATION_NAME = "reana-job-controller"
"""How the job controller's PostgreSQL sessions show in ``pg_stat_activity``."""
IDLE_RELEASE_SECONDS = 5.0
"""Pooled connections are closed after this long without job activity."""
_TERMINAL = sorted(JobStatus.terminal())

# Built once: a statement's cache key (and its types' keys) is then computed once, not per job.
_INSERT_JOB = insert(Job)
_ENDED = Job.status.in_(_TERMINAL)
# The backend id is always recorded: a job can end (a Kubernetes watch event) before its
# submission call returns; its status and times are then the end's, and stay.
_RECORD_SUBMISSION = (
    update(Job)
    .where(Job.id_ == bindparam("job_id"))
    .values(backend_job_id=bindparam("backend_job_id"),
            status=case((_ENDED, Job.status),
                        else_=bindparam("status", type_=Job.status.type)),
            started_at=case((_ENDED, Job.started_at),
                            else_=bindparam("started_at", type_=Job.started_at.type)),
            finished_at=case((_ENDED, Job.finished_at),
                             else_=bindparam("finished_at", type_=Job.finished_at.type)))
)
_FINISH = (
    update(Job)
    .where(Job.id_ == bindparam("job_id"), Job.status.not_in(_TERMINAL))
    .values(status=bindparam("status"), exit_code=bindparam("exit_code"),
            logs=bindparam("logs"), started_at=bindparam("started_at"),
            finished_at=bindparam("finished_at"))
)


_json_text = json.JSONEncoder(check_circular=False).encode
"""``json.dumps``'s text without its check for cycles (a row's values have none): 0.3 ms of
CPU less on the digest lists of a job touching 100 files."""


class _DirectInsert:
    """An INSERT of every column of a table, compiled once for an engine and sent on a pooled
    DBAPI connection with the values bound by the columns' own types.

    SQLAlchemy's per-statement machinery (a ``Connection``, an execution context, the
    compiled-cache lookup, a result) costs 0.4 ms of CPU here: a tenth of a job's provenance
    overhead, whose row is written before the job's end is announced.
    """

    def __init__(self, table, engine):
        compiled = insert(table).compile(dialect=engine.dialect)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.processors = []
        for column in table.columns:
            if isinstance(column.type, JSON) and not column.type.none_as_null:
                processor = _json_text  # what the type's own processor writes, sooner
            else:
                processor = column.type.dialect_impl(engine.dialect).bind_processor(
                    engine.dialect)
            if processor is not None:
                self.processors.append((column.key, processor))
        self.engine = engine

    def execute(self, values: dict) -> None:
        """Insert one row; ``values`` has a value for every column."""
        values = dict(values)
        for key, processor in self.processors:
            values[key] = processor(values[key])
        parameters = tuple(values[name] for name in self.names) if self.names else values
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, parameters)
            cursor.close()
            connection.commit()  # SQLite's connections are not in autocommit mode here
        finally:
            connection.close()  # back to the pool (rolled back if it failed)


def _jobs_query(workflow_uuid: uuid.UUID, alive_only: bool):
    query = select(Job).where(Job.workflow_uuid == workflow_uuid)
    if alive_only:
        query = query.where(Job.status.not_in(_TERMINAL))
    return query.order_by(Job.created)


def _secrets_query(workflow_uuid: uuid.UUID):
    return (
        select(UserSecret)
        .join(Workflow, Workflow.owner_id == UserSecret.user_id)
        .where(Workflow.id_ == workflow_uuid)
        .order_by(UserSecret.name)
    )


def warm_up(database_uri: str | None = None) -> None:
    """Compile every statement of the job controller once, without connecting.

    Creating the engine imports the database driver (psycopg2 and its extras: ~15 ms
    of CPU), and SQLAlchemy fills lazily computed parts of the tables, columns and
    types on a statement's first compilation (~20 ms). The zygote calls this before
    forking, so each run's job controller starts with both done (about half of its
    CPU before this); the compiled statements themselves are cached per engine.
    """
    engine = _engine(database_uri or get_config().database_uri)
    try:
        sample = uuid.uuid4()
        for statement in (_INSERT_JOB, _RECORD_SUBMISSION, _FINISH, _jobs_query(sample, False),
                          _jobs_query(sample, True), _secrets_query(sample),
                          select(Job).where(Job.id_ == sample)):
            statement.compile(dialect=engine.dialect)
    finally:
        engine.dispose()  # it never connected: nothing is shared with the forks


def _engine(uri: str):
    """SQLite: the platform's engine. PostgreSQL: a small pool without pre-ping, and
    ``synchronous_commit=off`` for this process's sessions: a commit then costs no WAL
    flush (8 ms here, three per job); a PostgreSQL *crash* may lose the last fraction of a
    second of job updates (never corrupt them), which the monitor's resync tolerates."""
    if uri.startswith("sqlite"):
        return build_engine(uri).execution_options(isolation_level="AUTOCOMMIT")
    return create_engine(uri, pool_size=2, max_overflow=16, pool_pre_ping=False,
                         isolation_level="AUTOCOMMIT",
                         connect_args={"options": "-c synchronous_commit=off",
                                       "application_name": APPLICATION_NAME})


def _record(row: Job) -> JobRecord:
    return JobRecord(
        id=str(row.id_),
        workflow_uuid=str(row.workflow_uuid),
        status=JobStatus(row.status),
        cmd=row.cmd or "",
        docker_img=row.docker_img or "",
        job_name=row.job_name or "",
        prettified_cmd=row.prettified_cmd or "",
        compute_backend=row.compute_backend or "",
        backend_job_id=row.backend_job_id,
        env_vars=row.env_vars or {},
        cvmfs_mounts=row.cvmfs_mounts or "",
        exit_code=row.exit_code,
        spec=row.spec or {},
        logs=row.logs or "",
        started_at=row.started_at,
        finished_at=row.finished_at,
        created=row.created,
    )


class JobStore:
    """Database access for the jobs of one workflow run."""

    def __init__(self, workflow_uuid: str, database_uri: str | None = None):
        self.workflow_uuid = uuid.UUID(str(workflow_uuid))
        self.engine = _engine(database_uri or get_config().database_uri)
        self._sessions = sessionmaker(bind=self.engine, autoflush=False, expire_on_commit=False)
        self._last_use = time.monotonic()
        self._busy = 0
        self._lock = threading.Lock()
        self._run_info: dict | None = None
        self._insert_provenance: _DirectInsert | None = None

    def _session(self, activity: bool = True):
        with self._lock:
            self._busy += 1
            if activity:
                self._last_use = time.monotonic()
        return _Tracked(self, self._sessions(), activity)

    def _done(self, activity: bool = True):
        with self._lock:
            self._busy -= 1
            if activity:
                self._last_use = time.monotonic()

    def idle_seconds(self) -> float:
        """Seconds since the last job write or API read (the monitor's reads do not count)."""
        with self._lock:
            return time.monotonic() - self._last_use

    def release_if_idle(self, idle_seconds: float = IDLE_RELEASE_SECONDS) -> bool:
        """Close pooled connections when no job activity happened for a while."""
        with self._lock:
            if self._busy or time.monotonic() - self._last_use < idle_seconds:
                return False
            if self.engine.pool.checkedin() == 0:
                return False
            self.engine.dispose()
            return True

    def close(self) -> None:
        self.engine.dispose()

    # --- writes (one autocommitted statement each: the hot path of every job) -------------
    def _execute(self, statement, parameters: dict) -> int:
        with self._lock:
            self._busy += 1
        try:
            with self.engine.connect() as connection:
                return connection.execute(statement, parameters).rowcount
        finally:
            self._done()

    def insert(self, job: JobRecord) -> None:
        """Insert a new job row (status ``created``)."""
        now = utcnow()
        self._execute(_INSERT_JOB, {
            "id_": uuid.UUID(job.id),
            "workflow_uuid": self.workflow_uuid,
            "status": JobStatus.created,
            "compute_backend": job.compute_backend,
            "cvmfs_mounts": job.cvmfs_mounts,
            "shared_file_system": bool(job.spec.get("shared_file_system", True)),
            "docker_img": job.docker_img,
            "cmd": job.cmd,
            "env_vars": job.env_vars,
            "prettified_cmd": job.prettified_cmd,
            "job_name": job.job_name,
            "spec": job.spec,
            "deleted": False,
            "logs": "",
            "created": now,
            "updated": now,
        })

    def record_submission(self, job: JobRecord, status: JobStatus) -> None:
        """Store the backend id of a submitted job and its first status."""
        set_job_status(job, status)
        self._execute(_RECORD_SUBMISSION, {
            "job_id": uuid.UUID(job.id), "backend_job_id": job.backend_job_id,
            "status": job.status, "started_at": job.started_at, "finished_at": job.finished_at,
        })

    def finish(self, job: JobRecord, state: BackendState, logs: str | None) -> bool:
        """Store a job's end (status, exit code, logs); False if it had ended already.

        The transition is :func:`reana_db.status.set_job_status`'s, applied to ``job``;
        the ``WHERE`` keeps a terminal row from ever changing again.
        """
        if job.is_terminal:
            return False
        set_job_status(job, state.status)
        job.exit_code = state.exit_code
        job.logs = logs or ""
        changed = self._execute(_FINISH, {
            "job_id": uuid.UUID(job.id), "status": job.status, "exit_code": job.exit_code,
            "logs": job.logs, "started_at": job.started_at, "finished_at": job.finished_at,
        })
        return changed == 1

    def insert_provenance(self, row: dict) -> None:
        """Store what an ended job ran and touched (one row per job, written once)."""
        if self._insert_provenance is None:
            self._insert_provenance = _DirectInsert(JobProvenance.__table__, self.engine)
        with self._lock:
            self._busy += 1
        try:
            self._insert_provenance.execute({**row, "workflow_uuid": self.workflow_uuid,
                                             "created": utcnow()})
        finally:
            self._done()

    # --- reads -----------------------------------------------------------------------------
    def run_info(self) -> dict:
        """The run's owner and operational options (read once: neither changes during a run)."""
        if self._run_info is None:
            with self._session() as session:
                row = session.get(Workflow, self.workflow_uuid)
                self._run_info = {
                    "owner_id": row.owner_id if row is not None else None,
                    "operational_options": dict(row.operational_options or {}) if row else {},
                }
        return self._run_info

    def cache_candidates(self, owner_id, cache_key: str, limit: int = 5) -> list[dict]:
        """The owner's latest successful jobs with ``cache_key``, with their run's workspace.

        Runs being deleted or deleted are left out; the caller checks every file anyway.
        """
        query = (
            select(JobProvenance, Workflow.workspace_path, Workflow.name,
                   Workflow.run_number_major, Workflow.run_number_minor)
            .join(Workflow, Workflow.id_ == JobProvenance.workflow_uuid)
            .where(JobProvenance.owner_id == owner_id, JobProvenance.cache_key == cache_key,
                   JobProvenance.exit_code == 0, JobProvenance.status == JobStatus.finished,
                   Workflow.status != RunStatus.deleted)
            .order_by(JobProvenance.finished_at.desc())
            .limit(limit)
        )
        with self._session() as session:
            found = []
            for row, workspace, name, major, minor in session.execute(query):
                number = f"{major}.{minor}" if minor else str(major)
                found.append({"job_id": str(row.job_id), "inputs": row.inputs or [],
                              "outputs": row.outputs or [],
                              "outputs_during": row.outputs_during or [],
                              "workspace_path": workspace,
                              "run": f"{name}.{number}"})
            return found

    def job_logs_of(self, job_id) -> str:
        """The stored logs of any job (a cache hit shows its original's output)."""
        with self._session() as session:
            row = session.get(Job, uuid.UUID(str(job_id)))
            return (row.logs or "") if row is not None else ""

    def disk_room(self, owner_id) -> int | None:
        """Bytes the owner may still write under their disk quota (None: unlimited)."""
        from reana_db.models import Resource, UserResource

        query = (select(UserResource.quota_limit, UserResource.quota_used)
                 .join(Resource, Resource.id_ == UserResource.resource_id)
                 .where(UserResource.user_id == owner_id, Resource.type_ == ResourceType.disk))
        with self._session() as session:
            row = session.execute(query).first()
        if row is None or not row[0]:
            return None
        return max(row[0] - row[1], 0)

    def get(self, job_id: str) -> JobRecord | None:
        """The job ``job_id`` of this run, or None."""
        try:
            key = uuid.UUID(str(job_id))
        except ValueError:
            return None
        with self._session() as session:
            row = session.get(Job, key)
            if row is None or row.workflow_uuid != self.workflow_uuid:
                return None
            return _record(row)

    def list(self, alive_only: bool = False, activity: bool = True) -> list[JobRecord]:
        """Jobs of this run in creation order (only non-terminal ones with ``alive_only``).

        ``activity=False`` (the monitor) does not count as use for :meth:`release_if_idle`.
        """
        query = _jobs_query(self.workflow_uuid, alive_only)
        with self._session(activity) as session:
            return [_record(row) for row in session.scalars(query)]

    def owner_secrets(self) -> list[tuple[str, str, bytes]]:
        """``(name, type, value)`` of every secret of the run's owner, decrypted."""
        query = _secrets_query(self.workflow_uuid)
        with self._session() as session:
            rows = [(secret.name, getattr(secret.type_, "value", secret.type_),
                     secret.value_encrypted) for secret in session.scalars(query)]
        if not rows:
            return []
        from reana_db.crypto import decrypt  # cryptography costs 7 MB: only when needed

        return [(name, type_, decrypt(value)) for name, type_, value in rows]


class _Tracked:
    """A session that tells the store when it is done (for the idle release)."""

    def __init__(self, store: JobStore, session, activity: bool = True):
        self.store = store
        self.session = session
        self.activity = activity

    def __enter__(self):
        return self.session

    def __exit__(self, *exc):
        try:
            if exc[0] is not None:
                self.session.rollback()
            self.session.close()
        finally:
            self.store._done(self.activity)
        return False
