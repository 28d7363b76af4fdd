"""Workflows: owner and run lookup, creation, and the small read-only views.

No Flask here: functions take a SQLAlchemy session and plain values, and raise
:mod:`reana_workflow_controller.errors` that the API maps to HTTP answers.
"""

from __future__ import annotations

from reana_commons.config import WORKFLOW_TIME_FORMAT, get_config
from reana_commons.errors import REANAValidationError
from reana_commons.validation.operational_options import OPERATIONAL_OPTIONS
from reana_commons.validation.operational_options import (
    validate_operational_options as validate_options,
)
from reana_commons.workflow_types import WORKFLOW_TYPES
from reana_db import retention
from reana_db.creation import InvalidWorkspaceRoot, store_new_run
from reana_db.models import User, Workflow, WorkspaceRetentionRule
from reana_db.run_numbers import WorkflowNotFound, get_workflow_by_uuid_or_name, parse_uuid
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_workflow_controller.errors import BadRequest, NotFound

DEFAULT_WORKFLOW_NAME = "workflow"


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


def get_workflow(session: Session, user: User, uuid_or_name: str) -> Workflow:
    """A run of ``user`` by UUID, ``name``, ``name.N`` or ``name.N.M``; else 404."""
    try:
        return get_workflow_by_uuid_or_name(session, uuid_or_name, user.id_)
    except WorkflowNotFound:
        raise NotFound(workon_message(uuid_or_name)) from None


def workflow_name(workflow: Workflow) -> str:
    """``name.N[.M]``, the name used in every answer."""
    return workflow.full_name


def is_uuid_v4(value: str) -> bool:
    """Whether ``value`` is written as a version-4 UUID."""
    parsed = parse_uuid(value)
    return (
        parsed is not None
        and parsed.version == 4
        and parsed.hex == str(value).replace("-", "").lower()
    )


def validate_workflow_name(name: str | None) -> str:
    """The name to store: REANA's rules (no ``.``, not a UUIDv4, ASCII); empty → ``workflow``."""
    if not name:
        return DEFAULT_WORKFLOW_NAME
    if "." in name:
        raise BadRequest(f'Workflow name {name} contains illegal character ".".')
    if is_uuid_v4(name):
        raise BadRequest("Workflow name cannot be a valid UUIDv4.")
    if not name.isascii() or not name.isprintable() or "/" in name:
        raise BadRequest(f"Workflow name {name} is not valid.")
    if len(name) > 255:
        raise BadRequest(f"Workflow name {name[:32]}... is longer than 255 characters.")
    return name


def workflow_type(specification) -> str:
    """The engine type named by a reana.yaml dict, or 400."""
    if not isinstance(specification, dict) or not isinstance(
        specification.get("workflow"), dict
    ):
        raise BadRequest("The REANA specification must contain a 'workflow' section.")
    type_ = specification["workflow"].get("type")
    if type_ not in WORKFLOW_TYPES:
        raise BadRequest(f"Unknown workflow type {type_!r}.")
    return type_


def validate_operational_options(type_: str, options: dict) -> dict:
    """Operational options checked and translated for the engine (reana-commons' rules), or 400.

    Options a caller already translated (cwl's ``--target``, as REANA's server sends
    them) are accepted as they are.
    """
    if not options:
        return {}
    if not isinstance(options, dict):
        raise BadRequest("Operational options must be a dictionary.")
    known = {
        engines[type_] for engines in OPERATIONAL_OPTIONS.values() if type_ in engines
    } - set(OPERATIONAL_OPTIONS)
    translated = {name: value for name, value in options.items() if name in known}
    given = {name: value for name, value in options.items() if name not in known}
    try:
        return {**validate_options(type_, given), **translated}
    except REANAValidationError as error:
        raise BadRequest(error.message) from error


def retention_rules_of(specification: dict, requested: list | None) -> list[dict]:
    """The new run's rules: those requested in the body, else the spec's; plus the default.

    Validation (relative globs, the maximum period, the default ``**/*`` rule of
    ``WORKSPACE_RETENTION_PERIOD``) is reana-db's; a refused rule is a 400.
    """
    if requested:
        days = {rule["workspace_files"]: rule["retention_days"] for rule in requested}
        specification = {"workspace": {"retention_days": days}}
    try:
        return retention.rules_for_new_workflow(specification)
    except retention.InvalidRetentionRule as error:
        raise BadRequest(str(error)) from None


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

    ``workspace_root_path`` is checked by reana-db, as for runs reana-server creates.
    """
    name = validate_workflow_name(name)
    type_ = workflow_type(specification)
    options = validate_operational_options(type_, operational_options or {})
    rules = retention_rules_of(specification, retention_rules)
    try:
        return store_new_run(
            session,
            user.id_,
            name,
            type_,
            specification,
            options,
            rules,
            workspace_root_path,
            git_data=git_data,
            launcher_url=launcher_url,
            config=get_config(),
        )
    except InvalidWorkspaceRoot as error:
        raise BadRequest(str(error)) from None


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
