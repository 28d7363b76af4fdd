"""Workflows: owner and run lookup, creation, and the small read-only views.

No Flask here: functions take a SQLAlchemy session and plain values, and raise
:mod:`reana_workflow_controller.errors` that the API maps to HTTP answers.
"""

from __future__ import annotations

from reana_commons.config import WORKFLOW_TIME_FORMAT, get_config
from reana_db.creation import create_run, validate_run_request
from reana_db.models import User, Workflow, WorkspaceRetentionRule
from reana_db.run_numbers import WorkflowNotFound, get_workflow_by_uuid_or_name, parse_uuid
from reana_db.sharing import find_shared_run
from reana_db.sharing import get_readable_workflow as readable_run
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_workflow_controller.errors import ControllerError, NotFound


def format_time(value) -> str | None:
    """A datetime in REANA's wire format, or ``None``."""
    return value.strftime(WORKFLOW_TIME_FORMAT) if value else None


def get_user(session: Session, user_id: str) -> User:
    """The user with this UUID; unknown or malformed → :class:`NotFound`."""
    as_uuid = parse_uuid(user_id)
    user = session.get(User, as_uuid) if as_uuid is not None else None
    if user is None:
        raise NotFound(f"User {user_id} does not exist")
    return user


def workon_message(uuid_or_name: str) -> str:
    """REANA's answer when a run named by the client does not exist."""
    return (
        f"REANA_WORKON is set to {uuid_or_name}, but that workflow does not exist. "
        "Please set your REANA_WORKON environment variable appropriately."
    )


def read_only_message(workflow: Workflow) -> str:
    """The refusal of a change to a run that is only shared with the user."""
    return f"{workflow.full_name} is shared with you read-only: only its owner can change it."


def get_workflow(session: Session, user: User, uuid_or_name: str) -> Workflow:
    """A run of ``user`` by UUID, ``name``, ``name.N`` or ``name.N.M``; else 404.

    A run only shared with ``user`` is refused with 403 (read-only), not found.
    """
    try:
        return get_workflow_by_uuid_or_name(session, uuid_or_name, user.id_)
    except WorkflowNotFound:
        shared = find_shared_run(session, uuid_or_name, user.id_)
        if shared is not None:
            raise ControllerError(read_only_message(shared), 403) from None
        raise NotFound(workon_message(uuid_or_name)) from None


def get_readable_workflow(session: Session, user: User, uuid_or_name: str) -> Workflow:
    """A run ``user`` may read: their own or one actively shared with them; else 404."""
    try:
        return readable_run(session, uuid_or_name, user.id_)
    except WorkflowNotFound:
        raise NotFound(workon_message(uuid_or_name)) from None


def workflow_name(workflow: Workflow) -> str:
    """``name.N[.M]``, the name used in every answer."""
    return workflow.full_name


def create_workflow(
    session: Session,
    user: User,
    specification: dict,
    name: str | None,
    operational_options: dict | None = None,
    retention_rules: list | None = None,
    git_data: dict | None = None,
    launcher_url: str | None = None,
    workspace_root_path: str | None = None,
) -> Workflow:
    """Store a new run (status ``created``, next run number) and create its empty workspace.

    The rules are reana-db's (:mod:`reana_db.creation`), the same as for runs
    reana-server creates; a refusal is its :class:`~reana_db.creation.InvalidRunRequest`.
    """
    request = validate_run_request(
        name, specification, operational_options, retention_rules, workspace_root_path,
        config=get_config())
    return create_run(session, user.id_, request, git_data=git_data,
                      launcher_url=launcher_url, config=get_config())


def parameters_view(workflow: Workflow) -> dict:
    """``GET .../parameters``: the reana.yaml input parameters of the run."""
    specification = workflow.reana_specification or {}
    inputs = specification.get("inputs") or {}
    return {
        "id": str(workflow.id_),
        "name": workflow_name(workflow),
        "type": workflow.type_,
        "parameters": inputs.get("parameters") or {},
    }


def specification_view(workflow: Workflow) -> dict:
    """The stored reana.yaml and the parameters given at start."""
    return {
        "specification": workflow.reana_specification or {},
        "parameters": workflow.input_parameters or {},
    }


def retention_rules_view(session: Session, workflow: Workflow) -> dict:
    """``GET .../retention_rules``: the run's rules, by retention days."""
    rules = session.scalars(
        select(WorkspaceRetentionRule)
        .where(WorkspaceRetentionRule.workflow_id == workflow.id_)
        .order_by(WorkspaceRetentionRule.retention_days, WorkspaceRetentionRule.workspace_files)
    )
    return {
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow_name(workflow),
        "retention_rules": [
            {
                "id": str(rule.id_),
                "workspace_files": rule.workspace_files,
                "retention_days": rule.retention_days,
                "apply_on": format_time(rule.apply_on),
                "status": rule.status.name,
            }
            for rule in rules
        ],
    }
