"""Workflow rules that live in reana-server: lookup, names, creation checks, retention rules."""

from __future__ import annotations

import uuid

from reana_commons.config import Config
from reana_commons.specification import validate_operational_options as check_operational_options
from reana_commons.specification import validate_reana_spec
from reana_commons.workflow_types import WORKFLOW_TYPES, UnknownWorkflowType, workflow_type
from reana_commons.workspace.patterns import compile_pattern
from reana_db.creation import store_new_run
from reana_db.models import User, Workflow
from reana_db.quota import has_exceeded_quota
from reana_db.run_numbers import WorkflowNotFound, get_workflow_by_uuid_or_name
from reana_db.workspace_roots import InvalidWorkspaceRoot, requested_root
from sqlalchemy.orm import Session

from reana_server.errors import BadRequest, Forbidden, WorkflowLookupError
from reana_server.schemas import WorkflowSpecification

DEFAULT_RETENTION_PATTERN = "**/*"
_SPECIFICATION_SHAPE = WorkflowSpecification().fields["specification"].schema


def get_user_workflow(
    session: Session, user: User, workflow_id_or_name: str, status_code: int = 403
) -> Workflow:
    """The user's run named or identified by ``workflow_id_or_name``, or REANA's lookup error."""
    try:
        return get_workflow_by_uuid_or_name(session, workflow_id_or_name, user.id_)
    except WorkflowNotFound:
        raise WorkflowLookupError(workflow_id_or_name, status_code) from None


def check_quota(session: Session, user: User, used_up: bool) -> None:
    """Refuse (403) when the user has used up a limited resource.

    ``used_up`` is what authentication found in the same request (its query asks
    it along with the token); only then does reana-db's :func:`has_exceeded_quota`
    read the rows, to word the refusal.
    """
    if not used_up:
        return
    exceeded, message = has_exceeded_quota(session, user)
    if exceeded:
        raise Forbidden(message)


def validate_workflow_name(name: str | None) -> str:
    """REANA's name rules: no ``.``, not a UUIDv4, ASCII; empty means ``workflow``."""
    name = (name or "").strip() or "workflow"
    if "." in name:
        raise Forbidden(f'Workflow name {name} contains illegal character ".".')
    try:
        parsed = uuid.UUID(name)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 4:
        raise BadRequest("Workflow name cannot be a valid UUIDv4.")
    if not name.isascii() or not name.isprintable() or "/" in name:
        raise BadRequest(f"Workflow name {name} contains illegal characters.")
    if len(name) > 200:
        raise BadRequest("Workflow name is too long.")
    return name


def _check_relative_pattern(pattern: str, what: str) -> None:
    if not isinstance(pattern, str) or not pattern or pattern.startswith("/"):
        raise BadRequest(f"{what} '{pattern}' must be a relative path.")
    if ".." in pattern.replace("\\", "/").split("/"):
        raise BadRequest(f"{what} '{pattern}' must not contain '..'.")


def retention_rules(spec: dict, config: Config) -> list[dict]:
    """The run's retention rules from ``workspace.retention_days`` plus the platform default."""
    workspace = spec.get("workspace") or {}
    days_by_pattern = workspace.get("retention_days") or {}
    if not isinstance(days_by_pattern, dict):
        raise BadRequest("workspace.retention_days must be a mapping of patterns to days.")
    maximum = config.workspace_retention_period
    maximum = None if str(maximum) == "forever" else int(maximum)
    rules = []
    for pattern, days in days_by_pattern.items():
        _check_relative_pattern(pattern, "Retention rule pattern")
        compile_pattern(pattern)  # glob syntax and complexity limit: WorkspacePathError, 400
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise BadRequest(f"Retention period of '{pattern}' must be a non-negative integer.")
        if maximum is not None and days >= maximum:
            raise BadRequest(
                f"Maximum workflow retention period was reached. Please use less than "
                f"{maximum} days."
            )
        rules.append({"workspace_files": pattern, "retention_days": days})
    if maximum is not None and DEFAULT_RETENTION_PATTERN not in days_by_pattern:
        rules.append({"workspace_files": DEFAULT_RETENTION_PATTERN, "retention_days": maximum})
    return rules


def validate_specification(spec: dict) -> None:
    """JSON-schema validation of reana.yaml (400 with REANA's message).

    A yadage run's ``workflow.specification`` is null (reana-client 0.9.6 sends it so:
    its engine loads ``workflow.file`` from the workspace), so it is checked without it.
    """
    workflow = (spec or {}).get("workflow")
    if (isinstance(workflow, dict) and workflow.get("specification") is None
            and _engine_loads_file(workflow.get("type")) and workflow.get("file")):
        spec = {**spec, "workflow": {k: v for k, v in workflow.items() if k != "specification"}}
    try:
        validate_reana_spec(spec)
    except ValueError as error:
        raise BadRequest(str(error)) from error


def _engine_loads_file(type_name) -> bool:
    try:
        return workflow_type(type_name).engine_loads_workflow_file
    except UnknownWorkflowType:
        return False


def check_specification_shape(spec: dict) -> None:
    """Refuse (400) a specification whose known parts have the wrong types.

    What is stored is what every answer shows: ``GET .../specification`` must
    match the published response schema (``steps`` a list of objects, ``inputs``
    an object...). The full JSON-schema validation stays at start, as in REANA
    (a run may be created with an incomplete step and fixed by a restart).
    """
    errors = _SPECIFICATION_SHAPE.validate(spec)
    if errors:
        raise BadRequest(f"The REANA specification is malformed: {_first_problem(errors)}")


def _first_problem(errors, where: str = "") -> str:
    key, value = next(iter(errors.items()))
    here = f"{where}.{key}" if where else str(key)
    if isinstance(value, dict):
        return _first_problem(value, here)
    return f"{here}: {value[0] if isinstance(value, list) else value}"


def validate_creation(spec, config: Config) -> dict:
    """Checks made before a run is stored; returns its options, retention rules and root.

    ``workspace.root_path`` is only read here: reana-db checks it when storing
    the run (the same check for every creator).
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("workflow"), dict):
        raise BadRequest("The REANA specification is malformed: a 'workflow' section is needed.")
    try:
        root_path = requested_root(spec)
    except InvalidWorkspaceRoot as error:
        raise BadRequest(str(error)) from None
    workflow_type = spec["workflow"].get("type")
    if workflow_type not in WORKFLOW_TYPES:
        raise BadRequest("Unknown workflow type.")
    check_specification_shape(spec)
    inputs = spec.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise BadRequest("The REANA specification is malformed: 'inputs' must be a mapping.")
    for key in ("files", "directories"):
        paths = inputs.get(key) or []
        if not isinstance(paths, list):
            raise BadRequest(f"The REANA specification is malformed: inputs.{key} must be a list.")
        for path in paths:
            _check_relative_pattern(path, "Input path")
    options = validate_operational_options(workflow_type, inputs.get("options") or {})
    return {
        "operational_options": options,
        "retention_rules": retention_rules(spec, config),
        "workspace_root_path": root_path,
    }


def validate_operational_options(workflow_type: str, options) -> dict:
    """REANA's operational options check (400 with its message)."""
    if not isinstance(options, dict):
        raise BadRequest("Operational options must be a mapping.")
    try:
        return check_operational_options(workflow_type, options)
    except ValueError as error:
        raise BadRequest(str(error)) from error


def create_run(session: Session, user: User, name, spec, config: Config, quota_used_up: bool,
               git_data=None, launcher_url: str | None = None) -> Workflow:
    """Validate a creation and store the run with its empty workspace (flushed, not committed).

    The server stores the run itself (reana-db's :func:`store_new_run`, the same
    code the workflow controller's internal API uses) instead of asking the
    workflow controller over HTTP: that hop cost more than the rest of the request.
    """
    name = validate_workflow_name(name)
    check_quota(session, user, quota_used_up)
    extras = validate_creation(spec, config)
    try:
        return store_new_run(
            session,
            user.id_,
            name,
            spec["workflow"]["type"],
            spec,
            extras["operational_options"],
            extras["retention_rules"],
            extras["workspace_root_path"],
            git_data=git_data,
            launcher_url=launcher_url,
            config=config,
        )
    except InvalidWorkspaceRoot as error:
        raise BadRequest(str(error)) from None
