"""Flask application factory of the public REST API."""

from __future__ import annotations

from flask import Flask
from reana_commons.config import get_config
from werkzeug.routing import PathConverter


class FileNamePathConverter(PathConverter):
    """werkzeug's ``path`` converter, matching newlines too."""

    regex = r"[^/][\s\S]*?"


def create_app(config: dict | None = None) -> Flask:
    """Build the API app; ``config`` overrides Flask settings (e.g. ``WORKFLOW_CONTROLLER_URL``)."""
    from reana_commons.metrics.flask import instrument
    from reana_commons.request_context import install as install_request_context

    from reana_server.api import register_api
    from reana_server.errors import register_error_handlers
    from reana_server.metrics import run_collectors
    from reana_server.rate_limits import install as install_rate_limits

    app = Flask("reana_server")
    settings = get_config()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        WORKFLOW_CONTROLLER_URL=settings.workflow_controller_url,
        MAX_CONTENT_LENGTH=None,
    )
    app.config.update(config or {})
    app.json.sort_keys = False
    # Percent-decoded workspace paths may start with "/": route them, never redirect.
    app.url_map.merge_slashes = False
    # A file name may hold any character, newlines included (``.`` would stop there).
    app.url_map.converters["path"] = FileNamePathConverter
    install_request_context(app)
    instrument(app, "reana-server", run_collectors)
    register_error_handlers(app)
    register_api(app)
    from reana_server import web  # the UI's pages (they read the API's browser sessions)

    app.register_blueprint(web.blueprint)
    install_rate_limits(app)  # after authentication, which tells whose request it is
    return app
