"""The session-manager interface: how an interactive session runs on a runtime.

A session manager starts one Jupyter server whose root is a run's workspace, tells
whether it is still there and ends it. Like run managers it never writes rows
(:mod:`reana_workflow_controller.sessions` does, around these calls) and describes a
started session with a JSON-able *handle*, whose ``endpoint`` (``unix:<path>`` or
``http://host:port``, :mod:`reana_commons.session_endpoints`) is where reana-server's
proxy and the session keeper reach the server under ``base_url``.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path


class SessionManagerError(RuntimeError):
    """The runtime could not start or end a session (the message says why)."""


@dataclass(frozen=True)
class SessionRequest:
    """What a session manager needs to start a session."""

    session_id: uuid.UUID
    workflow_id: uuid.UUID
    owner_id: uuid.UUID
    workspace: Path
    secret: str
    """The only token the Jupyter server accepts (the proxy presents it for the user)."""
    image: str | None = None

    @property
    def base_url(self) -> str:
        """Jupyter's base URL: the session's public path (``/<workflow uuid>/``)."""
        return f"/{self.workflow_id}/"


class SessionManager(ABC):
    """Starts, watches and ends the Jupyter servers of interactive sessions."""

    name: str = ""

    @abstractmethod
    def start(self, request: SessionRequest) -> dict:
        """Start the session's Jupyter server; returns its handle (with ``endpoint``).

        Returns once it is launched, not once it answers (it may take a while: the
        session keeper marks it ``running`` when it does). Raises
        :class:`SessionManagerError` when it cannot be launched.
        """

    @abstractmethod
    def stop(self, handle: dict | None) -> None:
        """End the session's server and whatever it started; idempotent."""

    @abstractmethod
    def is_alive(self, handle: dict | None) -> bool:
        """Whether the session's server is still there (starting or serving)."""
