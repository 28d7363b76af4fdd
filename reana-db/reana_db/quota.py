"""Quota accounting: CPU (run wall time in ms) and disk (workspace bytes).

* CPU of a run = ``(run_finished_at or run_stopped_at) - run_started_at`` in
  milliseconds (wall time, as REANA measures it), plus the wall time of its closed
  interactive sessions (:mod:`reana_db.sessions`), counted like a job's; a user's
  CPU is the sum over their runs.
* Disk of a run = the *apparent* size of the regular files of its workspace,
  walked with ``lstat`` (symlinks are never followed nor counted, hard links
  are counted once). We chose apparent bytes over ``du``'s allocated blocks so
  that the number is the same on every filesystem and agrees with the
  incremental updates (an upload adds exactly its length). A user's disk is
  ``SUM(MAX(quota_used)) GROUP BY workspace_path``: restarts share their
  workspace, which is therefore counted once.

Writers commit nothing: the caller's transaction holds the changes.
"""

from __future__ import annotations

import os
import stat
import uuid
from datetime import datetime
from pathlib import Path

from reana_commons.config import get_config
from sqlalchemy import String, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from reana_db.enums import QuotaHealth, ResourceType, RunStatus
from reana_db.models import Resource, User, UserResource, Workflow, WorkflowResource, utcnow
from reana_db.sessions import run_sessions_milliseconds, sessions_milliseconds
from reana_db.units import human_readable_bytes, human_readable_milliseconds
from reana_db.users import ensure_default_resources

RESOURCES_KEY = "reana_db.quota.resources"
"""Key of ``Session.info`` caching the resource rows."""
WARNING_THRESHOLD = 80
CRITICAL_THRESHOLD = 100


# -- measuring ---------------------------------------------------------------


def _wall_time_ms(started: datetime | None, ended: datetime | None) -> int:
    if started is None or ended is None:
        return 0
    return max(int((ended - started).total_seconds() * 1000), 0)


def workflow_cpu_milliseconds(workflow: Workflow) -> int:
    """Wall time of the run in ms (0 while it has no start or no end)."""
    ended = workflow.run_finished_at or workflow.run_stopped_at
    return _wall_time_ms(workflow.run_started_at, ended)


def absolute_workspace(workspace_path: str | None) -> Path | None:
    if not workspace_path:
        return None
    path = Path(workspace_path)
    return path if path.is_absolute() else get_config().shared_volume_path / path


def workspace_path_of(workflow: Workflow) -> Path | None:
    """The run's workspace as an absolute path (relative ones live under the shared volume)."""
    return absolute_workspace(workflow.workspace_path)


def directory_size(path: str | os.PathLike | None) -> int:
    """Apparent bytes of the regular files under ``path`` (0 if it does not exist)."""
    if path is None:
        return 0
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [os.fspath(path)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
                elif stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_size
    return total


# -- writing -----------------------------------------------------------------


def _resource(session: Session, type_: ResourceType) -> Resource:
    """The CPU or disk resource row, looked up once per session (they never change)."""
    cached = session.info.get(RESOURCES_KEY)
    if cached is None:
        found = {r.type_: r for r in session.scalars(select(Resource))}
        if len(found) < len(ResourceType):
            return ensure_default_resources(session)[type_]  # not cached: may be rolled back
        cached = session.info[RESOURCES_KEY] = found
    return cached[type_]


def _upsert_workflow_usage(
    session: Session, workflow_id: uuid.UUID, resource: Resource, value: int, delta: int | None
) -> None:
    """Insert or update one ``workflow_resource`` row atomically (concurrent writers are safe).

    With ``delta`` the stored value grows by it (clamped at 0); else it becomes ``value``.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    greatest = func.greatest if dialect == "postgresql" else func.max
    table = WorkflowResource.__table__
    now = utcnow()
    statement = insert(table).values(
        workflow_id=workflow_id, resource_id=resource.id_, quota_used=value, created=now,
        updated=now,
    )  # fmt: skip
    new_value = statement.excluded.quota_used
    if delta is not None:
        new_value = greatest(table.c.quota_used + delta, 0)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.workflow_id, table.c.resource_id],
            set_={"quota_used": new_value, "updated": now},
        )
    )


def _set_workflow_usage(
    session: Session, workflow_id: uuid.UUID, resource: Resource, value: int
) -> None:
    _upsert_workflow_usage(session, workflow_id, resource, value, None)


def _user_resource(session: Session, user_id: uuid.UUID, resource: Resource) -> UserResource:
    row = session.get(UserResource, (user_id, resource.id_))
    if row is None:
        limits = {
            ResourceType.cpu: get_config().default_quota_cpu_limit,
            ResourceType.disk: get_config().default_quota_disk_limit,
        }
        row = UserResource(
            user_id=user_id,
            resource_id=resource.id_,
            quota_limit=limits[resource.type_],
            quota_used=0,
        )
        session.add(row)
    return row


def update_workflow_cpu(session: Session, workflow: Workflow) -> int:
    """Store the run's CPU ms (with its closed sessions') in ``workflow_resource``; returns it."""
    value = workflow_cpu_milliseconds(workflow) + run_sessions_milliseconds(session, workflow.id_)
    _set_workflow_usage(session, workflow.id_, _resource(session, ResourceType.cpu), value)
    session.flush()
    return value


def update_workspace_disk(session: Session, workflow: Workflow) -> int:
    """Measure the run's workspace and store it for every run sharing it; returns it."""
    value = directory_size(workspace_path_of(workflow))
    _store_workspace_disk(session, workflow, value)
    return value


def _workspace_siblings(session: Session, workflow: Workflow) -> list[uuid.UUID]:
    if not workflow.workspace_path:
        return [workflow.id_]
    ids = set(
        session.scalars(
            select(Workflow.id_).where(
                Workflow.owner_id == workflow.owner_id,
                Workflow.workspace_path == workflow.workspace_path,
            )
        )
    )
    ids.add(workflow.id_)
    return sorted(ids)


def _store_workspace_disk(session: Session, workflow: Workflow, value: int) -> None:
    resource = _resource(session, ResourceType.disk)
    for workflow_id in _workspace_siblings(session, workflow):
        _set_workflow_usage(session, workflow_id, resource, value)
    session.flush()


def update_user_cpu(session: Session, user_id: uuid.UUID) -> int:
    """Recompute the user's CPU as the sum over their runs; returns it."""
    resource = _resource(session, ResourceType.cpu)
    total = session.scalar(
        select(func.coalesce(func.sum(WorkflowResource.quota_used), 0))
        .join(Workflow, Workflow.id_ == WorkflowResource.workflow_id)
        .where(Workflow.owner_id == user_id, WorkflowResource.resource_id == resource.id_)
    )
    _user_resource(session, user_id, resource).quota_used = int(total or 0)
    session.flush()
    return int(total or 0)


def update_user_disk(session: Session, user_id: uuid.UUID) -> int:
    """Recompute the user's disk: each workspace once (its largest record); returns it."""
    resource = _resource(session, ResourceType.disk)
    per_workspace = (
        select(func.max(WorkflowResource.quota_used).label("used"))
        .join(Workflow, Workflow.id_ == WorkflowResource.workflow_id)
        .where(Workflow.owner_id == user_id, WorkflowResource.resource_id == resource.id_)
        .group_by(func.coalesce(Workflow.workspace_path, cast(Workflow.id_, String)))
        .subquery()
    )
    total = int(session.scalar(select(func.coalesce(func.sum(per_workspace.c.used), 0))) or 0)
    _user_resource(session, user_id, resource).quota_used = total
    session.flush()
    return total


def refresh_disk_usage(session: Session, workflow: Workflow) -> int:
    """Measure the run's workspace again and update its owner's disk; returns the bytes.

    The walk comes first; then the owner's total is locked before the usage rows
    are written (the disk writers' one lock order, :func:`reana_db.disk_measurement.record`).
    """
    value = directory_size(workspace_path_of(workflow))
    _locked_user_resource(session, workflow.owner_id, _resource(session, ResourceType.disk))
    _store_workspace_disk(session, workflow, value)
    update_user_disk(session, workflow.owner_id)
    return value


def add_disk_usage(
    session: Session, workflow: Workflow, delta_bytes: int, force: bool = False
) -> int:
    """Add ``delta_bytes`` (negative when freeing) to the run's workspace usage, clamped at 0.

    Skipped (returns -1) unless ``disk`` is in the termination quota policy or
    ``force`` is set. Returns the workspace's new usage.
    """
    if not force and "disk" not in get_config().workflow_termination_quota_update_policy:
        return -1
    resource = _resource(session, ResourceType.disk)
    # The owner's total first, then the usage rows: every disk writer's lock order.
    _locked_user_resource(session, workflow.owner_id, resource)
    siblings = _workspace_siblings(session, workflow)
    current = session.scalar(
        select(func.coalesce(func.max(WorkflowResource.quota_used), 0)).where(
            WorkflowResource.resource_id == resource.id_,
            WorkflowResource.workflow_id.in_(siblings),
        )
    )
    start = max(int(current or 0) + int(delta_bytes), 0)
    for workflow_id in siblings:
        # the increment happens in SQL, so concurrent uploads do not lose each other's bytes
        _upsert_workflow_usage(session, workflow_id, resource, start, int(delta_bytes))
    update_user_disk(session, workflow.owner_id)
    return workflow_usage_of(session, workflow, ResourceType.disk)


def update_on_termination(session: Session, workflow: Workflow, status: RunStatus) -> bool:
    """Account an ended run, as the termination policy says (called by the status machine).

    finished / failed / stopped → CPU now, and ``True``: the disk is to be
    measured once the transaction commits (the caller asks
    :mod:`reana_db.disk_measurement`: the workspace is walked outside every
    lock); deleted → the run's workspace counts 0, always, for every run sharing
    it: deleting a run removes its workspace (the caller may do so after
    committing the status). Call :func:`refresh_disk_usage` to measure again if
    a workspace is kept.

    The owner's totals change by this run's difference only (the old and new
    values of its own rows), so ending a run costs the same whether its owner
    has ten runs or a hundred thousand; ``reana-db quota-updater``
    (:func:`update_all_usage`) recomputes everything from scratch.
    """
    status = RunStatus(status)
    policy = get_config().workflow_termination_quota_update_policy
    if status == RunStatus.deleted:
        account_workspace_disk(session, workflow, 0)
        return False
    if "cpu" in policy:
        _account_cpu(session, workflow)
    return "disk" in policy


def _account_cpu(session: Session, workflow: Workflow) -> None:
    resource = _resource(session, ResourceType.cpu)
    total = _locked_user_resource(session, workflow.owner_id, resource)
    old = _stored_usage(session, [workflow.id_], resource)
    new = update_workflow_cpu(session, workflow)
    _add_to_total(session, total, new - old, lambda: update_user_cpu(session, workflow.owner_id))


def account_session_cpu(session: Session, workflow: Workflow) -> None:
    """Count a just closed interactive session of ``workflow`` in its CPU, as the termination
    policy says for runs (``cpu``): the run's usage and its owner's total grow by it."""
    if "cpu" in get_config().workflow_termination_quota_update_policy:
        _account_cpu(session, workflow)


def account_workspace_disk(session: Session, workflow: Workflow, value: int) -> None:
    """Record ``value`` bytes for the run's workspace and move the owner's total by the change.

    The owner's disk counts each workspace once, at its largest record; every
    run sharing it gets ``value``, so the workspace's share goes from the old
    largest record to ``value``.
    """
    resource = _resource(session, ResourceType.disk)
    total = _locked_user_resource(session, workflow.owner_id, resource)
    siblings = _workspace_siblings(session, workflow)
    old = _stored_usage(session, siblings, resource)
    for workflow_id in siblings:
        _set_workflow_usage(session, workflow_id, resource, value)
    session.flush()
    _add_to_total(
        session, total, value - old, lambda: update_user_disk(session, workflow.owner_id)
    )


def disk_recorded_since(session: Session, run_id: uuid.UUID, since: datetime) -> bool:
    """Whether the run's workspace size was recorded after ``since``."""
    updated = session.scalar(
        select(WorkflowResource.updated).where(
            WorkflowResource.workflow_id == run_id,
            WorkflowResource.resource_id == _resource(session, ResourceType.disk).id_,
        )
    )
    return updated is not None and updated > since


def _locked_user_resource(
    session: Session, user_id: uuid.UUID, resource: Resource
) -> UserResource | None:
    """The owner's total, fresh and locked until commit: concurrent run ends add up.

    ``None`` when the user has no row yet (its total is then computed in full).
    On SQLite the status writer already holds the database's write lock.
    """
    return session.get(
        UserResource,
        (user_id, resource.id_),
        with_for_update=True,
        populate_existing=True,
    )


def _lock_all_totals(session: Session) -> None:
    """Every user's totals, locked until commit (one order: user, then resource)."""
    if session.get_bind().dialect.name == "sqlite":
        return  # its first write takes the database's lock
    session.execute(
        select(UserResource.user_id)
        .order_by(UserResource.user_id, UserResource.resource_id)
        .with_for_update()
    ).all()


def _stored_usage(session: Session, workflow_ids: list[uuid.UUID], resource: Resource) -> int:
    """The largest recorded value among these runs (0 when none was recorded)."""
    value = session.scalar(
        select(func.max(WorkflowResource.quota_used)).where(
            WorkflowResource.resource_id == resource.id_,
            WorkflowResource.workflow_id.in_(workflow_ids),
        )
    )
    return int(value or 0)


def _add_to_total(session: Session, total: UserResource | None, delta: int, recompute) -> None:
    """Move the owner's total by ``delta`` (clamped at 0), or ``recompute()`` it if it has none."""
    if total is None:
        recompute()
        return
    total.quota_used = max(int(total.quota_used or 0) + int(delta), 0)
    session.flush()


def update_all_usage(session: Session) -> int:
    """Recompute every run's CPU and disk, then every user's totals; returns the run count.

    Only the columns needed are loaded (no logs or specifications), a
    workspace shared by restarts is walked once, and deleted runs count no disk.
    """
    resources = ensure_default_resources(session)
    rows = session.execute(
        select(
            Workflow.id_,
            Workflow.workspace_path,
            Workflow.run_started_at,
            Workflow.run_finished_at,
            Workflow.run_stopped_at,
            Workflow.status,
        )
    ).all()
    existing = {
        (r.workflow_id, r.resource_id): r for r in session.scalars(select(WorkflowResource))
    }
    session_ms = sessions_milliseconds(session)
    sizes: dict[Path, int] = {}
    for row in rows:
        path = absolute_workspace(row.workspace_path)
        if path is not None and path not in sizes and row.status != RunStatus.deleted:
            sizes[path] = directory_size(path)
        values = {
            ResourceType.cpu: _wall_time_ms(
                row.run_started_at, row.run_finished_at or row.run_stopped_at
            ) + session_ms.get(row.id_, 0),
            ResourceType.disk: 0
            if path is None or row.status == RunStatus.deleted
            else sizes[path],
        }
        for type_, value in values.items():
            key = (row.id_, resources[type_].id_)
            if key in existing:
                existing[key].quota_used = value
            else:
                session.add(
                    WorkflowResource(
                        workflow_id=row.id_, resource_id=resources[type_].id_, quota_used=value
                    )
                )
    with session.no_autoflush:  # the totals before the usage rows: the writers' lock order
        _lock_all_totals(session)
    session.flush()
    for user_id in session.scalars(select(User.id_)).all():
        update_user_cpu(session, user_id)
        update_user_disk(session, user_id)
    return len(rows)


# -- reading -----------------------------------------------------------------


def workflow_usage_of(session: Session, workflow: Workflow, resource_type: ResourceType) -> int:
    """The recorded CPU ms or disk bytes of one run (0 when never measured)."""
    value = session.scalar(
        select(WorkflowResource.quota_used).where(
            WorkflowResource.workflow_id == workflow.id_,
            WorkflowResource.resource_id == _resource(session, resource_type).id_,
        )
    )
    return int(value or 0)


def quota_health(used: int, limit: int) -> QuotaHealth:
    """healthy below 80 % of the limit, warning from 80 %, critical from 100 %."""
    if limit <= 0:
        return QuotaHealth.healthy
    percentage = used * 100 / limit
    if percentage >= CRITICAL_THRESHOLD:
        return QuotaHealth.critical
    if percentage >= WARNING_THRESHOLD:
        return QuotaHealth.warning
    return QuotaHealth.healthy


def _human(type_: ResourceType, value: int) -> str:
    if type_ == ResourceType.cpu:
        return human_readable_milliseconds(value)
    return human_readable_bytes(value)


def _user_rows(session: Session, user: User) -> list[tuple[Resource, UserResource]]:
    resources = ensure_default_resources(session)
    return [(r, _user_resource(session, user.id_, r)) for r in resources.values()]


def get_user_quota(session: Session, user: User) -> dict:
    """The user's quota as ``/api/you`` shows it.

    ``{"cpu": {"usage": {"raw", "human_readable"}, "limit": {...}, "health": ...},
    "disk": {...}}``; ``limit.raw`` is 0 when unlimited (clients print "No limit.").
    """
    quota = {}
    for resource, row in sorted(_user_rows(session, user), key=lambda p: p[0].type_):
        type_ = ResourceType(resource.type_)
        used, limit = int(row.quota_used or 0), int(row.quota_limit or 0)
        quota[type_.name] = {
            "usage": {"raw": used, "human_readable": _human(type_, used)},
            "limit": {"raw": limit, "human_readable": _human(type_, limit)},
            "health": quota_health(used, limit).name,
        }
    return quota


def has_exceeded_quota(session: Session, user: User) -> tuple[bool, str]:
    """Whether any limited resource is used up, with a message naming them."""
    exceeded = []
    for resource, row in sorted(_user_rows(session, user), key=lambda p: p[0].type_):
        type_ = ResourceType(resource.type_)
        if row.quota_limit and row.quota_used >= row.quota_limit:
            exceeded.append(
                f"{type_.name} {_human(type_, row.quota_used)} used out of "
                f"{_human(type_, row.quota_limit)}"
            )
    if not exceeded:
        return False, ""
    return True, "User quota exceeded: " + "; ".join(exceeded) + "."


def set_quota_limit(
    session: Session, user: User, resource_type: ResourceType | str, limit: int
) -> UserResource:
    """Set the user's limit for ``cpu`` (ms) or ``disk`` (bytes); 0 means unlimited."""
    if isinstance(resource_type, str):
        try:
            resource_type = ResourceType[resource_type]
        except KeyError:
            raise ValueError(f"Unknown resource type {resource_type!r}.") from None
    if int(limit) < 0:
        raise ValueError("A quota limit cannot be negative.")
    row = _user_resource(session, user.id_, _resource(session, ResourceType(resource_type)))
    row.quota_limit = int(limit)
    session.flush()
    return row
