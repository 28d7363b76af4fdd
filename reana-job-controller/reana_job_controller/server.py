"""The job controller's HTTP server: a small threaded WSGI server with keep-alive.

An engine talks to its job controller several times per job. Werkzeug's
development server closes every connection, so each call would pay a TCP
handshake and a new thread; it also drains leftover input in a way that
cannot coexist with keep-alive. This server (``http.server`` underneath, one
thread per connection) reads each request body completely before calling
the application and always answers with a ``Content-Length``, so HTTP/1.1
connections stay open. Responses are buffered (ours are small JSON or logs).
``TCP_NODELAY`` avoids Nagle's 40 ms wait between header and body writes.
Request headers are read by :class:`Headers` (a few lines split on ``:``), not by
``http.server``'s e-mail parser, which cost more than routing the request.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote_to_bytes

_NO_BODY_CODES = {204, 304}
_HOP_BY_HOP = {"content-length", "connection", "transfer-encoding", "keep-alive"}
MAX_HEADERS = 100
MAX_LINE = 65536


class Headers:
    """A request's headers: ``get`` ignores the name's case, ``items`` keeps the order."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._pairs = pairs
        self._by_name: dict[str, str] = {}
        for name, value in pairs:
            self._by_name.setdefault(name.lower(), value)

    def get(self, name: str, default=None):
        return self._by_name.get(name.lower(), default)

    def __getitem__(self, name: str):
        return self._by_name.get(name.lower())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._by_name

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)


class WSGIRequestHandler(BaseHTTPRequestHandler):
    """Serves one connection's requests with the server's WSGI application."""

    protocol_version = "HTTP/1.1"
    server_version = "reana-job-controller"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """The request line and headers (``http.server``'s checks, a lighter header reader)."""
        self.command = None
        # Errors are answered with a status line (no HTTP/0.9 "simple" requests here).
        self.request_version = version = "HTTP/1.0"
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, f"Bad request syntax ({requestline!r})")
            return False
        self.command, self.path, version = words
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(505, f"Invalid HTTP version ({version})")
            return False
        self.request_version = version
        pairs = []
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                self.send_error(431, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("iso-8859-1").partition(":")
            if not colon or not name.strip() or name != name.strip():
                self.send_error(400, "Bad header line")
                return False
            pairs.append((name, value.strip()))
            if len(pairs) > MAX_HEADERS:
                self.send_error(431, "Too many headers")
                return False
        self.headers = Headers(pairs)
        connection = (self.headers.get("Connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif version == "HTTP/1.1" or connection == "keep-alive":
            self.close_connection = False
        return True

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _serve(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # we do not decode chunked bodies: refuse them
            self.send_error(411, "Length Required")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response: list = []

        def start_response(status, headers, exc_info=None):
            response[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.server.app(self._environ(body), start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = response
        code, _, reason = status.partition(" ")
        code = int(code)
        payload = b"".join(chunks)
        self.send_response(code, reason)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        if code not in _NO_BODY_CODES:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and self.command != "HEAD" and code not in _NO_BODY_CODES:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        """No access log line per request (engines make thousands)."""


class WSGIServer(ThreadingHTTPServer):
    """One daemon thread per connection; ``app`` is the WSGI application."""

    daemon_threads = True

    def __init__(self, address, app):
        self.app = app
        super().__init__(address, WSGIRequestHandler)


def build_server(host: str, port: int, app) -> WSGIServer:
    """A threaded server for ``app`` (``port`` 0: an ephemeral port)."""
    return WSGIServer((host, port), app)


def write_url_file(path: str, url: str) -> None:
    """Write ``url`` to ``path`` atomically, so a reader never sees half a URL."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(url + "\n")
    os.replace(temporary, target)
