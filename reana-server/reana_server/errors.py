"""Domain exceptions of reana-server and their HTTP answers, registered once.

Every error a handler can raise maps to a status code and REANA's
``{"message": ...}`` body here; handlers never build error responses.
"""

from __future__ import annotations

from flask import Flask, jsonify
from reana_commons.errors import REANAError
from werkzeug.exceptions import HTTPException


class ServerError(REANAError):
    """Base of the errors raised by reana-server's domain modules."""


class BadRequest(ServerError):
    """The request is malformed or invalid (400)."""

    status_code = 400


class NotSignedIn(ServerError):
    """No access token was presented (401)."""

    status_code = 401


class Forbidden(ServerError):
    """Invalid token, exceeded quota or an action not allowed (403)."""

    status_code = 403


class NotFound(ServerError):
    """The resource does not exist for this user (404)."""

    status_code = 404


class Conflict(ServerError):
    """The action conflicts with the current state (409)."""

    status_code = 409


class NotImplementedYet(ServerError):
    """A REANA feature this server does not offer (501)."""

    status_code = 501


class WorkflowLookupError(ServerError):
    """A workflow of the user could not be found (REANA's REANA_WORKON message)."""

    def __init__(self, workflow_id_or_name: str, status_code: int = 404):
        self.status_code = status_code
        super().__init__(
            f"REANA_WORKON is set to {workflow_id_or_name}, but that workflow does not exist. "
            "Please set your REANA_WORKON environment variable appropriately."
        )


class ProxiedError(ServerError):
    """An error answer of the workflow controller, forwarded as it is."""

    def __init__(self, status_code: int, message: str):
        self.status_code = status_code
        super().__init__(message)


class ArrayError(ServerError):
    """An error whose body is a JSON array, not an object (``DELETE /api/secrets/`` 404)."""

    def __init__(self, status_code: int, items: list):
        self.status_code = status_code
        self.items = items
        super().__init__(", ".join(map(str, items)))


def message_response(message: str, status: int):
    """``{"message": ...}`` with ``status``."""
    response = jsonify(message=message)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Map every domain exception (and Flask's HTTP errors) to a JSON answer."""

    @app.errorhandler(ArrayError)
    def _array(error: ArrayError):
        response = jsonify(error.items)
        response.status_code = error.status_code
        return response

    @app.errorhandler(REANAError)
    def _domain(error: REANAError):
        return message_response(error.message, error.status_code)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        if messages:
            return message_response(_webargs_message(messages), 400)
        return message_response(error.description or error.name, error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unexpected error")
        return message_response(f"Internal server error: {error}", 500)


def _webargs_message(messages: dict) -> str:
    """REANA's ``Field 'page': Must be at least 1.`` from webargs' error dict."""
    for _location, fields in messages.items():
        if isinstance(fields, dict):
            for name, errors in fields.items():
                text = errors[0] if isinstance(errors, list) and errors else errors
                if isinstance(text, dict):
                    text = next(iter(text.values()))
                    text = text[0] if isinstance(text, list) else text
                return f"Field '{name}': {text}"
        return str(fields)
    return "Malformed request."
