"""One place mapping domain errors to REANA's ``{"message": ...}`` answers."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from reana_commons.errors import REANAError
from reana_db.creation import InvalidRunRequest
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def answer(message: str, status_code: int):
    """A JSON ``{"message": ...}`` response."""
    response = jsonify({"message": message})
    response.status_code = status_code
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(REANAError)
    def _domain_error(error: REANAError):
        return answer(error.message, error.status_code)

    @app.errorhandler(InvalidRunRequest)
    def _refused_run(error: InvalidRunRequest):
        # REANA's workflow controller answers every refused creation with 400 (its API
        # declares no 403); the public API keeps REANA's 403s.
        return answer(error.message, 400)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return answer(error.description or error.name, error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("Unexpected error in the workflow controller API")
        return answer("Internal workflow controller error.", 500)

