"""What a Flask service knows about the request at hand, for its log lines (ADR 0027).

Every request gets a request id (the caller's sane ``X-Request-ID``, else a new
one), answered in ``X-Request-ID``; the run it names (a UUID in the URL) and its
user are bound too (:mod:`reana_commons.structured_logs`). With
``REANA_LOG_FORMAT=json`` each request is also logged once, in its context (the
access line gunicorn no longer writes then).
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, request

from reana_commons.structured_logs import REQUEST_ID_HEADER, bind, json_logs, request_id_from

access_log = logging.getLogger("reana.access")
RUN_ARGUMENTS = ("workflow_id_or_name", "workflow_id", "run_id")


def _run_id() -> str | None:
    for name in RUN_ARGUMENTS:
        value = (request.view_args or {}).get(name)
        if value:
            try:
                return str(uuid.UUID(str(value)))
            except ValueError:
                return None
    return None


def install(app: Flask, user_argument: str | None = None) -> None:
    """Bind the request id, run id and (``?<user_argument>=``, the controller's ``user``)
    user id of every request of ``app``; answer the request id; log requests in JSON mode."""

    @app.before_request
    def _bind_request():
        g.reana_log_started = time.perf_counter()
        user = request.args.get(user_argument) if user_argument else None
        bind(request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER)),
             run_id=_run_id(), user_id=user, job_id=None)

    @app.after_request
    def _answer_request_id(response):
        from reana_commons.structured_logs import REQUEST_ID

        response.headers[REQUEST_ID_HEADER] = REQUEST_ID.get() or ""
        if json_logs():
            took = (time.perf_counter() - g.get("reana_log_started", time.perf_counter()))
            access_log.info("%s %s %s %.1f ms", request.method, request.path,
                            response.status_code, took * 1000)
        return response

    @app.teardown_request
    def _unbind(_error=None):
        bind(request_id=None, run_id=None, user_id=None, job_id=None)


def bind_user(user_id) -> None:
    """The authenticated user of the request at hand (reana-server, after authentication)."""
    bind(user_id=user_id)
