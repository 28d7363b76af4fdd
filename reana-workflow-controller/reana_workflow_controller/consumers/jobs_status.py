"""The job-status consumer (``reana-workflow-controller consume``) and its reconciler.

Messages of ``jobs-status`` are applied in batches: everything the broker has
ready (up to the prefetch count) goes into one transaction, committed once
(group commit), and only then acknowledged (one ``basic.ack(multiple)``), so
a crash before the commit means redelivery, never loss; applying is idempotent
(:mod:`.status_writer`). A batch that fails is retried message by message,
so one bad message cannot hold back the others. What needs the world outside
the database (why a failed run ended, ending its processes) is done after the
commit, in a thread pool (:mod:`.after_commit`). The loop itself is the shared
one of :class:`reana_commons.messaging.BaseConsumer`.
The reconciler (:mod:`reana_workflow_controller.reconciler`) and the session
keeper (:class:`reana_workflow_controller.sessions.SessionKeeper`) run in threads
of the same process.
"""

from __future__ import annotations

import logging
import time
import uuid

from reana_commons import metrics
from reana_commons.config import get_config
from reana_commons.log_redaction import configure_logging
from reana_commons.messaging import BaseConsumer, ack_all, jobs_status_queue, settle
from reana_db.database import new_session
from reana_db.models import Job
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from reana_workflow_controller.consumers.after_commit import AfterCommit
from reana_workflow_controller.consumers.status_writer import BatchResult, apply_batch
from reana_workflow_controller.reconciler import Reconciler
from reana_workflow_controller.sessions import SessionKeeper

log = logging.getLogger(__name__)

MAX_FAILURES = 5
"""Attempts at one message that fails for a reason of its own before it is dropped (logged)."""
SLOW_BATCH = 0.5
"""Seconds after which applying a batch is logged as slow (lock waits, a loaded database)."""
TRANSIENT_BACKOFF = 0.5
"""Seconds to wait before requeueing after a database error (no hot loop while it is down)."""


class JobStatusConsumer(BaseConsumer):
    """Applies workflow status, progress and logs; acks after the commit."""

    queue = staticmethod(jobs_status_queue)
    manual_ack = True

    def __init__(self, connection=None, prefetch_count: int | None = None):
        super().__init__(connection, prefetch_count or get_config().job_status_consumer_prefetch)
        self.batch: list[tuple[dict, object]] = []
        self.failures: dict[str, int] = {}
        self.after_commit = AfterCommit()
        self.applied = 0
        self.wait_seconds = 0.5
        self._memory_recorded = float("-inf")

    def handle(self, body: dict, message) -> None:
        """Collect the message; :meth:`flush` applies the batch."""
        self.batch.append((body, message))

    def flush(self) -> int:
        """Apply the collected messages in one transaction, then ack them."""
        batch, self.batch = self.batch, []
        if not batch:
            return 0
        started = time.monotonic()
        try:
            result = self._apply([body for body, _ in batch])
            took = time.monotonic() - started
            if took > SLOW_BATCH:
                log.warning("applying %d messages took %.2fs", len(batch), took)
        except Exception:  # noqa: BLE001 - retried one by one below
            log.exception("batch of %d failed; retrying one by one", len(batch))
            return sum(self._apply_alone(body, message) for body, message in batch)
        try:
            # Every message delivered so far is in this batch: one ack settles them all.
            ack_all([message for _, message in batch])
        except Exception as error:  # noqa: BLE001 - unacked messages come back; applying is idempotent
            log.warning("could not acknowledge %d jobs-status messages: %s", len(batch), error)
        metrics.STATUS_MESSAGES.labels("applied").inc(len(batch))
        for body, _ in batch:
            metrics.observe_lag(body.get("sent_at"))
        self._cleanup(result)
        self.applied += len(batch)
        return len(batch)

    def _apply(self, bodies: list[dict]) -> BatchResult:
        with new_session() as session:
            result = apply_batch(session, bodies)
            # Read in the same transaction: no second session (and connection check) per batch.
            durations = job_durations(session, result.ended_jobs)
            session.commit()
        result.durations = durations
        return result

    def _apply_alone(self, body: dict, message) -> int:
        key = message.delivery_tag if hasattr(message, "delivery_tag") else id(message)
        key = f"{body.get('workflow_uuid')}:{key}"
        try:
            result = self._apply([body])
        except (SQLAlchemyError, OSError):
            # The database is unreachable: nothing is wrong with the message, keep it.
            log.exception("database error; requeueing the jobs-status message")
            time.sleep(TRANSIENT_BACKOFF)
            settle(message, "requeue")
            metrics.STATUS_MESSAGES.labels("requeued").inc()
            return 0
        except Exception:  # noqa: BLE001 - requeued (redelivered) or, when poison, dropped
            count = self.failures.get(key, 0) + 1
            self.failures[key] = count
            if count >= MAX_FAILURES:
                log.exception("dropping jobs-status message after %d failures: %r", count, body)
                settle(message, "reject")
                metrics.STATUS_MESSAGES.labels("dropped").inc()
            else:
                metrics.STATUS_MESSAGES.labels("requeued").inc()
                log.exception("jobs-status message failed; requeueing it")
                settle(message, "requeue")
            return 0
        self.failures.pop(key, None)
        settle(message, "ack")
        metrics.STATUS_MESSAGES.labels("applied").inc()
        metrics.observe_lag(body.get("sent_at"))
        self._cleanup(result)
        self.applied += 1
        return 1

    def _cleanup(self, result: BatchResult) -> None:
        self.after_commit.submit(result.ended)
        for backend, outcome, started, finished in result.durations:
            metrics.observe_since(metrics.JOB_SECONDS.labels(backend, outcome), started, finished)
        now = time.monotonic()
        if now - self._memory_recorded >= MEMORY_INTERVAL:  # a /proc read: not per batch
            self._memory_recorded = now
            metrics.record_memory(METRICS_SERVICE)

    def after_drain(self, idle: bool) -> None:
        """Apply and acknowledge the batch the loop just took."""
        self.flush()

    def idle_timeout(self) -> float:
        """Seconds to wait for a message (the loop then marks the queue as drained)."""
        return self.wait_seconds

    def on_connection_lost(self) -> None:
        """The batch's messages come back from the broker: drop them unapplied."""
        self.batch = []

    def loop(self, stop=lambda: False, idle_timeout: float = 0.5) -> None:
        """Consume until ``stop()`` (or :attr:`should_stop`): the shared batching loop."""
        self.wait_seconds = idle_timeout
        super().loop(stop)

    def close(self) -> None:
        """Finish the pending after-commit work."""
        self.after_commit.close()


METRICS_SERVICE = "reana-job-status-consumer"
MEMORY_INTERVAL = 10.0
"""Seconds between two readings of the process's memory for its gauge."""


_JOB_TIMES = select(Job.id_, Job.compute_backend, Job.started_at, Job.finished_at).where(
    Job.id_.in_(bindparam("ids", expanding=True)))
"""Built once (its cache key too): read for every batch that ends jobs."""


def job_durations(session, ended: dict[str, str]) -> list[tuple]:
    """``(backend, outcome, started, finished)`` of the jobs that just ended (for metrics)."""
    ids = [uuid.UUID(job_id) for job_id in ended if _is_uuid(job_id)]
    if not ids:
        return []
    rows = session.execute(_JOB_TIMES, {"ids": ids}).all()
    return [(backend or "unknown", ended[str(job_id)], started, finished)
            for job_id, backend, started, finished in rows]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def main() -> None:
    """Run the consumer and, in a thread, the reconciler until SIGTERM."""
    configure_logging(get_config().log_level, "%(asctime)s %(name)s %(levelname)s %(message)s",
                      service=METRICS_SERVICE)
    consumer = JobStatusConsumer()
    reconciler = Reconciler(drained_at=lambda: consumer.drained_at)
    reconciler.start_thread()
    keeper = SessionKeeper()
    keeper.start_thread()
    consumer.install_signal_handlers()
    log.info("job-status consumer started (prefetch %d)", consumer.prefetch_count)
    try:
        consumer.loop()
    finally:
        reconciler.stopping.set()
        keeper.stopping.set()
        consumer.close()
