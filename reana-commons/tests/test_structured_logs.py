"""JSON log lines (REANA_LOG_FORMAT=json): one object per line with the context, redacted."""

from __future__ import annotations

import io
import json
import logging

import pytest
from reana_commons import log_redaction
from reana_commons.structured_logs import (
    JsonFormatter,
    current_context,
    log_context,
    request_id_from,
)


@pytest.fixture
def json_root(monkeypatch):
    """The root logger configured as a service in JSON mode, writing to a buffer."""
    monkeypatch.setenv("REANA_LOG_FORMAT", "json")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = []
    stream = io.StringIO()
    log_redaction.configure_logging("INFO", "%(message)s", stream=stream, service="svc",
                                    context={"job_id": None})
    yield stream
    root.handlers, root.level = saved
    logging.captureWarnings(False)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_is_an_object_with_its_context(json_root):
    log = logging.getLogger("reana.test")
    log.info("plain")
    with log_context(request_id="req-12345678", run_id="r1", user_id="u1"):
        log.warning("in a request\nwith two lines and ?access_token=SECRET")
        assert current_context() == {"request_id": "req-12345678", "run_id": "r1",
                                     "user_id": "u1"}
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second, third = lines(json_root)
    assert set(first) == {"time", "level", "service", "logger", "message"}
    assert first["service"] == "svc" and first["level"] == "INFO" and first["time"].endswith("Z")
    assert second["request_id"] == "req-12345678" and second["run_id"] == "r1"
    assert second["user_id"] == "u1" and "\n" in second["message"]
    assert "SECRET" not in json_root.getvalue()  # still redacted
    assert third["level"] == "ERROR" and "ValueError: boom" in third["exception"]
    assert "request_id" not in third  # the context ended with its block


def test_static_context_and_plain_mode(monkeypatch):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    body = json.loads(JsonFormatter("jc", {"run_id": "abc"}).format(record))
    assert body["message"] == "hello you" and body["run_id"] == "abc"
    monkeypatch.delenv("REANA_LOG_FORMAT", raising=False)
    from reana_commons.structured_logs import json_logs

    assert not json_logs()


def test_request_ids_from_callers_must_be_sane():
    assert request_id_from("abcdef12-3456") == "abcdef12-3456"
    for bad in (None, "", "short", "a" * 200, "evil\nline", "x y z 123456"):
        fresh = request_id_from(bad)
        assert fresh != bad and len(fresh) == 32
