"""Workflow rules that live in reana-server: lookup, names, creation checks, retention rules."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from reana_commons.config import Config
from reana_commons.specification import validate_operational_options as check_operational_options
from reana_commons.workflow_types import WORKFLOW_TYPES
from reana_db.creation import RunNumberConflict, store_new_run
from reana_db.models import User, Workflow
from reana_db.quota import has_exceeded_quota
from reana_db.run_numbers import WorkflowNotFound, get_workflow_by_uuid_or_name
from sqlalchemy.orm import Session

from reana_server.errors import BadRequest, Forbidden, WorkflowLookupError

DEFAULT_RETENTION_PATTERN = "**/*"


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


def workspace_root_path(spec: dict, available: list[str]) -> str | None:
    """``workspace.root_path`` if set, refused (400) unless it is under an available workspace."""
    root = (spec.get("workspace") or {}).get("root_path")
    if not root:
        return None
    real = os.path.normpath(str(root))
    if not any(real == a.rstrip("/") or real.startswith(a.rstrip("/") + "/") for a in available):
        raise BadRequest(
            f"Desired workspace {root} is not valid. Please use one of: {', '.join(available)}."
        )
    return real


def validate_creation(spec, config: Config, available_workspaces: list[str]) -> dict:
    """Checks made before a run is stored; returns its options, retention rules and root."""
    if not isinstance(spec, dict) or not isinstance(spec.get("workflow"), dict):
        raise BadRequest("The REANA specification is malformed: a 'workflow' section is needed.")
    workflow_type = spec["workflow"].get("type")
    if workflow_type not in WORKFLOW_TYPES:
        raise BadRequest("Unknown workflow type.")
    inputs = spec.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise BadRequest("The REANA specification is malformed: 'inputs' must be a mapping.")
    for key in ("files", "directories"):
        for path in inputs.get(key) or []:
            _check_relative_pattern(path, "Input path")
    options = validate_operational_options(workflow_type, inputs.get("options") or {})
    return {
        "operational_options": options,
        "retention_rules": retention_rules(spec, config),
        "workspace_root_path": workspace_root_path(spec, available_workspaces),
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
    from reana_server.cluster import cluster_info

    name = validate_workflow_name(name)
    check_quota(session, user, quota_used_up)
    available = cluster_info(config)["workspaces_available"]["value"]
    extras = validate_creation(spec, config, available)
    root = extras["workspace_root_path"] or config.shared_volume_path
    try:
        return store_new_run(
            session,
            user.id_,
            name,
            spec["workflow"]["type"],
            spec,
            extras["operational_options"],
            extras["retention_rules"],
            Path(root),
            git_data=git_data,
            launcher_url=launcher_url,
        )
    except RunNumberConflict as error:
        raise BadRequest(str(error)) from None
