"""Domain errors of the workflow controller, each carrying its HTTP status code.

The API maps every :class:`~reana_commons.errors.REANAError` once (``api/errors.py``)
to a ``{"message": ...}`` answer.
"""

from __future__ import annotations

from reana_commons.errors import REANAError


class ControllerError(REANAError):
    """A refused request; ``message`` is shown to the user, ``status_code`` is HTTP's."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message, status_code=status_code)


class BadRequest(ControllerError):
    """Malformed or invalid input."""

    status_code = 400


class NotFound(ControllerError):
    """An unknown user, workflow, file or session."""

    status_code = 404


class Conflict(ControllerError):
    """The request does not fit the current state of the workflow or workspace."""

    status_code = 409


class NotAvailable(NotFound):
    """A feature this platform does not provide yet (interactive sessions)."""
