"""The workflow controller client's connection handling, against a scripted HTTP peer."""

from __future__ import annotations

import socket
import threading

import pytest
from reana_commons.api_clients import WorkflowControllerClient, WorkflowControllerUnavailable

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class ScriptedPeer:
    """Accepts connections on a free port; each gets the next action of ``script``.

    ``"drop"`` closes the connection after reading the request (what a server
    closing an idle kept-alive connection looks like to the client), ``"hang"``
    reads it and never answers, ``"ok"`` answers 200 ``{}``.
    """

    def __init__(self, script: list[str]):
        self.script = list(script)
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.script:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            action = self.script.pop(0)
            connection.recv(65536)
            if action == "ok":
                connection.sendall(OK)
                self.held.append(connection)
            elif action == "hang":
                self.held.append(connection)
            else:
                connection.close()

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def peer(request):
    scripted = ScriptedPeer(request.param)
    yield scripted
    scripted.close()


@pytest.mark.parametrize("peer", [["drop", "ok"]], indirect=True)
def test_idempotent_call_retried_once_on_a_dropped_connection(peer):
    client = WorkflowControllerClient(peer.url, timeout=5)
    response = client.get_workflow_status("00000000-0000-0000-0000-000000000000", "w")
    assert response.status_code == 200
    assert peer.connections == 2


@pytest.mark.parametrize("peer", [["drop", "ok"]], indirect=True)
def test_post_not_retried_the_controller_may_have_acted(peer):
    client = WorkflowControllerClient(peer.url, timeout=5)
    with pytest.raises(WorkflowControllerUnavailable):
        client.request("POST", "/api/workflows", "00000000-0000-0000-0000-000000000000", json={})
    assert peer.connections == 1


@pytest.mark.parametrize("peer", [["hang", "ok"]], indirect=True)
def test_read_timeout_not_retried(peer):
    client = WorkflowControllerClient(peer.url, timeout=0.5)
    with pytest.raises(WorkflowControllerUnavailable):
        client.list_workflows("00000000-0000-0000-0000-000000000000")
    assert peer.connections == 1
