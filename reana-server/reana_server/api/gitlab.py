"""GitLab integration endpoints of REANA's web UI (not configured on this server)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, jsonify
from reana_commons.config import get_config

from reana_server import schemas
from reana_server.errors import Forbidden
from reana_server.operations import operation
from reana_server.schemas import Message

blueprint = Blueprint("gitlab", __name__)

NOT_CONFIGURED = "GitLab integration is not configured on this REANA server."


@blueprint.get("/api/gitlab/connect")
@operation("gitlab_connect", "Redirect to GitLab's OAuth authorization page.", {302: None})
def gitlab_connect():
    extra = get_config().extra or {}
    host = extra.get("gitlab_host", "gitlab.cern.ch")
    query = urlencode(
        {
            "client_id": extra.get("gitlab_oauth_app_id", ""),
            "redirect_uri": get_config().server_url.rstrip("/") + "/api/gitlab",
            "response_type": "code",
            "scope": "api",
        }
    )
    response = jsonify(message="Redirecting to GitLab.")
    response.status_code = 302
    response.headers["Location"] = f"https://{host}/oauth/authorize?{query}"
    return response


@blueprint.get("/api/gitlab")
@operation(
    "gitlab_oauth",
    "GitLab OAuth callback.",
    {200: Message, 302: None, 403: Message, 500: Message},
    produces=("application/json", "text/html"),
)
def gitlab_oauth():
    raise Forbidden(NOT_CONFIGURED)


@blueprint.get("/api/gitlab/projects")
@operation(
    "gitlab_projects", "List the user's GitLab projects.", {200: None, 403: Message, 500: Message}
)
def gitlab_projects():
    raise Forbidden(NOT_CONFIGURED)


@blueprint.post("/api/gitlab/webhook")
@operation(
    "create_gitlab_webhook",
    "Create a GitLab webhook running the project on REANA.",
    {201: None, 400: Message, 403: Message, 500: Message},
    body=schemas.GitlabWebhookBody,
    body_name="data",
    body_required=True,
)
def create_gitlab_webhook(body):
    raise Forbidden(NOT_CONFIGURED)


@blueprint.delete("/api/gitlab/webhook")
@operation(
    "delete_gitlab_webhook",
    "Delete a GitLab webhook.",
    {204: None, 400: Message, 403: Message, 404: None, 500: Message},
    body=schemas.GitlabWebhookDeleteBody,
    body_name="data",
    body_required=True,
)
def delete_gitlab_webhook(body):
    raise Forbidden(NOT_CONFIGURED)
