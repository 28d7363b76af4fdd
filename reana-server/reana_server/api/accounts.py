"""Web UI sign-in: ``/api/login``, ``/api/register``, ``/api/logout`` and the session cookie.

A browser signs in once (with its access token, or with email and password when
local accounts are enabled) and then holds a signed, HttpOnly, SameSite=Lax
cookie; every ``/api`` route accepts it as REANA 0.9's ``signin_required`` does.
CSRF: a cookie-authenticated request that changes something must carry the
session's ``X-CSRF-Token`` header, which only pages of this origin can read (the
page shell holds it); sign-in and registration accept JSON bodies only, which a
cross-site form cannot send. Not in the OpenAPI specification, like REANA's.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Blueprint, Flask, jsonify, request, session
from marshmallow import Schema, ValidationError
from reana_commons.config import get_config
from reana_db.database import db_session

from reana_server import accounts
from reana_server.account_schemas import LoginBody, RegisterBody
from reana_server.errors import BadRequest, Forbidden, NotSignedIn
from reana_server.operations import validation_message

blueprint = Blueprint("accounts", __name__)

SESSION_KEY = "reana_user"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PROFILE_ENDPOINTS = ("meta.get_you", "meta.request_token", "meta.status", "meta.info")
"""What a password session may do before an administrator granted the user a token."""


def configure(app: Flask) -> None:
    """The session cookie's settings."""
    config = get_config()
    app.config.update(
        SESSION_COOKIE_NAME="reana_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_lifetime_hours),
    )


def csrf_token() -> str | None:
    """The CSRF token of the browser's session (None: not signed in)."""
    return session.get(CSRF_KEY) if SESSION_KEY in session else None


def authenticate_session():
    """The session's user and quota flag, or None when the request has no session.

    Called when a request presents no token. Raises 401 (and forgets the
    session) when the session no longer holds, 403 when its token was revoked
    or a state-changing request lacks the CSRF token.
    """
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    needs_token = request.endpoint not in PROFILE_ENDPOINTS
    try:
        found = accounts.session_user(db_session(), stored, needs_token)
    except NotSignedIn:
        session.clear()
        raise
    if request.method not in SAFE_METHODS:
        _check_csrf()
    return found


def _check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = session.get(CSRF_KEY) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("This request lacks your session's CSRF token (X-CSRF-Token header): "
                        "reload the page and try again.")


def _load(schema: Schema) -> dict:
    if not request.is_json:
        raise BadRequest("Send a JSON body (Content-Type: application/json).")
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise BadRequest("Malformed request: the JSON body must be an object.")
    try:
        return schema.load(raw)
    except ValidationError as error:
        raise BadRequest(validation_message(error)) from error


def _start_session(stored: dict):
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = stored
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    return jsonify(message="Signed in.", csrf_token=session[CSRF_KEY])


@blueprint.post("/api/login")
def login():
    """Sign in with ``{"access_token"}`` or ``{"email", "password"}``."""
    body = _load(LoginBody())
    if "access_token" in body:
        return _start_session(accounts.sign_in_with_token(db_session(), body["access_token"]))
    if not get_config().local_users:
        raise Forbidden("Sign-in with email and password is disabled on this server: "
                        "sign in with your access token.")
    return _start_session(
        accounts.sign_in_with_password(db_session(), body["email"], body["password"]))


@blueprint.post("/api/register")
def register():
    """Create a local account (no access token yet) and sign it in."""
    config = get_config()
    if not config.local_users or config.hide_signup:
        raise Forbidden("Sign-up is disabled on this server: ask its administrators for an "
                        "account.")
    body = _load(RegisterBody())
    db = db_session()
    user = accounts.register(db, body["email"], body["password"], body.get("full_name"))
    db.commit()
    response = _start_session({"uid": str(user.id_), "via": "password",
                               "key": accounts.password_stamp(user)})
    response.status_code = 201
    return response


@blueprint.post("/api/logout")
def logout():
    """End the browser's session."""
    if SESSION_KEY in session:
        _check_csrf()
    session.clear()
    return jsonify(message="Signed out.")
