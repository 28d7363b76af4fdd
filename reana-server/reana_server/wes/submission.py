"""Submitting a WES run: create it (:mod:`reana_db.creation`), store its attachments in its
workspace, start it (:mod:`reana_server.submission`) — the same steps as ``reana-client run``."""

from __future__ import annotations

from reana_commons.config import get_config
from reana_db.enums import RunStatus
from reana_db.models import User, WesRunRequest, Workflow
from reana_db.status import set_workflow_status
from sqlalchemy.orm import Session

from reana_server import submission
from reana_server.errors import ServerError
from reana_server.metrics import submission_refused
from reana_server.wes.attachments import Attachments
from reana_server.wes.run_requests import WesRunRequest as Request
from reana_server.wes.run_requests import reana_run
from reana_server.workflows import create_run


def submit(session: Session, user: User, quota_used_up: bool, request: Request,
           attachments: Attachments, upload, discard) -> Workflow:
    """Create, fill and start the run ``request`` asks for; returns it (queued).

    ``upload(workflow, attachment)`` stores an attachment in the workspace (through the
    workflow controller); ``discard(workflow)`` deletes a run whose attachments could
    not all be stored, so no half-filled run is left behind.
    """
    try:
        run = reana_run(request, attachments)
        workflow = create_run(session, user, run.name, run.specification, get_config(),
                              quota_used_up)
    except Exception as error:  # refused before it could be started: counted here
        submission_refused(error)
        raise
    session.add(WesRunRequest(workflow_id=workflow.id_, request=request.stored()))
    session.commit()
    try:
        for attachment in attachments:
            upload(workflow, attachment)
    except Exception:
        discard(workflow)
        raise
    queued, parameters = submission.start(
        session, user, workflow,
        {"input_parameters": run.input_parameters,
         "operational_options": run.operational_options},
        quota_used_up)
    session.commit()
    try:
        submission.publish(user, queued, parameters)
    except Exception as error:
        set_workflow_status(session, queued, RunStatus.failed,
                            logs=f"Submission failed: {error}")
        session.commit()
        raise ServerError(f"The workflow could not be submitted: {error}") from error
    return queued
