"""Where an interactive session's Jupyter server listens, and how to talk to it.

A session manager records an *endpoint* in the session's handle: ``unix:<path>`` (the
local runtime: a socket file only the platform and the session's sandbox see, no port
to allocate or to leak) or ``http://<host>:<port>`` (a Kubernetes Service). reana-server's
proxy and the workflow controller's session keeper both open connections to it here.
"""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit


class EndpointError(ValueError):
    """An endpoint this module cannot read."""


def open_socket(endpoint: str, timeout: float | None = 10.0) -> socket.socket:
    """A connected socket to ``endpoint`` (raises ``OSError`` when nothing listens)."""
    if endpoint.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(endpoint.removeprefix("unix:"))
        except OSError:
            sock.close()
            raise
        return sock
    parts = urlsplit(endpoint)
    if parts.scheme != "http" or not parts.hostname:
        raise EndpointError(f"Unknown session endpoint {endpoint!r}.")
    return socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)


class EndpointConnection(http.client.HTTPConnection):
    """``http.client`` over a session endpoint (a Unix socket or TCP)."""

    def __init__(self, endpoint: str, timeout: float | None = 60.0):
        super().__init__("localhost", timeout=timeout)
        self.endpoint = endpoint

    def connect(self) -> None:
        self.sock = open_socket(self.endpoint, self.timeout)


def jupyter_status(endpoint: str, base_url: str, secret: str,
                   timeout: float = 5.0) -> dict | None:
    """Jupyter's ``<base>api/status`` (``last_activity``, ``kernels``...), None if no answer.

    The request does not count as activity (Jupyter's status handler does not track
    it), so polling it does not keep an idle session alive.
    """
    connection = EndpointConnection(endpoint, timeout=timeout)
    try:
        connection.request("GET", base_url.rstrip("/") + "/api/status",
                           headers={"Authorization": f"token {secret}"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return None
        answer = json.loads(body)
        return answer if isinstance(answer, dict) else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
