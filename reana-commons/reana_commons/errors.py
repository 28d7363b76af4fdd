"""Domain exceptions shared by every component of the platform.

Services map them to HTTP answers once, in their error-handler registry:
:class:`REANAValidationError` and :class:`WorkspacePathError` are client errors
(400), :class:`WorkspaceFileNotFound` and :class:`WorkspaceNotFound` are 404s.
"""

from __future__ import annotations


class REANAError(Exception):
    """Base class of the platform's domain errors; ``str(error)`` is user-facing."""

    @property
    def message(self) -> str:
        """The user-facing message (what goes into ``{"message": ...}``)."""
        return str(self.args[0]) if self.args else self.__class__.__name__


class REANAValidationError(REANAError, ValueError):
    """Invalid user input: reana.yaml, workflow parameters, operational options."""


class WorkspacePathError(REANAError, ValueError):
    """A user-given path or pattern is refused (escape attempt, absolute, malformed)."""


class WorkspaceNotFound(REANAError, LookupError):
    """The workspace directory itself does not exist."""


class WorkspaceFileNotFound(REANAError, FileNotFoundError):
    """A path inside the workspace does not exist."""


class MessagingError(REANAError):
    """Publishing to or consuming from the message broker failed for good."""
