"""Structured logs: one JSON object per line when ``REANA_LOG_FORMAT=json`` (ADR 0027).

Each line holds ``time`` (UTC, ISO 8601), ``level``, ``service``, ``logger`` and
``message``, plus what is known of the work at hand: ``request_id``, ``run_id``,
``job_id``, ``user_id`` (context variables that the API hooks, the scheduler,
the consumer and the job controller set with :func:`log_context`), and
``exception`` (the traceback). Otherwise lines stay plain text. Either way they
are redacted (:mod:`reana_commons.log_redaction`).

Request ids: reana-server gives every API call one (or keeps a sane
``X-Request-ID`` the caller sent) and answers it in ``X-Request-ID``; calls to the
workflow controller carry it in that header, and a start carries it in its
submission message to the scheduler, which sends it on with the start: the
workflow controller's lines about that call show the same ``request_id``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = contextvars.ContextVar("reana_request_id", default=None)
RUN_ID = contextvars.ContextVar("reana_run_id", default=None)
JOB_ID = contextvars.ContextVar("reana_job_id", default=None)
USER_ID = contextvars.ContextVar("reana_user_id", default=None)
_CONTEXT = {"request_id": REQUEST_ID, "run_id": RUN_ID, "job_id": JOB_ID, "user_id": USER_ID}
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def json_logs() -> bool:
    """Whether this process logs JSON lines (``REANA_LOG_FORMAT=json``)."""
    return os.environ.get("REANA_LOG_FORMAT", "").strip().lower() == "json"


def request_id_from(incoming: str | None) -> str:
    """The caller's request id when it is a sane token, else a new one."""
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def bind(**values) -> dict:
    """Set context values (``request_id``, ``run_id``, ``job_id``, ``user_id``; None unsets);
    returns the tokens :func:`unbind` takes to restore the previous ones."""
    return {name: _CONTEXT[name].set(None if value is None else str(value))
            for name, value in values.items()}


def unbind(tokens: dict) -> None:
    """Restore what :func:`bind` changed."""
    for name, token in tokens.items():
        _CONTEXT[name].reset(token)


@contextmanager
def log_context(**values):
    """Log lines written inside carry ``values`` (see :func:`bind`)."""
    tokens = bind(**values)
    try:
        yield
    finally:
        unbind(tokens)


def current_context() -> dict:
    """The context values set now (for handing them to another thread)."""
    return {name: var.get() for name, var in _CONTEXT.items() if var.get() is not None}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object (one line: newlines inside are escaped)."""

    def __init__(self, service: str, context: dict | None = None):
        super().__init__()
        self.service = service
        self.context = {k: str(v) for k, v in (context or {}).items() if v is not None}

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in _CONTEXT.items():
            value = getattr(record, name, None) or var.get() or self.context.get(name)
            if value:
                body[name] = str(value)
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            body["exception"] = record.exc_text
        return json.dumps(body, ensure_ascii=False, default=str)
