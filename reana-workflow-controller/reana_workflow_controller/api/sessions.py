"""Interactive sessions: open and close a Jupyter server on a run's workspace."""

from __future__ import annotations

from flask import Blueprint, jsonify

from reana_workflow_controller import sessions
from reana_workflow_controller.api.common import json_body, owned_workflow, query, session
from reana_workflow_controller.schemas import OpenSessionBody, UserQuery

blueprint = Blueprint("sessions", __name__, url_prefix="/api")


@blueprint.post("/workflows/<workflow_id_or_name>/open/<interactive_session_type>")
def open_session(workflow_id_or_name: str, interactive_session_type: str):
    """Start a session (``{"image"}`` optional): ``{"path": "/<workflow uuid>"}``."""
    _, workflow = owned_workflow(query(UserQuery), workflow_id_or_name)
    body = json_body(OpenSessionBody)
    path = sessions.open_session(session(), workflow, interactive_session_type, body["image"])
    return jsonify(path=path)


@blueprint.post("/workflows/<workflow_id_or_name>/close")
@blueprint.post("/workflows/<workflow_id_or_name>/close/")
def close_session(workflow_id_or_name: str):
    """End the run's session and free what it held."""
    _, workflow = owned_workflow(query(UserQuery), workflow_id_or_name)
    sessions.close_session(session(), workflow)
    return jsonify(message="The interactive session has been closed")
