"""Flask application factory of the job controller."""

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


def create_app(controller) -> Flask:
    """An app serving ``controller`` (a :class:`~reana_job_controller.controller.JobController`)."""
    from reana_job_controller.api.jobs import blueprint

    app = Flask("reana_job_controller")
    app.extensions["job_controller"] = controller
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
