"""Credentials are blanked in every log line a service writes."""

from __future__ import annotations

import io
import logging

import pytest
from reana_commons.log_redaction import RedactingFormatter, configure_logging, redact


@pytest.mark.parametrize(("line", "secret"), [
    ('127.0.0.1 - - "GET /api/you?access_token=AbC-123_x HTTP/1.1" 200', "AbC-123_x"),
    ('"GET /api/workflows?type=batch&access_token=tok%2Fen&page=1 HTTP/1.1"', "tok%2Fen"),
    ("GET /api/x?ACCESS_TOKEN=Zz9", "Zz9"),
    ("url=http://h/api?access_token%3Dsecret42", "secret42"),
    ('{"access_token": "t0ken", "email": "a@b"}', "t0ken"),
    ("{'token': 'python-repr'}", "python-repr"),
    ("Authorization: Bearer 5f2b9c.d-e_f", "5f2b9c.d-e_f"),
    ("export REANA_ACCESS_TOKEN=abcdef", "abcdef"),
    ("REANA_JOB_CONTROLLER_TOKEN=perrun REANA_SECRET_KEY=k3y", "perrun"),
    ("REANA_SECRET_KEY=k3y", "k3y"),
    ("RABBIT_MQ=amqp://guest:hunter2@127.0.0.1:5672//", "hunter2"),
    ("postgresql+psycopg2://reana:dbpass@db/reana", "dbpass"),
])
def test_redact_blanks_the_value(line, secret):
    redacted = redact(line)
    assert secret not in redacted
    assert "***" in redacted


def test_redact_keeps_ordinary_text():
    line = '127.0.0.1 "GET /api/workflows?type=batch&page=2 HTTP/1.1" 200 user=1234'
    assert redact(line) == line


def test_configured_logging_redacts_messages_arguments_and_tracebacks():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        configure_logging("INFO", "%(levelname)s %(message)s", stream=stream)
        log = logging.getLogger("test.redaction")
        log.info("GET %s", "/api/you?access_token=from-args")
        try:
            raise ValueError("bad url /api?access_token=in-traceback")
        except ValueError:
            log.exception("failed")
        configure_logging("INFO")  # idempotent: no double wrapping
        assert all(isinstance(h.formatter, RedactingFormatter) for h in root.handlers)
        assert not isinstance(root.handlers[0].formatter.inner, RedactingFormatter)
    finally:
        root.handlers = saved
    output = stream.getvalue()
    assert "from-args" not in output and "in-traceback" not in output
    assert "INFO GET /api/you?access_token=***" in output


def test_engine_logs_are_redacted_on_stderr_and_in_the_run_s_logs():
    from reana_commons.engine.reporter import RunReporter

    published, stderr = [], io.StringIO()
    reporter = RunReporter("wf-1", "test-engine-redaction", stream=stderr,
                           publish=lambda *args, **kwargs: published.append((args, kwargs)))
    reporter.log.info("calling http://127.0.0.1:5000/jobs?access_token=leak-1")
    reporter.failed("Workflow failed.")
    text = stderr.getvalue() + repr(published)
    assert "leak-1" not in text and "access_token=***" in text
    assert "leak-1" not in repr(published)
