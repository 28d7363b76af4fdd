"""The internal REST API of the workflow controller: app factory and server."""

from __future__ import annotations

from flask import Flask, request
from reana_commons.config import get_config
from reana_commons.log_redaction import configure_logging
from reana_commons.metrics.flask import instrument
from reana_commons.request_context import install as install_request_context
from reana_commons.service_auth import refusal, service_credential
from reana_db.database import db_session, get_engine
from werkzeug.routing import PathConverter

from reana_workflow_controller.api import register_blueprints
from reana_workflow_controller.api.errors import answer, register_error_handlers

PUBLIC_ENDPOINTS = frozenset({"health.healthz", "metrics.metrics_view"})
"""Endpoints answering without the service credential (probes of the process manager,
Prometheus)."""
METRICS_SERVICE = "reana-workflow-controller"


class WorkspacePathConverter(PathConverter):
    """A workspace path in a URL: like ``path``, but it may start with ``/``.

    Any character may be in a file name, newlines included (``.`` would stop there).
    """

    regex = r"[\s\S]+?"
    part_isolating = False


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application (``config`` overrides Flask settings, for tests)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=None)
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    # REANA's client percent-encodes whole paths ("%2Fdata%2Fx" → "//data/x"): no
    # redirect to a merged path, and workspace paths may start with "/".
    app.url_map.merge_slashes = False
    app.url_map.converters["workspace_path"] = WorkspacePathConverter
    install_request_context(app, user_argument="user")
    instrument(app, METRICS_SERVICE)
    register_error_handlers(app)
    register_blueprints(app)
    credential = service_credential(get_config().secret_key)

    @app.before_request
    def _authenticate():
        # Only the platform's services may call: the API trusts the ?user= they name.
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        refused = refusal(request.headers.get("Authorization"), credential)
        return answer(refused[1], refused[0]) if refused else None

    @app.before_request
    def _bind_database():
        get_engine()

    @app.after_request
    def _commit(response):
        # Commit at the edge: a successful request's writes become visible only now,
        # and a failing commit turns into an error answer instead of a lost write.
        if response.status_code < 400:
            db_session.commit()
        else:
            db_session.rollback()
        return response

    @app.teardown_appcontext
    def _remove_session(_error=None):
        db_session.remove()

    return app


def serve(host: str, port: int, workers: int = 2, threads: int = 4) -> None:
    """Serve the API: gunicorn with ``workers`` processes, or threaded werkzeug for ≤ 1."""
    configure_logging(get_config().log_level, service=METRICS_SERVICE)
    if workers <= 1:
        from werkzeug.serving import run_simple

        run_simple(host, port, create_app(), threaded=True, use_reloader=False)
        return
    from reana_commons.wsgi_server import gunicorn_settings, serve_gunicorn

    serve_gunicorn(create_app, gunicorn_settings(host, port, workers, threads, timeout=600))
