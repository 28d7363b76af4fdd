"""The platform's Prometheus metrics (prometheus-client): each defined once, here (ADR 0027).

Labels are few and bounded: no run ids, user ids or e-mails; endpoints are Flask
endpoint names, not paths. Each HTTP service serves ``/metrics``
(:func:`reana_commons.metrics.flask.instrument`).

Several processes, one answer: with ``PROMETHEUS_MULTIPROC_DIR`` set (before
this module is imported) every process writes its values to files there and
``/metrics`` adds them up (prometheus-client's multiprocess mode): the gunicorn
workers of a service, and the processes whose metrics that service shows
(``make up``: reana-server's directory also holds the scheduler's, the
workflow controller's the job-status consumer's and reconciler's). The
directory must be emptied when the service group starts (``scripts/up.sh``
does; in Kubernetes an ``emptyDir``); gunicorn marks dead workers
(:func:`mark_process_dead`). Without it, one process's own values are shown.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from datetime import datetime

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client needs it to exist
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402 - after the directory exists
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SCHEDULING_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
JOB_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)

HTTP_REQUEST_SECONDS = Histogram(
    "reana_http_request_duration_seconds",
    "API request latency by service, endpoint (Flask endpoint name), method and status code.",
    ["service", "endpoint", "method", "status"], buckets=LATENCY_BUCKETS)
SUBMISSIONS = Counter(
    "reana_submissions",
    "Run submissions (start, restart, WES RunWorkflow) admitted to the queue or refused, "
    "by reason of refusal.", ["outcome", "reason"])
SCHEDULING_SECONDS = Histogram(
    "reana_run_scheduling_latency_seconds",
    "Seconds a run spent queued before it became pending (phase queued_to_pending) and "
    "pending before it ran (pending_to_running).", ["phase"], buckets=SCHEDULING_BUCKETS)
JOB_SECONDS = Histogram(
    "reana_job_duration_seconds",
    "Duration of ended jobs by compute backend and outcome (finished, failed).",
    ["compute_backend", "outcome"], buckets=JOB_BUCKETS)
STATUS_MESSAGES = Counter(
    "reana_status_messages",
    "jobs-status messages consumed, by outcome (applied, requeued, dropped).", ["outcome"])
STATUS_LAG_SECONDS = Histogram(
    "reana_status_consumer_lag_seconds",
    "Seconds between a jobs-status message being sent and its batch being committed.",
    buckets=LATENCY_BUCKETS + (60, 120, 300))
RECONCILER_ACTIONS = Counter(
    "reana_reconciler_actions", "Runs the reconciler ended, by cause.", ["cause"])
PROCESS_MEMORY = Gauge(
    "reana_process_resident_memory_bytes",
    "Resident memory of the service's live processes (summed).", ["service"],
    multiprocess_mode="livesum")


def multiprocess_dir() -> str | None:
    """The multiprocess directory, if this process writes its values to one."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def mark_process_dead(pid: int) -> None:
    """Forget a dead process's live gauges (gunicorn's ``child_exit``)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def resident_memory_bytes() -> int:
    """This process's resident set size (0 where ``/proc`` is not there)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def record_memory(service: str) -> None:
    """Update this process's share of the service's memory gauge."""
    PROCESS_MEMORY.labels(service).set(resident_memory_bytes())


def observe_since(histogram_child, started: datetime | None, ended: datetime | None) -> None:
    """Observe ``ended - started`` (naive UTC datetimes) when both are known."""
    if started is not None and ended is not None:
        histogram_child.observe(max((ended - started).total_seconds(), 0.0))


def observe_lag(sent_at) -> None:
    """Observe a jobs-status message's lag (``sent_at``: epoch seconds it carries)."""
    if isinstance(sent_at, int | float):
        STATUS_LAG_SECONDS.observe(max(time.time() - sent_at, 0.0))


def exposition(extra: Iterable = ()) -> tuple[bytes, str]:
    """The text of ``/metrics``: every process's values (or this one's) plus ``extra``
    collectors (computed now, e.g. from the database); and its content type."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
        output = b""
    else:
        output = generate_latest(REGISTRY)
    for collector in extra:
        registry.register(collector)
    return output + generate_latest(registry), CONTENT_TYPE_LATEST
