"""Interactive sessions: open and close a Jupyter server on a run's workspace (REANA's API).

The workflow controller starts and ends the server; reana-server checks who asks (the
run's owner, within quota) and serves the session itself at ``/<workflow uuid>/``
(:mod:`reana_server.api.session_proxy`).
"""

from __future__ import annotations

from flask import Blueprint
from reana_db.database import db_session

from reana_server import schemas
from reana_server.api import controller, current_user, forward, quota_used_up
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.workflows import check_quota, get_user_workflow

blueprint = Blueprint("sessions", __name__)

W = "/api/workflows/<workflow_id_or_name>"
ERRORS = {400: Message, 403: Message, 404: Message, 500: Message}


@blueprint.post(W + "/open/<interactive_session_type>")
@operation(
    "open_interactive_session",
    "Open an interactive session (Jupyter) on the run's workspace, served at the path it "
    "answers (the run's UUID), with the user's access token as ?token=.",
    {200: schemas.SessionOpened, **ERRORS},
    body=schemas.OpenSessionBody,
    body_name="interactive_session_configuration",
    consumes=("application/json",),
)
def open_interactive_session(workflow_id_or_name, interactive_session_type, body):
    session = db_session()
    user = current_user()
    workflow = get_user_workflow(session, user, workflow_id_or_name, status_code=404)
    check_quota(session, user, quota_used_up())
    return forward(controller().open_session(user.id_, workflow.id_, interactive_session_type,
                                             body.get("image")))


@blueprint.post(W + "/close/", strict_slashes=False)
@operation(
    "close_interactive_session",
    "Close the run's interactive session: its server ends, its path stops serving.",
    {200: schemas.SessionClosed, **ERRORS},
    consumes=("application/json",),
)
def close_interactive_session(workflow_id_or_name):
    user = current_user()
    workflow = get_user_workflow(db_session(), user, workflow_id_or_name, status_code=404)
    return forward(controller().close_session(user.id_, workflow.id_))
