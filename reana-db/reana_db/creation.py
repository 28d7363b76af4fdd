"""Creating runs: the one owner of the rules of new runs and restarts.

reana-server (``POST /api/workflows``, ``/api/launch``, a restart at ``start``)
and the workflow controller's internal API create runs only through this
module: a request is checked once, here, with REANA's messages
(:func:`validate_run_request`), then stored (:func:`create_run`, next run
number, retention rules, an empty workspace under a checked
``workspace.root_path``); a restart is cloned by :func:`restart_run`. A refusal
is an :class:`InvalidRunRequest` (400) or a :class:`ForbiddenRunRequest` (403,
where REANA answers 403): :class:`~reana_commons.errors.REANAError` s, which
every service maps by their status code. A malformed specification is refused
at create, not left ``created`` until its start fails.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath

from reana_commons.config import Config, get_config
from reana_commons.errors import REANAError, REANAValidationError
from reana_commons.validation.operational_options import (
    OPERATIONAL_OPTIONS,
)
from reana_commons.validation.operational_options import (
    validate_operational_options as check_options,
)
from reana_commons.workflow_types import WORKFLOW_TYPES, UnknownWorkflowType, workflow_type
from sqlalchemy.orm import Session

from reana_db.enums import RunStatus, WorkspaceRetentionRuleStatus
from reana_db.models import Workflow, WorkspaceRetentionRule
from reana_db.retention import InvalidRetentionRule, rules_for_new_workflow
from reana_db.run_numbers import next_run_number, parse_uuid
from reana_db.workspace_roots import (
    InvalidWorkspaceRoot,
    make_workspace,
    requested_root,
    workspace_path,
    workspace_root,
)

DEFAULT_NAME = "workflow"
MAX_NAME_LENGTH = 255
"""``workflow.name``'s column (REANA's)."""
RESTARTABLE = (RunStatus.finished, RunStatus.failed)


class InvalidRunRequest(REANAError, ValueError):
    """A new run or restart that cannot be accepted (400); the message says why."""

    status_code = 400


class ForbiddenRunRequest(InvalidRunRequest):
    """A refusal REANA answers with 403 (a name with ``.``, a restart not allowed)."""

    status_code = 403


@dataclass(frozen=True)
class RunRequest:
    """A checked request for a new run: what :func:`create_run` stores."""

    name: str
    type_: str
    specification: dict
    operational_options: dict
    retention_rules: list[dict]
    workspace_root_path: str | None


def validate_workflow_name(name: str | None) -> str:
    """The name to store: REANA's rules (no ``.``, not a UUIDv4, printable ASCII, at most
    255 characters); empty means ``workflow``."""
    name = (name or "").strip() or DEFAULT_NAME
    if "." in name:
        raise ForbiddenRunRequest(f'Workflow name {name} contains illegal character ".".')
    parsed = parse_uuid(name)
    if parsed is not None and parsed.version == 4:
        raise InvalidRunRequest("Workflow name cannot be a valid UUIDv4.")
    if not name.isascii() or not name.isprintable() or "/" in name:
        raise InvalidRunRequest(f"Workflow name {name} contains illegal characters.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRunRequest(
            f"Workflow name {name[:32]}... is longer than {MAX_NAME_LENGTH} characters.")
    return name


_VALIDATED: OrderedDict[str, str] = OrderedDict()
"""Digests of specifications found valid (→ their type), most recent last: a run is checked
at create and again at start, and a client submits the same reana.yaml run after run; the
JSON schema check costs about a millisecond, the digest a few microseconds."""
_VALIDATED_MAX = 256
_validated_lock = threading.Lock()


def validate_specification(spec) -> str:
    """Check a reana.yaml (as a dict) against REANA's JSON schema; returns its workflow type.

    A specification found valid before (the same content) is not checked again.

    A yadage run's ``workflow.specification`` is null (reana-client 0.9.6 sends it so:
    its engine loads ``workflow.file`` from the workspace): it is checked without it.
    Input paths must be relative and stay inside the workspace.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("workflow"), dict):
        raise InvalidRunRequest(
            "The REANA specification is malformed: a 'workflow' section is needed.")
    try:
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    except (TypeError, ValueError):
        digest = None
    with _validated_lock:
        if digest in _VALIDATED:
            _VALIDATED.move_to_end(digest)
            return _VALIDATED[digest]
    type_ = _validate_specification(spec)
    if digest is not None:
        with _validated_lock:
            _VALIDATED[digest] = type_
            while len(_VALIDATED) > _VALIDATED_MAX:
                _VALIDATED.popitem(last=False)
    return type_


def _validate_specification(spec: dict) -> str:
    workflow = spec["workflow"]
    type_ = workflow.get("type")
    if type_ not in WORKFLOW_TYPES:
        raise InvalidRunRequest("Unknown workflow type.")
    checked = spec
    if (workflow.get("specification") is None and workflow.get("file")
            and _engine_loads_file(type_)):
        checked = {**spec, "workflow": {k: v for k, v in workflow.items() if k != "specification"}}
    from reana_commons import validation  # its JSON-schema half loads on first use

    try:
        validation.validate_reana_spec(checked)
    except REANAValidationError as error:
        raise InvalidRunRequest(error.message) from None
    inputs = spec.get("inputs") or {}
    for key in ("files", "directories"):
        for path in inputs.get(key) or []:
            _check_relative(path, "Input path")
    return type_


def _engine_loads_file(type_name: str) -> bool:
    try:
        return workflow_type(type_name).engine_loads_workflow_file
    except UnknownWorkflowType:
        return False


def _check_relative(pattern, what: str) -> None:
    if not isinstance(pattern, str) or not pattern or pattern.startswith("/"):
        raise InvalidRunRequest(f"{what} '{pattern}' must be a relative path.")
    if ".." in PurePosixPath(pattern.replace("\\", "/")).parts:
        raise InvalidRunRequest(f"{what} '{pattern}' must not contain '..'.")


def validate_operational_options(type_: str, options) -> dict:
    """Operational options checked and translated for the engine (cwl ``TARGET`` →
    ``--target``); options already translated (as REANA's server sends them on) are kept."""
    if not options:
        return {}
    if not isinstance(options, dict):
        raise InvalidRunRequest("Operational options must be a dictionary.")
    engine_names = {
        names[type_] for names in OPERATIONAL_OPTIONS.values() if type_ in names
    } - set(OPERATIONAL_OPTIONS)
    translated = {name: value for name, value in options.items() if name in engine_names}
    given = {name: value for name, value in options.items() if name not in engine_names}
    try:
        return {**check_options(type_, given), **translated}
    except REANAValidationError as error:
        raise InvalidRunRequest(error.message) from None


def validate_run_request(
    name: str | None,
    spec,
    operational_options: dict | None = None,
    retention_rules: list[dict] | None = None,
    workspace_root_path: str | None = None,
    config: Config | None = None,
) -> RunRequest:
    """Check everything about a new run that needs no database; the checked request.

    ``operational_options`` default to the spec's ``inputs.options``;
    ``retention_rules`` (``[{"workspace_files", "retention_days"}]``) to its
    ``workspace.retention_days``; ``workspace_root_path`` to its
    ``workspace.root_path`` (checked against the filesystem and the stored runs
    when the run is stored).
    """
    name = validate_workflow_name(name)
    type_ = validate_specification(spec)
    if operational_options is None:
        operational_options = (spec.get("inputs") or {}).get("options") or {}
    options = validate_operational_options(type_, operational_options)
    rules_spec = spec
    if retention_rules:
        days = {rule["workspace_files"]: rule["retention_days"] for rule in retention_rules}
        rules_spec = {"workspace": {"retention_days": days}}
    try:
        rules = rules_for_new_workflow(rules_spec, config)
        root = workspace_root_path or requested_root(spec)
    except (InvalidRetentionRule, InvalidWorkspaceRoot) as error:
        raise InvalidRunRequest(str(error)) from None
    return RunRequest(name, type_, spec, options, rules, root)


def create_run(
    session: Session,
    owner_id: uuid.UUID,
    request: RunRequest,
    git_data: dict | None = None,
    launcher_url: str | None = None,
    config: Config | None = None,
) -> Workflow:
    """Store a checked request as a new run (status ``created``) with its empty workspace.

    The run number of the name stays locked until the caller's transaction
    ends (:func:`reana_db.run_numbers.lock_run_numbers`): commit soon after.
    """
    try:
        return store_new_run(
            session, owner_id, request.name, request.type_, request.specification,
            request.operational_options, request.retention_rules, request.workspace_root_path,
            git_data=git_data, launcher_url=launcher_url, config=config,
        )
    except InvalidWorkspaceRoot as error:
        raise InvalidRunRequest(str(error)) from None


def store_new_run(
    session: Session,
    owner_id: uuid.UUID,
    name: str,
    type_: str,
    specification: dict,
    operational_options: dict,
    retention_rules: list[dict],
    workspace_root_path: str | None = None,
    git_data: dict | None = None,
    launcher_url: str | None = None,
    config: Config | None = None,
) -> Workflow:
    """Insert a run (status ``created``, next run number of ``name``) and make its workspace.

    Arguments are already checked (:func:`validate_run_request`) but for
    ``workspace_root_path``, checked here by
    :func:`reana_db.workspace_roots.workspace_root` (:class:`InvalidWorkspaceRoot`).
    """
    allowed, root = workspace_root(session, workspace_root_path, config or get_config())
    git_data = git_data or {}
    workflow_id = uuid.uuid4()
    workspace = workspace_path(root, owner_id, workflow_id)
    major, minor = next_run_number(session, owner_id, name)
    workflow = Workflow(
        id_=workflow_id,
        name=name,
        owner_id=owner_id,
        reana_specification=specification,
        operational_options=operational_options,
        input_parameters={},
        type_=type_,
        logs="",
        run_number_major=major,
        run_number_minor=minor,
        workspace_path=str(workspace),
        git_ref=git_data.get("git_commit_sha") or None,
        git_repo=git_data.get("git_url") or None,
        git_provider=git_data.get("git_provider") or None,
        launcher_url=launcher_url or None,
        job_progress={},
        complexity=[],
    )
    session.add(workflow)
    session.add_all(
        WorkspaceRetentionRule(workflow_id=workflow_id, **values) for values in retention_rules
    )
    session.flush()
    make_workspace(allowed, workspace)
    return workflow


def restart_run(session: Session, parent: Workflow, spec: dict | None = None) -> Workflow:
    """A restart of ``parent`` (``created``): same name, workspace and major, the next minor.

    ``spec`` (a new reana.yaml, optional) is checked like a new run's. The
    parent's ``created``/``active`` retention rules become ``inactive`` and the
    restart gets them anew. REANA's 403s: only finished or failed runs restart,
    and not while a retention rule of theirs is being applied.
    """
    if RunStatus(parent.status) not in RESTARTABLE:
        raise ForbiddenRunRequest("Only finished or failed workflows can be restarted.")
    for rule in parent.retention_rules:
        if rule.status == WorkspaceRetentionRuleStatus.pending:
            raise ForbiddenRunRequest(
                f"The workflow {parent.full_name} cannot be restarted because some retention "
                "rules are currently being applied. Please retry later."
            )
    type_ = validate_specification(spec) if spec else parent.type_
    major, minor = next_run_number(session, parent.owner_id, parent.name, restart_of=parent)
    clone = Workflow(
        name=parent.name,
        owner_id=parent.owner_id,
        reana_specification=copy.deepcopy(spec or parent.reana_specification),
        type_=type_,
        run_number_major=major,
        run_number_minor=minor,
        workspace_path=parent.workspace_path,
        restart=True,
        status=RunStatus.created,
        logs="",
        job_progress={},
        complexity=[],
        launcher_url=parent.launcher_url,
        git_ref=parent.git_ref,
        git_repo=parent.git_repo,
        git_provider=parent.git_provider,
    )
    session.add(clone)
    for rule in parent.retention_rules:
        if rule.status in (WorkspaceRetentionRuleStatus.created,
                           WorkspaceRetentionRuleStatus.active):
            rule.status = WorkspaceRetentionRuleStatus.inactive
        session.add(WorkspaceRetentionRule(
            workflow=clone, workspace_files=rule.workspace_files,
            retention_days=rule.retention_days, status=WorkspaceRetentionRuleStatus.created,
        ))
    session.flush()
    return clone
