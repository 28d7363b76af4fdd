"""Credentials never reach a log file: every service's log output is redacted.

reana-client sends the user's access token in the query string
(``?access_token=...``), so an access log would otherwise record every user's
token; service credentials travel in ``Authorization`` headers and per-run
tokens in environment variables. :func:`redact` blanks their values in any
text; :func:`configure_logging` (used by every service instead of
``logging.basicConfig``) installs formatters that redact each finished line,
tracebacks included, and :func:`redact_handlers` does the same for handlers
set up elsewhere (gunicorn's access and error logs).
"""

from __future__ import annotations

import logging
import re
import sys

MASK = "***"

_PATTERNS = (
    # Query strings and forms: ?access_token=..., &token=..., client_secret=...
    re.compile(r"(?i)((?:access_token|private_token|token|client_secret)(?:=|%3D))[^&\s\"'#]+"),
    # JSON and Python reprs: "access_token": "...", 'token': '...'
    re.compile(r"(?i)([\"'](?:access_token|token|client_secret|secret_key)[\"']\s*:\s*[\"'])"
               r"[^\"']+"),
    # Authorization: Bearer ... / Basic ...
    re.compile(r"(?i)(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+"),
    # Environment assignments: REANA_ACCESS_TOKEN=..., REANA_SECRET_KEY=..., *_PASSWORD=...
    re.compile(r"(\b[A-Z][A-Z0-9_]*(?:TOKEN|SECRET_KEY|PASSWORD|PASS)\s*=\s*)[^\s&\"']+"),
    # Passwords in URLs: amqp://user:password@host
    re.compile(r"(://[^:/\s@]+:)[^@\s/]+(?=@)"),
)


def redact(text: str) -> str:
    """``text`` with the value of every credential it shows replaced by ``***``."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats like the formatter it wraps, then redacts the whole line (tracebacks too)."""

    def __init__(self, inner: logging.Formatter | None = None):
        super().__init__()
        self.inner = inner or logging.Formatter(logging.BASIC_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return self.inner.formatTime(record, datefmt)


def redact_handlers(logger: logging.Logger) -> None:
    """Make every handler of ``logger`` redact what it writes (idempotent)."""
    for handler in logger.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))


SERVICE = "reana"
"""This process's service name in structured logs (set by :func:`configure_logging`)."""


def configure_logging(level: str | int = "INFO", fmt: str | None = None, stream=None,
                      service: str | None = None, context: dict | None = None) -> None:
    """``logging.basicConfig`` whose output is redacted (call once at process start).

    With ``REANA_LOG_FORMAT=json`` every line is one JSON object naming ``service``
    (:mod:`reana_commons.structured_logs`; ``context``: fields of every line, such as a
    job controller's ``run_id``), and Python warnings are logged too; ``fmt`` is then unused.
    """
    global SERVICE
    from reana_commons.structured_logs import JsonFormatter, json_logs

    SERVICE = service or SERVICE
    options = {"level": level}
    if json_logs():
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter(SERVICE, context))
        options["handlers"] = [handler]
        logging.captureWarnings(True)
    else:
        options["stream"] = stream or sys.stderr
        if fmt:
            options["format"] = fmt
    logging.basicConfig(**options)
    redact_handlers(logging.getLogger())
