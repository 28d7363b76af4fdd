"""Flask application factory of the job controller.

Building the application costs ~20 ms of CPU (Werkzeug compiles each URL rule
into Python code), paid by every run's job controller. The zygote that forks
them calls :func:`prepare` once, so each forked job controller takes an
application built ahead of time (its own copy, after the fork) and only
attaches its controller to it.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from reana_commons.errors import REANAError
from reana_commons.service_auth import refusal
from werkzeug.exceptions import HTTPException


def _messages(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {_messages(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_messages(error) for error in errors)
    return str(errors)


_prepared: Flask | None = None
"""An application built by :func:`prepare`, not yet given to a controller."""


def prepare() -> None:
    """Build one application ahead of time; the next :func:`create_app` takes it."""
    global _prepared
    _prepared = _build()


def create_app(controller, token: str) -> Flask:
    """An app serving ``controller`` (a :class:`~reana_job_controller.controller.JobController`)
    to callers presenting ``token`` (the run token) only."""
    if not token:
        raise ValueError("A job controller needs the token its callers must present.")
    global _prepared
    app, _prepared = _prepared, None
    app = app or _build()
    app.extensions["job_controller"] = controller
    app.extensions["job_controller_token"] = token
    return app


def _build() -> Flask:
    from reana_job_controller.api.jobs import blueprint

    app = Flask("reana_job_controller")
    app.register_blueprint(blueprint)

    @app.before_request
    def authenticate():
        # The API runs commands in the run's workspace with the owner's secrets: only the
        # run's engine and run manager, which hold the run token, may call it.
        refused = refusal(request.headers.get("Authorization"),
                          app.extensions["job_controller_token"])
        if refused:
            return jsonify({"message": refused[1]}), refused[0]
        return None

    @app.get("/apispec")
    def apispec():
        from reana_job_controller.apispec import build_apispec  # imported on first use only

        return jsonify(build_apispec())

    @app.errorhandler(REANAError)
    def domain_error(error):
        return jsonify({"message": error.message}), error.status_code

    @app.errorhandler(ValidationError)
    def validation_error(error):
        return jsonify({"message": _messages(error.messages)}), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        return jsonify({"message": error.description}), error.code

    return app
