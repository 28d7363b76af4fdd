"""Uploads and downloads stream: a file much larger than the memory they use."""

from __future__ import annotations

import hashlib
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from reana_client.api.client import APIError
from reana_client.api.transfer import download_file, upload_file

SIZE = 48 * 1024 * 1024
LIMIT = 8 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    received = {}

    def do_POST(self):  # noqa: N802
        length, sha, left = int(self.headers["Content-Length"]), hashlib.sha256(), None
        left = length
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            sha.update(chunk)
            left -= len(chunk)
        _Handler.received = {
            "size": length,
            "sha": sha.hexdigest(),
            "path": self.path,
            "type": self.headers["Content-Type"],
        }
        self._json(200, b'{"message": "ok"}')

    def do_GET(self):  # noqa: N802
        if "missing" in self.path:
            return self._json(404, b'{"message": "missing does not exist."}')
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", "attachment; filename=results/big.bin")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        block = b"x" * (1 << 20)
        for _ in range(SIZE // len(block)):
            self.wfile.write(block)

    def _json(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_upload_streams_from_disk(server_url, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        for _ in range(SIZE // (1 << 20)):
            handle.write(b"y" * (1 << 20))
    tracemalloc.start()
    upload_file(server_url, "w.1", str(big), "/data/big.bin", "T")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert _Handler.received["size"] == SIZE
    assert _Handler.received["sha"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert _Handler.received["type"] == "application/octet-stream"
    assert "file_name=%2Fdata%2Fbig.bin" in _Handler.received["path"]
    assert peak < LIMIT, f"upload held {peak} bytes"


def test_download_streams_to_disk(server_url, tmp_path):
    tracemalloc.start()
    name, is_zip = download_file(server_url, "w.1", "results/big.bin", "T", str(tmp_path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (name, is_zip) == ("results/big.bin", False)
    assert (tmp_path / "results" / "big.bin").stat().st_size == SIZE
    assert peak < LIMIT, f"download held {peak} bytes"


def test_download_error_uses_reana_wording(server_url, tmp_path):
    with pytest.raises(APIError) as error:
        download_file(server_url, "w.1", "missing", "T", str(tmp_path))
    assert str(error.value) == "Error 404 Not Found missing does not exist."
