"""Interactive sessions (open/close): not available on this platform yet."""

from __future__ import annotations

from flask import Blueprint

from reana_workflow_controller.api.common import json_body, owned_workflow, query
from reana_workflow_controller.errors import NotAvailable
from reana_workflow_controller.schemas import OpenSessionBody, UserQuery

blueprint = Blueprint("sessions", __name__, url_prefix="/api")

SUPPORTED_TYPES = ("jupyter",)


@blueprint.post("/workflows/<workflow_id_or_name>/open/<interactive_session_type>")
def open_session(workflow_id_or_name: str, interactive_session_type: str):
    """Refused with 404: interactive sessions are not available yet."""
    _, workflow = owned_workflow(query(UserQuery), workflow_id_or_name)
    json_body(OpenSessionBody)
    if interactive_session_type not in SUPPORTED_TYPES:
        raise NotAvailable(
            f"Interactive session type {interactive_session_type} not found, "
            f"try with one of: {list(SUPPORTED_TYPES)}"
        )
    raise NotAvailable(
        "Interactive sessions are not available yet on this REANA platform: "
        f"no {interactive_session_type} session can be opened for {workflow.full_name}."
    )


@blueprint.post("/workflows/<workflow_id_or_name>/close")
@blueprint.post("/workflows/<workflow_id_or_name>/close/")
def close_session(workflow_id_or_name: str):
    """Refused with 404: no session can be open (sessions are not available yet)."""
    owned_workflow(query(UserQuery), workflow_id_or_name)
    raise NotAvailable(
        f"Workflow - {workflow_id_or_name} has no open interactive session "
        "(interactive sessions are not available yet on this REANA platform)."
    )
