"""GA4GH WES 1.1 at ``/ga4gh/wes/v1``: a blueprint group over REANA's runs (ADR 0027).

Its own authentication (the REANA token as ``Authorization: Bearer``,
``?access_token=`` or the password of HTTP Basic, which the stock
``wes-client`` sends; service-info needs none) and its own error body, WES's
``{"msg", "status_code"}``. The rules are in :mod:`reana_server.wes`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from reana_commons.errors import REANAError
from reana_commons.request_context import bind_user
from reana_db.database import db_session
from werkzeug.exceptions import HTTPException

from reana_server.auth import authenticate, token_from
from reana_server.wes.run_views import Links

PREFIX = "/ga4gh/wes/v1"
ANONYMOUS = {"wes.service_info.get_service_info"}

blueprint = Blueprint("wes", __name__, url_prefix=PREFIX)


def links() -> Links:
    """URLs of this server's WES and REANA endpoints, as the client reached them."""
    return Links(request.host_url.rstrip("/"), PREFIX)


def error_response(message: str, status: int):
    """WES's ``ErrorResponse``."""
    response = jsonify(msg=message, status_code=status)
    response.status_code = status
    return response


def authenticate_wes() -> None:
    """Who calls (the app's authentication hook asks this for WES endpoints): the token
    as Bearer, ``?access_token=`` or the HTTP Basic password; service-info needs none."""
    token = token_from(request.args.get("access_token"), request.headers.get("Authorization"),
                       basic=True)
    if request.endpoint in ANONYMOUS:
        g.reana_user = None
        if token:  # counts of the caller's runs when a valid token comes along
            try:
                g.reana_user, g.reana_quota_used_up = authenticate(db_session(), token)
            except REANAError:
                g.reana_user = None
        return
    g.reana_user, g.reana_quota_used_up = authenticate(db_session(), token)
    bind_user(g.reana_user.id_)


@blueprint.errorhandler(REANAError)
def _domain(error: REANAError):
    return error_response(error.message, error.status_code)


@blueprint.errorhandler(HTTPException)
def _http(error: HTTPException):
    if error.code == 429 and hasattr(error, "limit"):  # Flask-Limiter's, with Retry-After
        from reana_server.rate_limits import too_many

        return too_many(error)
    return error_response(error.description or error.name, error.code or 500)


@blueprint.errorhandler(Exception)
def _unexpected(error: Exception):
    current_app.logger.exception("Unexpected error")
    return error_response(f"Internal server error: {error}", 500)


from reana_server.api.wes import runs, service_info, tasks  # noqa: E402 - they need blueprint

for _child in (service_info.blueprint, runs.blueprint, tasks.blueprint):
    blueprint.register_blueprint(_child)
