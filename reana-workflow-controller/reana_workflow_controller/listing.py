"""``GET /api/workflows``: a user's runs, filtered, sorted and paginated in SQL.

The page comes from :func:`reana_db.queries.build_list_queries` (one COUNT, one
LIMIT/OFFSET query loading only the columns an item shows, as plain rows: no ORM
object per run, which reana-client 0.9.6's ``list`` of every run makes count);
sizes, latest jobs and sessions of the page's runs then come in one query each, so
the cost does not grow with the number of runs the user has.
"""

from __future__ import annotations

from dataclasses import dataclass

from reana_commons.errors import REANAValidationError
from reana_commons.json_input import load_json
from reana_commons.workspace import size_dict
from reana_db import queries
from reana_db.enums import ResourceType, RunStatus
from reana_db.models import InteractiveSession, User, Workflow, WorkflowSession
from reana_db.sharing import shared_with_emails
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_workflow_controller.errors import BadRequest
from reana_workflow_controller.pagination import Page
from reana_workflow_controller.workflow_responses import latest_jobs, progress_view
from reana_workflow_controller.workflows import format_time

SORTS = queries.SORTS
NOT_COMPUTED_SIZE = {"raw": -1, "human_readable": ""}
ITEM_COLUMNS = (
    Workflow.id_,
    Workflow.name,
    Workflow.run_number_major,
    Workflow.run_number_minor,
    Workflow.status,
    Workflow.owner_id,
    Workflow.created,
    Workflow.launcher_url,
    Workflow.run_started_at,
    Workflow.run_finished_at,
    Workflow.run_stopped_at,
)
"""What a list item shows: only these columns are loaded (JSON columns cost decoding)."""


@dataclass(frozen=True)
class ListQuery:
    """What ``GET /api/workflows`` asks for."""

    type_: str = "batch"
    statuses: tuple[str, ...] = ()
    search: str | None = None
    sort: str = "desc"
    workflow_id_or_name: str | None = None
    include_progress: bool = False
    include_workspace_size: bool = False
    verbose: bool = False
    sharing: queries.SharingFilter | None = None


def sharing_filter(shared: bool, shared_by: str | None,
                   shared_with: str | None) -> queries.SharingFilter | None:
    """The listing's sharing filter (REANA 0.95), None for the user's own runs; both → 400."""
    if shared_by and shared_with:
        raise BadRequest("You cannot filter by shared_by and shared_with at the same time.")
    if not (shared or shared_by or shared_with):
        return None
    return queries.SharingFilter(bool(shared), shared_by or None, shared_with or None)


def parse_statuses(values) -> tuple[RunStatus, ...]:
    """Status names (a list, or CSV text) as :class:`RunStatus` members, or 400."""
    names = []
    for value in values or ():
        names.extend(part.strip() for part in str(value).split(",") if part.strip())
    try:
        return tuple(RunStatus[name] for name in names)
    except KeyError as error:
        raise BadRequest(f"Unknown workflow status {error.args[0]!r}.") from None


def parse_name_search(search: str | None) -> str | None:
    """The name substring of REANA's ``search`` JSON (``{"name": ["x"]}``), or 400."""
    if not search:
        return None
    try:
        parsed = load_json(search, "The search filter")
    except REANAValidationError as error:
        raise BadRequest(error.message) from None
    except ValueError:
        raise BadRequest("Your request contains not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise BadRequest("Malformed request.")
    names = parsed.get("name")
    if names in (None, [], ""):
        return None
    return str(names[0] if isinstance(names, list) else names)


def _open_sessions(session: Session, ids: list) -> dict:
    if not ids:
        return {}
    rows = session.execute(
        select(WorkflowSession.workflow_id, InteractiveSession)
        .join(InteractiveSession, InteractiveSession.id_ == WorkflowSession.session_id)
        .where(WorkflowSession.workflow_id.in_(ids))
    )
    return {workflow_id: interactive for workflow_id, interactive in rows}


def _owner_emails(session: Session, user: User, workflows: list[Workflow]) -> dict:
    others = {w.owner_id for w in workflows} - {user.id_}
    emails = {user.id_: user.email}
    if others:
        rows = session.execute(select(User.id_, User.email).where(User.id_.in_(others)))
        emails.update({owner_id: email for owner_id, email in rows})
    return emails


def list_workflows(session: Session, user: User, query: ListQuery, page: Page) -> dict:
    """REANA's paginated ``{items, total, page, ...}`` of ``user``'s runs."""
    statuses = parse_statuses(query.statuses)
    try:
        count, page_query = queries.build_list_queries(
            user.id_,
            status_in=statuses or None,
            search_name=parse_name_search(query.search),
            sort=query.sort,
            type_=query.type_,
            workflow_id_or_name=query.workflow_id_or_name,
            page=page.page,
            size=page.size,
            sharing=query.sharing,
            columns=ITEM_COLUMNS + ((Workflow.job_progress,) if query.include_progress else ()),
        )
    except queries.InvalidListQuery as error:
        raise BadRequest(str(error)) from None
    total = int(session.scalar(count) or 0)
    workflows = session.execute(page_query).all()
    ids = [w.id_ for w in workflows]
    sizes = (
        queries.workflow_usage(session, ids, ResourceType.disk)
        if query.include_workspace_size
        else {}
    )
    jobs = latest_jobs(session, ids) if query.include_progress else {}
    sessions = _open_sessions(session, ids) if query.type_ == "interactive" or query.verbose else {}
    emails = _owner_emails(session, user, workflows)
    own = [w.id_ for w in workflows if w.owner_id == user.id_]
    shares = shared_with_emails(session, own)
    items = [
        _item(workflow, query, sizes, jobs.get(workflow.id_), sessions.get(workflow.id_))
        | {"owner_email": emails.get(workflow.owner_id, ""),
           "shared_with": shares.get(workflow.id_, [])}
        for workflow in workflows
    ]
    body = page.envelope(items, total)
    body["user_has_workflows"] = bool(total) or queries.user_has_workflows(session, user.id_)
    return body


def _item(workflow, query: ListQuery, sizes: dict, current_job, interactive) -> dict:
    """One run's item, from its row (the :data:`ITEM_COLUMNS`)."""
    number = workflow.run_number_major
    if workflow.run_number_minor:
        number = f"{number}.{workflow.run_number_minor}"
    item = {
        "id": str(workflow.id_),
        "name": f"{workflow.name}.{number}",
        "status": RunStatus(workflow.status).name,
        "user": str(workflow.owner_id),
        "created": format_time(workflow.created),
        "launcher_url": workflow.launcher_url,
        "progress": progress_view(workflow, query.include_progress, current_job),
        "size": (
            size_dict(sizes.get(workflow.id_) or 0)
            if query.include_workspace_size
            else dict(NOT_COMPUTED_SIZE)
        ),
    }
    if interactive is not None:
        item["session_type"] = interactive.type_.name
        item["session_uri"] = interactive.path or ""
        item["session_status"] = RunStatus(interactive.status).name
    return item
