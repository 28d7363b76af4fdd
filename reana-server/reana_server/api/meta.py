"""Meta endpoints: ping, you, token request, info, config, status."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from reana_commons.config import get_config
from reana_db.database import db_session

from reana_server import cluster, engines, schemas, users
from reana_server.api import controller, current_user
from reana_server.api_page import render as api_page_html
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.spec import build_spec

blueprint = Blueprint("meta", __name__)


@blueprint.get("/api/apispec")
def apispec():
    """Our OpenAPI (Swagger 2.0) specification, generated from the schemas."""
    return jsonify(build_spec(current_app))


@blueprint.get("/api/swagger.json")
def swagger_json():
    """The same specification, at REANA's address, without authentication."""
    return jsonify(build_spec(current_app))


@blueprint.get("/api/docs")
def api_page():
    """The specification as a readable page (rendered here: no JavaScript, no CDN)."""
    return current_app.response_class(api_page_html(build_spec(current_app)),
                                      mimetype="text/html")


@blueprint.get("/api/ping")
@operation("ping", "Ping the server (no authentication).", {200: schemas.Ping}, anonymous=True)
def ping():
    return jsonify(message="OK", status="200")


@blueprint.get("/api/you")
@operation(
    "get_you",
    "Get information about the authenticated user, with quota.",
    {200: schemas.You, 401: Message, 403: Message, 500: Message},
)
def get_you():
    return jsonify(users.profile(db_session(), current_user()))


@blueprint.put("/api/token")
@operation(
    "request_token",
    "Request an access token for the authenticated user.",
    {200: schemas.TokenRequested, 401: Message, 403: Message, 500: Message},
)
def request_token():
    session = db_session()
    body = users.request_token(session, current_user())
    session.commit()
    return jsonify(body)


@blueprint.get("/api/info")
@operation(
    "info",
    "Get information about the cluster capabilities.",
    {200: schemas.Info, 500: Message},
)
def info():
    return jsonify(cluster.cluster_info(get_config(), engines.installed(controller())))


@blueprint.get("/api/config")
@operation(
    "get_config",
    "Get the configuration of the web interface (no authentication).",
    {200: schemas.UiConfig, 500: Message},
    anonymous=True,
)
def ui_config():
    return jsonify(cluster.ui_config(get_config()))


@blueprint.get("/api/status")
@operation(
    "status",
    "Get the cluster health.",
    {200: schemas.ClusterStatus, 500: Message},
)
def status():
    return jsonify(cluster.cluster_status(db_session(), get_config()))
