"""Publishing: pooled producers, retries, and the platform's two message kinds.

The body is ``json.dumps(body)`` — a JSON *string* inside the JSON message, as
REANA 0.9 sends it; consumers accept that and plain JSON objects alike.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from kombu import Connection, Queue, pools

from reana_commons.config import get_config
from reana_commons.errors import MessagingError
from reana_commons.messaging.queues import (
    get_connection,
    jobs_status_queue,
    workflow_submission_queue,
)
from reana_commons.structured_logs import REQUEST_ID

log = logging.getLogger(__name__)

PUBLISH_MAX_RETRIES = 5
RUN_ATTEMPT_ENV = "REANA_RUN_ATTEMPT"
PERSISTENT = 2

_shared_connections: dict[tuple, Connection] = {}
_shared_lock = threading.Lock()


def _shared_connection(confirm: bool) -> Connection:
    """This process's connection for the configured broker (key of the producer pool)."""
    key = (os.getpid(), get_config().broker_url, confirm)
    with _shared_lock:
        if key not in _shared_connections:
            _shared_connections[key] = get_connection(confirm=confirm)
        return _shared_connections[key]


def close_shared_connections() -> None:
    """Release this process's pooled publishing connections (tests, after a fork)."""
    with _shared_lock:
        connections = list(_shared_connections.values())
        _shared_connections.clear()
    pools.reset()  # kombu keys pools by URL: drop them all, they would be closed
    for connection in connections:
        connection.release()


def _log_retry(error, interval):
    log.warning("Broker unreachable (%s), retrying publish in %.1f s", error, interval)


def publish(
    queue: Queue,
    body: dict,
    priority: int = 0,
    connection: Connection | None = None,
    confirm: bool = False,
) -> None:
    """Publish ``body`` to ``queue`` (persistent, retried); raises :class:`MessagingError`.

    Without ``connection`` a pooled producer of this process is used, so
    publishing is cheap; ``confirm`` waits for the broker's acknowledgement.
    """
    payload = json.dumps(body)
    if connection is None:
        producers = pools.producers[_shared_connection(confirm)].acquire(block=True, timeout=30)
    else:
        producers = connection.Producer()
    try:
        with producers as producer:
            send = producer.connection.ensure(
                producer,
                producer.publish,
                max_retries=PUBLISH_MAX_RETRIES,
                errback=_log_retry,
                interval_start=0,
                interval_step=0.5,
                interval_max=2,
            )
            send(
                payload,
                exchange="",
                routing_key=queue.name,
                declare=[queue],
                serializer="json",
                delivery_mode=PERSISTENT,
                priority=priority,
            )
    except Exception as error:  # noqa: BLE001 - any broker failure is a publish failure
        raise MessagingError(f"Could not publish to {queue.name}: {error}") from error


def publish_workflow_submission(
    user_id,
    workflow_id_or_name,
    parameters: dict,
    priority: int = 0,
    min_job_memory: int = 0,
    retry_count: int = 0,
) -> None:
    """Queue a workflow start for the scheduler (confirmed by the broker)."""
    body = {
        "user": str(user_id),
        "workflow_id_or_name": str(workflow_id_or_name),
        "parameters": parameters,
        "priority": priority,
        "min_job_memory": min_job_memory,
        "retry_count": retry_count,
    }
    request_id = REQUEST_ID.get()
    if request_id:  # the scheduler sends it on with the start (structured logs)
        body["request_id"] = request_id
    publish(workflow_submission_queue(), body, priority=priority, confirm=True)


def publish_workflow_status(
    workflow_uuid,
    status: int | None,
    logs: str = "",
    message: dict | None = None,
    seq: int | None = None,
    attempt: int | None = None,
) -> None:
    """Send a workflow status and/or progress update to the job-status consumer.

    ``seq`` (a per-run counter from 1) lets the consumer apply each log chunk exactly
    once even when the broker redelivers the message. ``attempt`` (default: the
    engine's ``REANA_RUN_ATTEMPT``, set by its run manager) lets the consumer ignore
    the reports of a start attempt that a later one superseded.
    """
    body = {"workflow_uuid": str(workflow_uuid), "status": status, "logs": logs, "message": message,
            "sent_at": time.time()}  # the consumer's lag metric
    if seq is not None:
        body["seq"] = seq
    if attempt is None:
        attempt = run_attempt()
    if attempt is not None:
        body["attempt"] = attempt
    publish(jobs_status_queue(), body)


def run_attempt() -> int | None:
    """This engine process's start attempt (``REANA_RUN_ATTEMPT``), None outside an engine."""
    value = os.environ.get(RUN_ATTEMPT_ENV, "")
    return int(value) if value.isdigit() else None


def _progress_item(value) -> dict:
    if isinstance(value, dict):
        return {"total": value.get("total", 0), "job_ids": list(value.get("job_ids", []))}
    if isinstance(value, list | tuple | set):
        return {"total": len(value), "job_ids": [str(v) for v in value]}
    return {"total": int(value), "job_ids": []}


def build_progress_message(total=None, running=None, finished=None, failed=None, cached=None):
    """REANA's progress message ``{"progress": {key: {"total", "job_ids"}}}``.

    Only truthy arguments appear. Each may be ``{"total": n, "job_ids": [...]}``,
    a list of job ids, or a count.
    """
    progress = {}
    for key, value in (
        ("total", total),
        ("running", running),
        ("finished", finished),
        ("failed", failed),
        ("cached", cached),
    ):
        if value:
            progress[key] = _progress_item(value)
    return {"progress": progress}
