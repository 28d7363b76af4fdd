"""The scheduler: starts queued runs when the platform is ready (``reana-scheduler``).

It consumes ``workflow-submission`` with manual acknowledgement and a large
prefetch, so it *holds* submissions instead of rejecting and re-publishing them
(REANA loses runs that way). The database is the source of truth: every pass
reads the queued runs, picks them fairly (:mod:`reana_server.fair_share`) while
active runs stay below the concurrency limit, and asks the workflow controller
to start them (``PUT /api/workflows/<id>/status?status=start``) from a small
thread pool. A submission is acknowledged once its run has left ``queued``
(started, failed with a reason, stopped or deleted). Queued runs whose message
was lost (an embedded broker cannot redeliver after a kill -9) are started by
the same pass once they are older than :data:`ORPHAN_AFTER` seconds.

There are no sleeps after a start: the loop waits only on the broker (a short
timeout) while starts are in flight or no slot is free.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from reana_commons import metrics
from reana_commons.api_clients import WorkflowControllerClient, WorkflowControllerUnavailable
from reana_commons.config import get_config
from reana_commons.log_redaction import configure_logging
from reana_commons.messaging import BaseConsumer, workflow_submission_queue
from reana_commons.structured_logs import log_context
from reana_db.database import new_session
from reana_db.enums import RunStatus
from reana_db.models import Workflow, utcnow
from reana_db.status import set_workflow_status
from sqlalchemy import select

from reana_server.fair_share import active_runs_by_user, has_orphans, pick_fair, queued_heads

log = logging.getLogger("reana_server.scheduler")

ORPHAN_AFTER = 2.0
"""Seconds a queued run without a submission message waits before a DB-only start."""
SCAN_INTERVAL = 0.25
"""Seconds between passes while submissions wait (catches freed slots)."""
IDLE_SCAN_INTERVAL = 1.0
"""Seconds between passes while no submission waits: only orphans (older than
:data:`ORPHAN_AFTER`) can be started then, so the idle scheduler costs little."""
IN_FLIGHT_POLL = 0.02
"""Seconds the broker may block while starts are in flight (their outcomes are
collected after it; the runs themselves are already starting)."""
MAX_BACKOFF = 5.0
START_WORKERS = 4
SUBMISSION_PREFETCH = 10000
"""Submissions held unacknowledged at most (RabbitMQ allows up to 65535)."""
DRAIN_BURST = 500


@dataclass
class StartOutcome:
    """What the workflow controller answered to one start request."""

    run_id: uuid.UUID
    status_code: int | None
    message: str


class Scheduler:
    """Holds submissions and starts queued runs fairly, without fixed sleeps."""

    def __init__(
        self, client: WorkflowControllerClient | None = None, workers: int = START_WORKERS
    ):
        self.config = get_config()
        self.client = client or WorkflowControllerClient(timeout=60)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="start")
        self.held: dict[uuid.UUID, list] = {}
        self.parameters: dict[uuid.UUID, dict] = {}
        self.request_ids: dict[uuid.UUID, str] = {}
        """The API call that queued a run (its start carries it to the workflow controller)."""
        self.retries: dict[uuid.UUID, int] = {}
        self.not_before: dict[uuid.UUID, float] = {}
        self.in_flight: dict[uuid.UUID, Future] = {}
        self.stopping = threading.Event()
        self._dirty = True
        self._last_pass = 0.0
        self.started = 0

    # Messages ---------------------------------------------------------------

    def on_submission(self, body: dict, message) -> None:
        """Hold one submission message until its run leaves ``queued``."""
        run_id = _uuid(body.get("workflow_id_or_name"))
        if run_id is None:
            log.warning("submission without a run UUID dropped: %r", body)
            if message is not None:
                message.ack()
            return
        self.held.setdefault(run_id, []).append(message)
        if body.get("parameters") is not None:
            self.parameters[run_id] = body["parameters"]
        if body.get("request_id"):
            self.request_ids[run_id] = str(body["request_id"])
        retry_count = int(body.get("retry_count") or 0)
        self.retries[run_id] = max(self.retries.get(run_id, 0), retry_count)
        self._dirty = True

    # The loop ---------------------------------------------------------------

    def step(self) -> None:
        """One iteration: collect start results, start what may start, ack what is done."""
        changed = self._collect_outcomes()
        now = time.monotonic()
        if changed or self._dirty or now - self._last_pass >= self._scan_interval():
            self._dirty = False
            self._last_pass = now
            with new_session() as session:
                self._schedule(session)
                self._ack_settled(session)
            metrics.record_memory("reana-scheduler")

    def _waiting(self) -> bool:
        """Whether a held submission or a retry waits for a start."""
        return bool(self.held) or bool(self.not_before)

    def _scan_interval(self) -> float:
        return SCAN_INTERVAL if self._waiting() else IDLE_SCAN_INTERVAL

    def idle_timeout(self) -> float:
        """How long the broker may block before the next step."""
        if self.in_flight:
            return IN_FLIGHT_POLL
        return max(self._scan_interval() - (time.monotonic() - self._last_pass), 0.0)

    def _schedule(self, session) -> None:
        orphan_before = utcnow() - timedelta(seconds=ORPHAN_AFTER)
        if not self._waiting() and not has_orphans(session, orphan_before):
            return  # nothing could start: no need to count the active runs
        active = active_runs_by_user(session)
        slots = (
            self.config.max_concurrent_batch_workflows - sum(active.values()) - len(self.in_flight)
        )
        if slots <= 0:
            return
        now = time.monotonic()
        skip = len(self.in_flight) + len(self.not_before)
        heads = queued_heads(session, slots + skip)

        def eligible(candidate) -> bool:
            if candidate.id_ in self.in_flight:
                return False
            if self.not_before.get(candidate.id_, 0) > now:
                return False
            return candidate.id_ in self.held or candidate.updated <= orphan_before

        for candidate in pick_fair(heads, active, slots, eligible):
            self._submit(candidate.id_, candidate.owner_id, session)

    def _submit(self, run_id: uuid.UUID, owner_id: uuid.UUID, session) -> None:
        parameters = self.parameters.get(run_id)
        if parameters is None:
            workflow = session.get(Workflow, run_id)
            parameters = {
                "input_parameters": (workflow.input_parameters or {}) if workflow else {},
                "operational_options": (workflow.operational_options or {}) if workflow else {},
                "restart": bool(workflow.restart) if workflow else False,
            }
        self.not_before.pop(run_id, None)
        source = "submission" if run_id in self.held else "database scan"
        request_id = self.request_ids.get(run_id)
        with log_context(request_id=request_id, run_id=run_id, user_id=owner_id):
            log.info("starting run %s of user %s (from its %s)", run_id, owner_id, source)
        self.in_flight[run_id] = self.pool.submit(self._start, run_id, owner_id, parameters,
                                                  request_id)

    def _start(self, run_id: uuid.UUID, owner_id: uuid.UUID, parameters: dict,
               request_id: str | None = None) -> StartOutcome:
        try:
            with log_context(request_id=request_id, run_id=run_id, user_id=owner_id):
                response = self.client.set_workflow_status(owner_id, run_id, "start", parameters)
        except WorkflowControllerUnavailable as error:
            return StartOutcome(run_id, None, str(error))
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = response.text[:500]
        return StartOutcome(run_id, response.status_code, message or "")

    def _collect_outcomes(self) -> bool:
        done = [run_id for run_id, future in self.in_flight.items() if future.done()]
        if not done:
            return False
        with new_session() as session:
            for run_id in done:
                outcome = self.in_flight.pop(run_id).result()
                self._apply_outcome(session, outcome)
            session.commit()
        return True

    def _apply_outcome(self, session, outcome: StartOutcome) -> None:
        code = outcome.status_code
        if code is not None and code < 300:
            self.started += 1
            self._forget(outcome.run_id, keep_messages=True)
            return
        workflow = session.get(Workflow, outcome.run_id)
        if workflow is None or RunStatus(workflow.status) != RunStatus.queued:
            # Deleted, stopped, started elsewhere or failed by the controller itself.
            return
        if code is not None and 400 <= code < 500:
            self._fail(session, workflow, f"Workflow could not be started: {outcome.message}")
            return
        retries = self.retries.get(outcome.run_id, 0) + 1
        self.retries[outcome.run_id] = retries
        if retries > self.config.scheduler_requeue_count:
            self._fail(
                session,
                workflow,
                f"Workflow {workflow.full_name} could not be scheduled after {retries - 1} "
                f"retries.\nReason: {outcome.message or f'HTTP {code}'}",
            )
            return
        delay = min(self.config.scheduler_retry_delay * 2 ** min(retries - 1, 10), MAX_BACKOFF)
        self.not_before[outcome.run_id] = time.monotonic() + delay
        log.info("start of %s failed (%s), retry %d in %.2fs", workflow.id_, code, retries, delay)

    def _fail(self, session, workflow: Workflow, reason: str) -> None:
        log.warning("run %s failed to start: %s", workflow.id_, reason)
        set_workflow_status(session, workflow, RunStatus.failed, logs=reason)

    def _ack_settled(self, session) -> None:
        """Acknowledge the held messages of runs that are no longer queued."""
        waiting = [run_id for run_id in self.held if run_id not in self.in_flight]
        if not waiting:
            return
        statuses = {}
        for chunk in _chunks(waiting, 500):
            rows = session.execute(
                select(Workflow.id_, Workflow.status).where(Workflow.id_.in_(chunk))
            )
            statuses.update({row.id_: RunStatus(row.status) for row in rows})
        for run_id in waiting:
            status = statuses.get(run_id)
            if status in (RunStatus.queued, RunStatus.created):
                continue
            for message in self.held.pop(run_id, []):
                _ack(message)
            self._forget(run_id)

    def _forget(self, run_id: uuid.UUID, keep_messages: bool = False) -> None:
        self.parameters.pop(run_id, None)
        self.request_ids.pop(run_id, None)
        self.retries.pop(run_id, None)
        self.not_before.pop(run_id, None)
        if not keep_messages:
            self.held.pop(run_id, None)

    def close(self) -> None:
        """Wait for starts in flight and record their outcomes."""
        self.pool.shutdown(wait=True)
        self._collect_outcomes()


def _ack(message) -> None:
    if message is None:
        return
    try:
        message.ack()
    except Exception as error:  # noqa: BLE001 - a lost channel redelivers; the run is settled
        log.warning("could not ack a submission: %s", error)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def _chunks(items, size):
    for index in range(0, len(items), size):
        yield items[index : index + size]


class SubmissionConsumer(BaseConsumer):
    """Feeds ``workflow-submission`` messages to the scheduler and drives its loop."""

    queue = staticmethod(workflow_submission_queue)
    manual_ack = True
    prefetch_count = SUBMISSION_PREFETCH

    def __init__(self, scheduler: Scheduler, connection=None):
        super().__init__(connection)
        self.scheduler = scheduler

    def handle(self, body: dict, message) -> None:
        """Hold the message; the scheduler acks it once its run has left ``queued``."""
        self.scheduler.on_submission(body, message)

    def idle_timeout(self) -> float:
        """Until the next scheduling pass is due (short while starts are in flight)."""
        return self.scheduler.idle_timeout()

    def batch_limit(self) -> int:
        """Submissions taken at once before a scheduling pass."""
        return DRAIN_BURST

    def after_drain(self, idle: bool) -> None:
        """A scheduling pass (also while the broker is unreachable: the database scan)."""
        try:
            self.scheduler.step()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the scheduler
            log.exception("scheduling pass failed")
            self.scheduler.stopping.wait(0.5)

    def on_connection_lost(self) -> None:
        """The held submissions come back from the broker: hold them anew then."""
        self.scheduler.held.clear()

    def loop(self) -> None:
        """Consume and schedule until the scheduler stops: the shared batching loop."""
        super().loop(self.scheduler.stopping.is_set)


def run(scheduler: Scheduler | None = None) -> None:
    """Consume submissions and schedule until SIGTERM/SIGINT."""
    scheduler = scheduler or Scheduler()
    consumer = SubmissionConsumer(scheduler)

    def _stop(*_):
        scheduler.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    consumer.loop()
    scheduler.close()


def main() -> None:
    """Entry point of ``reana-scheduler``."""
    configure_logging(get_config().log_level, "%(asctime)s %(name)s %(levelname)s %(message)s",
                      service="reana-scheduler")
    log.info("scheduler starting (max %d active runs)", get_config().max_concurrent_batch_workflows)
    run()
