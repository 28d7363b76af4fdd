"""``/metrics`` and request latency for a Flask service."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, g, request

from reana_commons import metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def instrument(app: Flask, service: str, collectors: Callable[[], Iterable] = tuple) -> None:
    """Time every request of ``app`` and serve ``GET /metrics`` (blueprint ``metrics``).

    ``collectors()`` gives collectors computed at scrape time (the server's run counts).
    """
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get("/metrics")
    def metrics_view():
        metrics.record_memory(service)
        body, content_type = metrics.exposition(collectors())
        return Response(body, content_type=content_type)

    @app.before_request
    def _start_timer():
        g.reana_request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("reana_request_started")
        if started is not None and request.endpoint != "metrics.metrics_view":
            metrics.HTTP_REQUEST_SECONDS.labels(
                service, request.endpoint or "unmatched",
                request.method if request.method in METHODS else "other",
                str(response.status_code)).observe(time.perf_counter() - started)
            metrics.record_memory(service)
        return response

    app.register_blueprint(blueprint)
