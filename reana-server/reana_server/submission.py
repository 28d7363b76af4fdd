"""Starting a run: checks, restarts (:func:`reana_db.creation.restart_run`), status ``queued``
and the submission message."""

from __future__ import annotations

from reana_commons.config import get_config
from reana_db.creation import (
    restart_run,
    validate_operational_options,
    validate_specification,
)
from reana_db.enums import RunStatus
from reana_db.models import User, Workflow
from reana_db.status import set_workflow_status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reana_server.errors import BadRequest, Forbidden
from reana_server.metrics import submission_admitted, submission_refused
from reana_server.workflows import check_quota


def validate_parameters(spec: dict, input_parameters: dict) -> None:
    """Every overridden parameter must be declared in ``inputs.parameters``."""
    declared = ((spec or {}).get("inputs") or {}).get("parameters") or {}
    for name in input_parameters:
        if name not in declared:
            raise BadRequest(f'Input parameter "{name}" is not present in reana.yaml')


def check_queued_cap(session: Session, user: User) -> None:
    """Refuse (403) a start while the user already has the most queued runs allowed
    (``REANA_MAX_QUEUED_WORKFLOWS_PER_USER``; 0: no cap). Concurrent starts of one user
    may pass it by at most their number (the count takes no lock)."""
    cap = get_config().max_queued_workflows_per_user
    if cap <= 0:
        return
    queued = session.scalar(select(func.count()).select_from(Workflow).where(
        Workflow.owner_id == user.id_, Workflow.status == RunStatus.queued))
    if queued >= cap:
        raise Forbidden(
            f"You already have {queued} workflows queued, the most one user may have "
            f"(REANA_MAX_QUEUED_WORKFLOWS_PER_USER={cap}). Start this one once some of them "
            "have started.")


def start(session: Session, user: User, workflow: Workflow, body: dict,
          quota_used_up: bool) -> tuple[Workflow, dict]:
    """Validate and queue a run (or a restart of it); returns the queued run and its parameters.

    ``quota_used_up``: what authentication found.
    The caller commits, then publishes the submission. Counted in the submission metrics.
    """
    try:
        queued, parameters = _start(session, user, workflow, body, quota_used_up)
    except Exception as error:
        submission_refused(error)
        raise
    submission_admitted()
    return queued, parameters


def _start(session: Session, user: User, workflow: Workflow, body: dict,
           quota_used_up: bool) -> tuple[Workflow, dict]:
    check_quota(session, user, quota_used_up)
    input_parameters = {k: v for k, v in (body.get("input_parameters") or {}).items()}
    options = body.get("operational_options") or {}
    restart = bool(body.get("restart"))
    new_spec = body.get("reana_specification") or None
    if restart:
        workflow = restart_run(session, workflow, new_spec)
    elif RunStatus(workflow.status) != RunStatus.created:
        raise Forbidden(
            f"Workflow {workflow.full_name} is already {RunStatus(workflow.status).name} "
            "and cannot be started again."
        )
    check_queued_cap(session, user)
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
