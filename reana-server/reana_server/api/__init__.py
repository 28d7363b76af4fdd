"""Blueprints of the public API and what every request shares: the session, the user."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, request
from reana_commons.api_clients import WorkflowControllerClient
from reana_commons.request_context import bind_user
from reana_db.database import db_session, get_engine
from reana_db.models import User

from reana_server.api.accounts import authenticate_session
from reana_server.auth import authenticate, token_from
from reana_server.operations import get_operation

PUBLIC_ENDPOINTS = ("meta.swagger_json", "meta.api_page")
"""Endpoints outside the spec that need no token: the specification and its page."""


def current_user() -> User:
    """The authenticated user of this request."""
    return g.reana_user


def quota_used_up() -> bool:
    """Whether the user's quota was used up when this request authenticated."""
    return g.reana_quota_used_up


def controller() -> WorkflowControllerClient:
    """The workflow controller client of this app (one HTTP session per app)."""
    client = current_app.extensions.get("reana_controller")
    if client is None:
        client = WorkflowControllerClient(current_app.config["WORKFLOW_CONTROLLER_URL"])
        current_app.extensions["reana_controller"] = client
    return client


def declared_codes() -> set[int]:
    """Status codes the current endpoint declares in the spec."""
    view = current_app.view_functions.get(request.endpoint)
    op = get_operation(view) if view else None
    return set(op.responses) if op else {200, 500}


def _closest_declared(status: int, declared: set[int], success_codes: tuple[int, ...]) -> int:
    """A declared code for an undeclared answer: client errors stay client errors."""
    if 400 <= status < 500 and status not in success_codes:
        for candidate in (400, 409, 403, 404):
            if candidate in declared:
                return candidate
    return 500


def forward(upstream, success_codes: tuple[int, ...] = (200,)):
    """Answer with the workflow controller's JSON and status (undeclared codes become 500)."""
    status = upstream.status_code
    if 200 <= status < 300 and status in declared_codes() and _is_json(upstream):
        # The common case: the controller's JSON goes out as it came (no decode, re-encode).
        return current_app.response_class(
            upstream.content, status=status, mimetype="application/json"
        )
    try:
        body = upstream.json()
    except ValueError:
        body = {"message": upstream.text.strip() or f"Workflow controller answered {status}."}
    declared = declared_codes()
    if status not in declared:
        message = body.get("message") if isinstance(body, dict) else None
        body = {"message": message or f"Workflow controller answered {status}."}
        status = _closest_declared(status, declared, success_codes)
    if status >= 400 and not isinstance(body, dict):
        body = {"message": str(body)}
    response = jsonify(body)
    response.status_code = status
    return response


CHUNK = 1024 * 1024
PASSED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Length", "Last-Modified")


def stream(upstream):
    """Stream the workflow controller's 200 answer through (its file headers kept);
    any other answer as :func:`forward` does."""
    if upstream.status_code != 200:
        try:
            return forward(upstream)
        finally:
            upstream.close()
    headers = {k: upstream.headers[k] for k in PASSED_HEADERS if k in upstream.headers}
    response = current_app.response_class(upstream.iter_content(CHUNK), status=200,
                                          headers=headers)
    response.call_on_close(upstream.close)
    return response


def _is_json(upstream) -> bool:
    return upstream.headers.get("Content-Type", "").startswith("application/json")


def _authenticate_request():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return None
    group = request.blueprints[-1] if request.blueprints else None
    # Prometheus' scrape, web pages, sign-in; an interactive session checks its own access
    if group in ("metrics", "ui", "accounts", "session_proxy"):
        return None
    if group == "wes":  # also HTTP Basic; its own anonymous endpoint
        from reana_server.api.wes import authenticate_wes

        return authenticate_wes()
    op = get_operation(view)
    if op is not None and op.anonymous or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = token_from(request.args.get("access_token"), request.headers.get("Authorization"))
    found = authenticate_session() if token is None else None
    g.reana_user, g.reana_quota_used_up = found or authenticate(db_session(), token)
    bind_user(g.reana_user.id_)
    return None


def _remove_session(_exc=None):
    db_session.remove()


def register_api(app: Flask) -> None:
    """Register every blueprint, authentication and session teardown."""
    from reana_server.api import (
        accounts,
        gitlab,
        launch,
        meta,
        provenance,
        run_views,
        secrets,
        session_proxy,
        sessions,
        sharing,
        wes,
        workflows,
        workspace,
    )

    get_engine()
    app.before_request(_authenticate_request)
    app.teardown_appcontext(_remove_session)
    accounts.configure(app)
    for module in (meta, workflows, workspace, secrets, sessions, sharing, launch, gitlab, wes,
                   provenance, accounts, run_views, session_proxy):
        app.register_blueprint(module.blueprint)
