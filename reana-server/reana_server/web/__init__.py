"""The web UI: one server-rendered page shell and the ES modules and CSS it loads, all local.

Every page of the UI is the same shell (``templates/index.html``); the browser
draws the page from the path (``static/app.js``) with the public ``/api``. The
shell carries the session's CSRF token and a Content-Security-Policy allowing
nothing but this origin, so no script, style or font comes from elsewhere.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from reana_commons.config import REANA_VERSION

from reana_server.api.accounts import csrf_token

blueprint = Blueprint("ui", __name__, static_folder="static", static_url_path="/ui/static",
                      template_folder="templates")

PAGES = ("/", "/signin", "/signup", "/details/<path:workflow_id>", "/profile", "/status",
         "/launch")
"""The UI's addresses (reana-ui's, so bookmarks and "Launch on REANA" badges keep working)."""

POLICY = ("default-src 'self'; img-src 'self' data: blob:; object-src 'self' blob:; "
          "frame-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def shell(**_path):
    """The page shell, never cached (it holds the session's CSRF token)."""
    response = current_app.response_class(
        render_template("index.html", csrf_token=csrf_token() or "", version=REANA_VERSION),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


for _index, _page in enumerate(PAGES):
    blueprint.add_url_rule(_page, f"page_{_index}", shell, methods=["GET"])
