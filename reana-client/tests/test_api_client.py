"""The spec-driven API client encodes requests as bravado-core 6 does (REANA's recorded traffic)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
from reana_client.api.client import (
    APIError,
    ServerUnreachable,
    SpecClient,
    encode_request,
    load_spec,
    parse_response,
)


def _encode(operation_id, **kwargs):
    for path, methods in load_spec()["paths"].items():
        for method, operation in methods.items():
            if operation.get("operationId") == operation_id:
                return method.upper(), *encode_request(path, operation, kwargs)
    raise AssertionError(operation_id)


def test_list_query_matches_recorded_traffic():
    statuses = ["created", "running", "finished", "failed", "stopped", "queued", "pending"]
    method, target, body = _encode(
        "get_workflows", access_token="T", type="batch", verbose=False, page=1, status=statuses
    )
    assert method == "GET" and body is None
    query = dict(p.split("=", 1) for p in target.split("?", 1)[1].split("&"))
    assert query["status"] == ",".join(statuses)
    assert query["verbose"] == "false" and query["type"] == "batch" and query["page"] == "1"


def test_path_parameters_are_quoted_like_bravado():
    _, target, _ = _encode(
        "delete_file", workflow_id_or_name="helloworld.1", file_name="data/*.txt", access_token="T"
    )
    assert target.startswith("/api/workflows/helloworld.1/workspace/data%2F%2A.txt?")


def test_json_bodies_drop_none_and_go_on_get():
    method, _, body = _encode(
        "get_workflow_disk_usage",
        workflow_id_or_name="w",
        access_token="T",
        parameters={"summarize": False, "search": None},
    )
    assert method == "GET" and json.loads(body) == {"summarize": False}
    _, _, body = _encode("get_workflow_logs", workflow_id_or_name="w", steps=["step0"])
    assert json.loads(body) == ["step0"]


def test_create_body_keeps_the_specification_nulls():
    """Like bravado-core (recorded 0.9.6 traffic): only declared optional properties lose None."""
    spec = {"workflow": {"type": "yadage", "file": "w.yaml", "specification": None}}
    _, _, body = _encode("create_workflow", workflow_name="w", reana_specification=spec)
    assert json.loads(body) == spec
    _, _, body = _encode(
        "start_workflow",
        workflow_id_or_name="w",
        parameters={"restart": None, "input_parameters": {"x": None}},
    )
    assert json.loads(body) == {"input_parameters": {"x": None}}


def test_unknown_parameter_is_refused():
    with pytest.raises(TypeError):
        _encode("ping", nope=1)


def test_chunked_and_sized_responses_are_parsed():
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
    )
    assert parse_response(raw) == (200, {"transfer-encoding": "chunked"}, b"Wikipedia")
    raw = b"HTTP/1.0 404 NOT FOUND\r\nContent-Length: 2\r\n\r\n{}trailing"
    assert parse_response(raw)[2] == b"{}"


class _Handler(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802
        _Handler.seen.append(unquote(self.path))
        if "missing" in self.path:
            code, payload = 404, {"message": "REANA_WORKON is set to missing, but ..."}
        elif "weird" in self.path:
            code, payload = 202, {"message": "not declared"}
        else:
            code, payload = 200, {"message": "OK", "status": "200"}
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_call_returns_json_and_raises_server_message(stub_url):
    client = SpecClient(stub_url)
    assert client.call("ping") == {"message": "OK", "status": "200"}
    with pytest.raises(APIError) as error:
        client.call("get_workflow_status", workflow_id_or_name="missing", access_token="T")
    assert error.value.status_code == 404
    assert str(error.value).startswith("REANA_WORKON is set to missing")
    with pytest.raises(APIError) as error:  # a 2xx the spec does not declare is an error
        client.call("get_workflow_status", workflow_id_or_name="weird", access_token="T")
    assert error.value.status_code == 202


def test_unreachable_server():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServerUnreachable):
        SpecClient(f"http://127.0.0.1:{port}").call("ping")
