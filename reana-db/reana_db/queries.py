"""Workflow listing queries for the API (``GET /api/workflows``).

One ``COUNT`` and one ``LIMIT/OFFSET`` page, both filtered by owner first so
the ``(owner_id, created)`` and ``(owner_id, status)`` indexes carry them; no
query loads every row, and the bulky columns (logs, specification) are
deferred until someone reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, defer

from reana_db.enums import ResourceType, RunStatus
from reana_db.models import (
    Resource,
    User,
    UserWorkflow,
    Workflow,
    WorkflowResource,
    WorkflowSession,
)
from reana_db.run_numbers import parse_uuid, split_run_number
from reana_db.sharing import active, shared_with_condition

SORTS = ("desc", "asc", "disk-desc", "cpu-desc")
TYPES = ("batch", "interactive")
ANYBODY, NOBODY = "anybody", "nobody"
"""Special values of the sharing filters (REANA 0.95's ``list --shared-by/--shared-with``)."""


class InvalidListQuery(ValueError):
    """A sort, type or page that the listing does not know."""


def _as_status(value) -> RunStatus:
    if isinstance(value, str) and not value.isdigit():
        try:
            return RunStatus[value.strip()]
        except KeyError:
            raise InvalidListQuery(f"Unknown status {value!r}.") from None
    return RunStatus(int(value))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _id_or_name_condition(workflow_id_or_name: str):
    as_uuid = parse_uuid(workflow_id_or_name)
    if as_uuid is not None:
        return Workflow.id_ == as_uuid
    name, _, rest = workflow_id_or_name.partition(".")
    numbers = split_run_number(rest) if rest else None
    if numbers is not None:
        return and_(
            Workflow.name == name,
            Workflow.run_number_major == numbers[0],
            Workflow.run_number_minor == numbers[1],
        )
    return Workflow.name == workflow_id_or_name


@dataclass(frozen=True)
class SharingFilter:
    """Which runs a listing covers besides (or instead of) the user's own (REANA 0.95).

    ``shared``: own runs and those shared with the user; ``shared_by``: only runs shared
    with the user, by ``anybody`` or by the owner with that e-mail; ``shared_with``: only
    own runs shared with ``anybody``, with ``nobody``, or with the user with that e-mail.
    """

    shared: bool = False
    shared_by: str | None = None
    shared_with: str | None = None


def _share_exists(*extra):
    return exists().where(UserWorkflow.workflow_id == Workflow.id_, active(), *extra)


def _scope(user_id: uuid.UUID, sharing: SharingFilter | None) -> list:
    """Whose runs the listing covers (the owner condition, as the indexes want it)."""
    own = Workflow.owner_id == user_id
    if sharing is None:
        return [own]
    if sharing.shared_by and sharing.shared_with:
        raise InvalidListQuery("You cannot filter by shared_by and shared_with at the same time.")
    if sharing.shared_with == NOBODY:
        return [own, ~_share_exists()]
    if sharing.shared_with == ANYBODY:
        return [own, _share_exists()]
    if sharing.shared_with:
        email = select(User.id_).where(User.email == sharing.shared_with).scalar_subquery()
        return [own, _share_exists(UserWorkflow.user_id == email)]
    if sharing.shared_by == ANYBODY:
        return [shared_with_condition(user_id)]
    if sharing.shared_by:
        owner = select(User.id_).where(User.email == sharing.shared_by).scalar_subquery()
        return [shared_with_condition(user_id), Workflow.owner_id == owner]
    if sharing.shared:
        return [or_(own, shared_with_condition(user_id))]
    return [own]


def _conditions(
    owner_id: uuid.UUID,
    status_in: Iterable | None,
    search_name: str | None,
    type_: str,
    workflow_id_or_name: str | None,
    sharing: SharingFilter | None = None,
) -> list:
    if type_ not in TYPES:
        raise InvalidListQuery(f"Unknown workflow type {type_!r}.")
    conditions = _scope(owner_id, sharing)
    if status_in is not None:
        conditions.append(Workflow.status.in_(sorted({_as_status(s) for s in status_in})))
    if search_name:
        conditions.append(Workflow.name.ilike(_like_pattern(search_name), escape="\\"))
    if workflow_id_or_name:
        conditions.append(_id_or_name_condition(str(workflow_id_or_name)))
    if type_ == "interactive":
        conditions.append(exists().where(WorkflowSession.workflow_id == Workflow.id_))
    return conditions


def _resource_id(resource_type: ResourceType):
    return select(Resource.id_).where(Resource.type_ == resource_type).scalar_subquery()


def build_list_queries(
    owner_id: uuid.UUID,
    status_in: Iterable | None = None,
    search_name: str | None = None,
    sort: str = "desc",
    type_: str = "batch",
    workflow_id_or_name: str | None = None,
    page: int = 1,
    size: int | None = None,
    sharing: SharingFilter | None = None,
    columns: tuple | None = None,
) -> tuple[Select, Select]:
    """The ``(count, page)`` statements of :func:`list_workflows` (also used to EXPLAIN them).

    With ``columns`` the page selects just those (rows, no ORM object per run).
    """
    if sort not in SORTS:
        raise InvalidListQuery(f"Unknown sort {sort!r}.")
    if page < 1 or (size is not None and size < 1):
        raise InvalidListQuery("page and size must be positive.")
    conditions = _conditions(owner_id, status_in, search_name, type_, workflow_id_or_name,
                             sharing)
    # COUNT(*) lets PostgreSQL answer from the (owner_id, status) index alone.
    count = select(func.count()).select_from(Workflow).where(*conditions)
    if columns:
        query = select(*columns).where(*conditions)
    else:
        query = (
            select(Workflow)
            .where(*conditions)
            .options(
                defer(Workflow.logs),
                defer(Workflow.reana_specification),
                defer(Workflow.engine_specific),
            )
        )
    if sort in ("disk-desc", "cpu-desc"):
        # A top-N over the owner's runs joined to their usage: linear in the
        # owner's run count, but only the page's rows are loaded.
        resource_type = ResourceType.disk if sort == "disk-desc" else ResourceType.cpu
        query = query.outerjoin(
            WorkflowResource,
            and_(
                WorkflowResource.workflow_id == Workflow.id_,
                WorkflowResource.resource_id == _resource_id(resource_type),
            ),
        ).order_by(func.coalesce(WorkflowResource.quota_used, 0).desc(), Workflow.created.desc())
    elif sort == "asc":
        query = query.order_by(Workflow.created.asc(), Workflow.id_.asc())
    else:
        query = query.order_by(Workflow.created.desc(), Workflow.id_.desc())
    if size is not None:
        query = query.limit(size).offset((page - 1) * size)
    return count, query


def list_workflows(
    session: Session,
    owner_id: uuid.UUID,
    status_in: Iterable | None = None,
    search_name: str | None = None,
    sort: str = "desc",
    type_: str = "batch",
    workflow_id_or_name: str | None = None,
    page: int = 1,
    size: int | None = None,
    sharing: SharingFilter | None = None,
) -> tuple[list[Workflow], int]:
    """One page of the owner's runs and the total matching the filters.

    ``status_in``: statuses (enum members, names or integers); ``search_name``:
    case-insensitive substring of the base name; ``sort``: ``desc``/``asc`` by
    creation, ``disk-desc``/``cpu-desc`` by recorded usage; ``type_``:
    ``batch`` (all runs) or ``interactive`` (runs with an open session);
    ``workflow_id_or_name``: UUID, base name or ``name.N[.M]``; ``size=None``
    returns every match; ``sharing``: runs shared with or by the user
    (:class:`SharingFilter`). Raises :class:`InvalidListQuery`.
    """
    count, query = build_list_queries(
        owner_id, status_in, search_name, sort, type_, workflow_id_or_name, page, size, sharing
    )
    total = session.scalar(count) or 0
    return list(session.scalars(query)), int(total)


def user_has_workflows(session: Session, owner_id: uuid.UUID) -> bool:
    """Whether the user has any run at all (the list's ``user_has_workflows``)."""
    return session.scalar(select(exists().where(Workflow.owner_id == owner_id))) or False


def workflow_usage(
    session: Session, workflow_ids: Iterable[uuid.UUID], resource_type: ResourceType
) -> dict[uuid.UUID, int]:
    """Recorded CPU ms or disk bytes of some runs (one query for a page of them)."""
    ids = list(workflow_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(WorkflowResource.workflow_id, WorkflowResource.quota_used).where(
            WorkflowResource.workflow_id.in_(ids),
            WorkflowResource.resource_id == _resource_id(resource_type),
        )
    )
    return {workflow_id: int(used) for workflow_id, used in rows}
