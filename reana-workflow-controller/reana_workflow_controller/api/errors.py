"""One place mapping domain errors to REANA's ``{"message": ...}`` answers."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from reana_commons.errors import (
    REANAValidationError,
    WorkspaceFileNotFound,
    WorkspaceNotFound,
    WorkspacePathError,
)
from reana_db.status import InvalidStatusTransition
from werkzeug.exceptions import HTTPException

from reana_workflow_controller.errors import ControllerError

log = logging.getLogger(__name__)

_STATUS_BY_ERROR = (
    (REANAValidationError, 400),
    (WorkspacePathError, 400),
    (WorkspaceNotFound, 404),
    (WorkspaceFileNotFound, 404),
    (InvalidStatusTransition, 409),
)


def answer(message: str, status_code: int):
    """A JSON ``{"message": ...}`` response."""
    response = jsonify({"message": message})
    response.status_code = status_code
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(ControllerError)
    def _controller_error(error: ControllerError):
        return answer(error.message, error.status_code)

    for error_class, status_code in _STATUS_BY_ERROR:
        app.register_error_handler(
            error_class, lambda error, code=status_code: answer(_message(error), code)
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return answer(error.description or error.name, error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("Unexpected error in the workflow controller API")
        return answer("Internal workflow controller error.", 500)


def _message(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)
