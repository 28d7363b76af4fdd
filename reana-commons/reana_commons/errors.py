"""Domain exceptions shared by every component of the platform: one base for all.

Every service's own errors derive from :class:`REANAError`, which carries the
HTTP status of its answer; a service maps them all with one handler
(``{"message": error.message}`` with ``error.status_code``).
:class:`REANAValidationError` and :class:`WorkspacePathError` are client errors
(400), :class:`WorkspaceFileNotFound` and :class:`WorkspaceNotFound` are 404s.
"""

from __future__ import annotations


class REANAError(Exception):
    """Base class of the platform's domain errors; ``str(error)`` is user-facing.

    ``status_code`` is the HTTP status of the answer (per class, or given).
    """

    status_code = 500

    def __init__(self, *args, status_code: int | None = None):
        super().__init__(*args)
        if status_code is not None:
            self.status_code = status_code

    @property
    def message(self) -> str:
        """The user-facing message (what goes into ``{"message": ...}``)."""
        return str(self.args[0]) if self.args else self.__class__.__name__


class REANAValidationError(REANAError, ValueError):
    """Invalid user input: reana.yaml, workflow parameters, operational options."""

    status_code = 400


class WorkspacePathError(REANAError, ValueError):
    """A user-given path or pattern is refused (escape attempt, absolute, malformed)."""

    status_code = 400


class WorkspaceNotFound(REANAError, LookupError):
    """The workspace directory itself does not exist."""

    status_code = 404


class WorkspaceFileNotFound(REANAError, FileNotFoundError):
    """A path inside the workspace does not exist."""

    status_code = 404


class MessagingError(REANAError):
    """Publishing to or consuming from the message broker failed for good."""
