"""Flask application factory of the job controller.

Building the application costs ~20 ms of CPU (Werkzeug compiles each URL rule
into Python code), paid by every run's job controller. The zygote that forks
them calls :func:`prepare` once, so each forked job controller takes an
application built ahead of time (its own copy, after the fork) and only
attaches its controller to it.
"""

from __future__ import annotations

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from reana_job_controller.errors import JobControllerError


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


def create_app(controller) -> Flask:
    """An app serving ``controller`` (a :class:`~reana_job_controller.controller.JobController`)."""
    global _prepared
    app, _prepared = _prepared, None
    app = app or _build()
    app.extensions["job_controller"] = controller
    return app


def _build() -> Flask:
    from reana_job_controller.api.jobs import blueprint

    app = Flask("reana_job_controller")
    app.register_blueprint(blueprint)

    @app.get("/apispec")
    def apispec():
        from reana_job_controller.apispec import build_apispec  # imported on first use only

        return jsonify(build_apispec())

    @app.errorhandler(JobControllerError)
    def domain_error(error):
        return jsonify({"message": error.message}), error.status_code

    @app.errorhandler(ValidationError)
    def validation_error(error):
        return jsonify({"message": _messages(error.messages)}), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        return jsonify({"message": error.description}), error.code

    return app
