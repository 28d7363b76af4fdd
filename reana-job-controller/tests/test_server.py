"""The job controller's HTTP server reads requests itself: headers, keep-alive, bad input."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from reana_job_controller.server import build_server


def _app(environ, start_response):
    body = json.dumps({"auth": environ.get("HTTP_AUTHORIZATION"),
                       "type": environ.get("CONTENT_TYPE"),
                       "body": environ["wsgi.input"].read().decode()}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.fixture
def address():
    server = build_server("127.0.0.1", 0, _app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def _exchange(address, raw: bytes) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_headers_of_any_case_reach_the_app_and_the_connection_stays_open(address):
    request = (b"POST /jobs HTTP/1.1\r\nHost: x\r\nauthorization: Bearer t\r\n"
               b"content-TYPE: application/json\r\nContent-Length: 2\r\n\r\n{}")
    answer = _exchange(address, request * 2)  # two requests on one connection
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])
    assert body == {"auth": "Bearer t", "type": "application/json", "body": "{}"}


@pytest.mark.parametrize("raw, code", [
    (b"GET /jobs\r\n\r\n", b"400"),
    (b"GET /jobs HTTP/2.0\r\n\r\n", b"505"),
    (b"GET /jobs HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
    (b"GET /jobs HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", b"431"),
])
def test_malformed_requests_are_refused(address, raw, code):
    assert _exchange(address, raw).split(b" ")[1] == code
