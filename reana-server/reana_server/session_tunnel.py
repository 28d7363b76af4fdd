"""Byte tunnels between a browser's WebSocket and a session's Jupyter server.

Once Jupyter has answered a WebSocket handshake with ``101 Switching Protocols`` the
connection is a stream of WebSocket frames between the two ends; the proxy has nothing
to interpret in it (the subprotocol, extensions and pings are theirs), so it copies bytes,
like a reverse proxy's ``Upgrade`` tunnel.

The copying is not done by the request's thread: a notebook tab keeps its sockets open for
hours, and gunicorn's request threads are few (``--threads``). The connection is handed to
one relay thread per server process (:class:`Relay`), which serves every tunnel with a
selector, so open notebooks never take the API's threads. :func:`take_over` detaches the
client connection from the WSGI server first: the server keeps its socket object, now on a
socket pair that is already closed, and what it does with it after the request (write a
response, shut it down, close it) no longer touches the browser's connection.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading

CHUNK = 65536
HIGH_WATER = 1 << 20
"""Bytes buffered for a slow side before the other side is no longer read (backpressure)."""


def take_over(server_socket: socket.socket) -> socket.socket:
    """A socket of our own on the WSGI server's client connection; the server's is neutered.

    The connection's file descriptor is duplicated, then the server's descriptor number
    is pointed at a closed socket pair (``dup2``): shutting down or closing it afterwards
    touches only that pair.
    """
    own = socket.socket(fileno=os.dup(server_socket.fileno()))
    ours, theirs = socket.socketpair()
    try:
        os.dup2(ours.fileno(), server_socket.fileno())
    finally:
        ours.close()
        theirs.close()
    own.setblocking(True)
    return own


class _Tunnel:
    def __init__(self, left: socket.socket, right: socket.socket, to_left: bytes):
        self.sockets = (left, right)
        self.outbox = {left: bytearray(to_left), right: bytearray()}
        self.closed = False

    def other(self, sock: socket.socket) -> socket.socket:
        return self.sockets[1] if sock is self.sockets[0] else self.sockets[0]


class Relay:
    """One thread copying bytes both ways for every tunnel of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: list[_Tunnel] = []
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._interest: dict[socket.socket, int] = {}
        self.tunnels = 0

    def add(self, client: socket.socket, upstream: socket.socket, to_client: bytes = b"") -> None:
        """Copy between ``client`` and ``upstream`` until one ends; ``to_client`` goes first."""
        client.setblocking(False)
        upstream.setblocking(False)
        with self._lock:
            self._pending.append(_Tunnel(client, upstream, to_client))
            if self._thread is None or not self._thread.is_alive():
                # Started here, on the first tunnel of the process (never at import or in a
                # constructor: gunicorn forks its workers after loading).
                self._selector = selectors.DefaultSelector()
                self._selector.register(self._wake_read, selectors.EVENT_READ, None)
                self._thread = threading.Thread(target=self._run, name="session-relay",
                                                daemon=True)
                self._thread.start()
        try:
            self._wake_write.send(b"x")
        except BlockingIOError:
            pass  # a wake-up is pending already

    def _run(self) -> None:
        selector = self._selector
        while True:
            for key, mask in selector.select():
                if key.data is None:
                    self._admit()
                    continue
                tunnel, sock = key.data, key.fileobj
                if mask & selectors.EVENT_READ:
                    self._read(tunnel, sock)
                if mask & selectors.EVENT_WRITE and not tunnel.closed:
                    self._write(tunnel, sock)
                if not tunnel.closed:
                    self._update(tunnel)

    def _admit(self) -> None:
        try:
            while self._wake_read.recv(CHUNK):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            admitted, self._pending = self._pending, []
        for tunnel in admitted:
            self.tunnels += 1
            for sock in tunnel.sockets:
                self._interest[sock] = 0
            self._update(tunnel)
            if tunnel.outbox[tunnel.sockets[0]]:
                self._write(tunnel, tunnel.sockets[0])

    def _read(self, tunnel: _Tunnel, sock: socket.socket) -> None:
        try:
            data = sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(tunnel, flush_to=tunnel.other(sock))
            return
        peer = tunnel.other(sock)
        tunnel.outbox[peer] += data
        self._write(tunnel, peer)

    def _write(self, tunnel: _Tunnel, sock: socket.socket) -> None:
        box = tunnel.outbox[sock]
        while box:
            try:
                sent = sock.send(box)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(tunnel)
                return
            del box[:sent]

    def _update(self, tunnel: _Tunnel) -> None:
        if tunnel.closed:
            return
        for sock in tunnel.sockets:
            events = selectors.EVENT_WRITE if tunnel.outbox[sock] else 0
            if len(tunnel.outbox[tunnel.other(sock)]) < HIGH_WATER:
                events |= selectors.EVENT_READ
            previous = self._interest.get(sock, 0)
            if events == previous:
                continue
            if previous == 0:
                self._selector.register(sock, events, tunnel)
            elif events == 0:
                self._selector.unregister(sock)
            else:
                self._selector.modify(sock, events, tunnel)
            self._interest[sock] = events

    def _close(self, tunnel: _Tunnel, flush_to: socket.socket | None = None) -> None:
        """End the tunnel; what was still owed to ``flush_to`` (a close frame) is sent."""
        if tunnel.closed:
            return
        tunnel.closed = True
        self.tunnels -= 1
        if flush_to is not None and tunnel.outbox[flush_to]:
            try:
                flush_to.setblocking(True)
                flush_to.settimeout(2)
                flush_to.sendall(tunnel.outbox[flush_to])
            except OSError:
                pass
        for sock in tunnel.sockets:
            if self._interest.pop(sock, 0):
                self._selector.unregister(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


_relay: Relay | None = None
_relay_lock = threading.Lock()


def relay() -> Relay:
    """The relay of this process (made on first use: each gunicorn worker has its own)."""
    global _relay
    with _relay_lock:
        if _relay is None:
            _relay = Relay()
        return _relay
