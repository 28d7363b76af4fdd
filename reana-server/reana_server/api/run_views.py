"""Endpoints only the web UI uses about a run: its step graph and its live event stream.

They are not in the OpenAPI specification (reana-client 0.9.6 loads that and
must see REANA's), and are authenticated like every ``/api`` route.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, stream_with_context
from reana_db.database import db_session

from reana_server import run_events, run_graph
from reana_server.api import controller, current_user
from reana_server.errors import NotFound
from reana_server.workflows import get_user_workflow

blueprint = Blueprint("run_views", __name__)

W = "/api/workflows/<workflow_id_or_name>"


def _workflow(workflow_id_or_name: str):
    return get_user_workflow(db_session(), current_user(), workflow_id_or_name, status_code=404)


def _json_or_none(upstream) -> dict | None:
    if upstream.status_code != 200:
        return None
    body = upstream.json()
    return body if isinstance(body, dict) else None


def _readers(user_id, run_id: str):
    def read_item():
        body = _json_or_none(controller().list_workflows(
            user_id, type="batch", workflow_id_or_name=run_id, include_progress=True))
        items = (body or {}).get("items") or []
        return items[0] if items else None

    def read_logs():
        return _json_or_none(controller().get_workflow_logs(user_id, run_id))

    return read_item, read_logs


@blueprint.get(W + "/graph")
def get_graph(workflow_id_or_name):
    """The run's step graph, each node with its state and jobs."""
    workflow = _workflow(workflow_id_or_name)
    graph = run_graph.structure(workflow.type_, workflow.reana_specification)
    answer = _readers(current_user().id_, str(workflow.id_))[1]()
    if answer is None:
        raise NotFound(f"The logs of {workflow_id_or_name} could not be read.")
    return jsonify(run_graph.with_states(graph, run_events.logs_of(answer)[1]))


@blueprint.get(W + "/events")
def get_events(workflow_id_or_name):
    """Server-sent events: the run's state, graph and new log text as they change."""
    workflow = _workflow(workflow_id_or_name)
    graph = run_graph.structure(workflow.type_, workflow.reana_specification)
    read_item, read_logs = _readers(current_user().id_, str(workflow.id_))
    db_session.remove()  # the stream reads through the workflow controller only
    stream = run_events.events(read_item, read_logs, graph)
    return current_app.response_class(
        stream_with_context(stream), mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
