"""Starting a run: checks, restart clones, status ``queued`` and the submission message."""

from __future__ import annotations

import copy

from reana_db.enums import RunStatus, WorkspaceRetentionRuleStatus
from reana_db.models import User, Workflow, WorkspaceRetentionRule
from reana_db.run_numbers import next_run_number
from reana_db.status import set_workflow_status
from sqlalchemy.orm import Session

from reana_server.errors import BadRequest, Forbidden
from reana_server.workflows import (  # noqa: F401 - validate_specification is used here too
    check_quota,
    validate_operational_options,
    validate_specification,
)

RESTARTABLE = (RunStatus.finished, RunStatus.failed)


def validate_parameters(spec: dict, input_parameters: dict) -> None:
    """Every overridden parameter must be declared in ``inputs.parameters``."""
    declared = ((spec or {}).get("inputs") or {}).get("parameters") or {}
    for name in input_parameters:
        if name not in declared:
            raise BadRequest(f'Input parameter "{name}" is not present in reana.yaml')


def clone_for_restart(session: Session, parent: Workflow, spec: dict | None) -> Workflow:
    """A restart of ``parent``: same name and workspace, same major, next minor."""
    if RunStatus(parent.status) not in RESTARTABLE:
        raise Forbidden("Only finished or failed workflows can be restarted.")
    for rule in parent.retention_rules:
        if rule.status == WorkspaceRetentionRuleStatus.pending:
            raise Forbidden(
                f"The workflow {parent.full_name} cannot be restarted because some retention "
                "rules are currently being applied. Please retry later."
            )
    major, minor = next_run_number(session, parent.owner_id, parent.name, restart_of=parent)
    clone = Workflow(
        name=parent.name,
        owner_id=parent.owner_id,
        reana_specification=copy.deepcopy(spec or parent.reana_specification),
        type_=(spec or {}).get("workflow", {}).get("type") or parent.type_,
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
        if rule.status in (
            WorkspaceRetentionRuleStatus.created,
            WorkspaceRetentionRuleStatus.active,
        ):
            rule.status = WorkspaceRetentionRuleStatus.inactive
        session.add(
            WorkspaceRetentionRule(
                workflow=clone,
                workspace_files=rule.workspace_files,
                retention_days=rule.retention_days,
                status=WorkspaceRetentionRuleStatus.created,
            )
        )
    session.flush()
    return clone


def start(session: Session, user: User, workflow: Workflow, body: dict,
          quota_used_up: bool) -> tuple[Workflow, dict]:
    """Validate and queue a run (or a restart of it); returns the queued run and its parameters.

    ``quota_used_up``: what authentication found.
    The caller commits, then publishes the submission.
    """
    check_quota(session, user, quota_used_up)
    input_parameters = {k: v for k, v in (body.get("input_parameters") or {}).items()}
    options = body.get("operational_options") or {}
    restart = bool(body.get("restart"))
    new_spec = body.get("reana_specification") or None
    if restart:
        workflow = clone_for_restart(session, workflow, new_spec)
    elif RunStatus(workflow.status) != RunStatus.created:
        raise Forbidden(
            f"Workflow {workflow.full_name} is already {RunStatus(workflow.status).name} "
            "and cannot be started again."
        )
    spec = workflow.reana_specification or {}
    validate_specification(spec)
    validate_parameters(spec, input_parameters)
    validate_operational_options(workflow.type_, options)
    workflow.input_parameters = input_parameters
    workflow.operational_options = options
    set_workflow_status(session, workflow, RunStatus.queued)
    session.flush()
    parameters = {
        "input_parameters": input_parameters,
        "operational_options": options,
        "restart": restart,
    }
    if new_spec:
        parameters["reana_specification"] = new_spec
    return workflow, parameters


def publish(user: User, workflow: Workflow, parameters: dict) -> None:
    """Send the run to the scheduler (``workflow-submission``)."""
    from reana_commons.messaging import publish_workflow_submission

    publish_workflow_submission(str(user.id_), str(workflow.id_), parameters, priority=0)


def start_response(user: User, workflow: Workflow) -> dict:
    """REANA's answer to ``/start``: base name and separate run number."""
    return {
        "message": "Workflow submitted.",
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow.name,
        "status": RunStatus(workflow.status).name,
        "run_number": workflow.run_number,
        "user": str(user.id_),
    }
