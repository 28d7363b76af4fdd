"""Queues, message formats, publishers and the consumer base class (kombu).

Only this module knows queue names and message shapes. Wire format is REANA
0.9's: default exchange, routing key = queue name, ``json`` serializer, and the
body is ``json.dumps(body)`` — a JSON *string* inside the JSON message, kept for
compatibility; consumers accept that and plain JSON objects alike.

Two brokers, the same code: RabbitMQ (``amqp://``) and, in the embedded profile,
kombu's SQLAlchemy transport on a SQLite file (``sqla+sqlite://``), run here
with a short polling interval and SQLite in WAL mode. The embedded transport
delivers in FIFO order and ignores message priorities.

Consumers acknowledge a message only after their handler returned; a raising
handler gets the message requeued (redelivered later, never lost), and a
message that cannot be decoded is rejected (dropped, or dead-lettered where the
broker is configured so).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from kombu import Connection, Consumer, Queue, pools
from kombu.mixins import ConsumerMixin
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.virtual import Channel as VirtualChannel

from reana_commons.config import (
    JOBS_STATUS_QUEUE,
    MQ_MAX_PRIORITY,
    WORKFLOW_SUBMISSION_QUEUE,
    get_config,
)
from reana_commons.errors import MessagingError
from reana_commons.messaging.embedded import (
    EMBEDDED_POLLING_INTERVAL as EMBEDDED_POLLING_INTERVAL,
)
from reana_commons.messaging.embedded import EmbeddedChannel, EmbeddedTransport

log = logging.getLogger(__name__)

PUBLISH_MAX_RETRIES = 5
CONSUMER_HEARTBEAT = 60
PERSISTENT = 2


TRANSPORT_ALIASES.setdefault("reana-sqla", "reana_commons.messaging.embedded:EmbeddedTransport")


def _is_amqp(url: str) -> bool:
    return url.startswith(("amqp", "pyamqp"))


def _connection_url(url: str) -> str:
    """Route SQLite broker URLs to :class:`EmbeddedTransport`."""
    if url.startswith(("sqla+sqlite", "sqlalchemy+sqlite")):
        return "reana-sqla+" + url.split("+", 1)[1]
    return url


def get_connection(url: str | None = None, heartbeat: float = 0, confirm: bool = False):
    """A new (lazy) :class:`kombu.Connection` to the configured broker.

    ``confirm`` turns on RabbitMQ publisher confirms (a publish returns once the
    broker has the message on disk); ``heartbeat`` is for long-lived consumers.
    """
    url = url or get_config().broker_url
    if _is_amqp(url):
        return Connection(
            url,
            heartbeat=heartbeat,
            connect_timeout=5,
            transport_options={"confirm_publish": confirm},
        )
    return Connection(_connection_url(url))


def workflow_submission_queue() -> Queue:
    """The durable ``workflow-submission`` queue (priorities 0..100 on RabbitMQ)."""
    config = get_config()
    name = config.queue_name(WORKFLOW_SUBMISSION_QUEUE)
    arguments = None if config.is_embedded_broker else {"x-max-priority": MQ_MAX_PRIORITY}
    return Queue(name, routing_key=name, durable=True, queue_arguments=arguments)


def jobs_status_queue() -> Queue:
    """The durable ``jobs-status`` queue (workflow status and progress updates)."""
    name = get_config().queue_name(JOBS_STATUS_QUEUE)
    return Queue(name, routing_key=name, durable=True)


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
    publish(workflow_submission_queue(), body, priority=priority, confirm=True)


def publish_workflow_status(
    workflow_uuid,
    status: int | None,
    logs: str = "",
    message: dict | None = None,
    seq: int | None = None,
) -> None:
    """Send a workflow status and/or progress update to the job-status consumer.

    ``seq`` (a per-run counter from 1) lets the consumer apply each log chunk exactly
    once even when the broker redelivers the message.
    """
    body = {"workflow_uuid": str(workflow_uuid), "status": status, "logs": logs, "message": message}
    if seq is not None:
        body["seq"] = seq
    publish(jobs_status_queue(), body)


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


def decode_body(body) -> dict:
    """The message as a dict, whether sent as a JSON string (REANA) or an object."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if isinstance(body, str):
        body = json.loads(body)
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


def ack_all(messages: list) -> None:
    """Acknowledge messages received on one channel, with as few broker round trips as can be.

    The caller guarantees that no other message delivered before the last of
    them on its channel is still unsettled: then RabbitMQ takes one
    ``basic.ack(multiple=True)`` for them all. The embedded transport
    acknowledges each (kombu's virtual channels ignore ``multiple``) but
    deletes their rows at once. Raises what the broker raises; nothing is
    acknowledged twice.
    """
    pending = [m for m in messages if not m.acknowledged]
    if not pending:
        return
    channel = pending[0].channel
    if any(m.channel is not channel for m in pending):
        raise ValueError("ack_all takes the messages of one channel")
    if isinstance(channel, EmbeddedChannel):
        channel.basic_ack_each([m.delivery_tag for m in pending])
    elif isinstance(channel, VirtualChannel):
        for message in pending:
            message.ack()
        return
    else:
        channel.basic_ack(max(m.delivery_tag for m in pending), multiple=True)
    for message in pending:
        message._state = "ACK"  # kombu's own marker, as Message.ack() sets it


class BaseConsumer(ConsumerMixin):
    """Consume one queue; subclasses set ``queue`` and implement :meth:`handle`.

    ``queue`` is a callable returning the :class:`kombu.Queue` (for instance
    :func:`workflow_submission_queue`). After :meth:`handle` returns the message
    is acked, unless ``manual_ack`` (then the handler acks or requeues it
    itself); when it raises, the message is requeued after ``requeue_delay``.
    :meth:`run` first takes back, on the embedded transport, the messages a
    crashed predecessor left unsettled (``recover_unacked_on_start``).
    """

    queue: Callable[[], Queue] | Queue | None = None
    prefetch_count = 10
    manual_ack = False
    requeue_delay = 0.2
    recover_unacked_on_start = True

    def __init__(self, connection: Connection | None = None, prefetch_count: int | None = None):
        self.connection = connection or get_connection(heartbeat=CONSUMER_HEARTBEAT)
        self.should_stop = False
        self.active_connection: Connection | None = None
        if prefetch_count is not None:
            self.prefetch_count = prefetch_count

    def handle(self, body: dict, message) -> None:
        """Process one decoded message (idempotently: it may be delivered twice)."""
        raise NotImplementedError

    def get_queue(self) -> Queue:
        """The queue consumed, built from the class's ``queue`` attribute."""
        attr = inspect.getattr_static(type(self), "queue")
        if isinstance(attr, staticmethod):
            attr = attr.__func__
        if isinstance(attr, Queue):
            return attr
        if attr is None:
            raise TypeError(f"{type(self).__name__}.queue is not set")
        return attr(self) if inspect.signature(attr).parameters else attr()

    def _consumer_options(self) -> dict:
        return {
            "queues": [self.get_queue()],
            "callbacks": [self.on_message],
            "accept": ["json"],
            "prefetch_count": self.prefetch_count,
        }

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's signature
        # kombu's mixin passes Consumer bound to the channel and on_decode_error
        return [Consumer(**self._consumer_options())]

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        """Remember the live connection of :meth:`run` (kombu reconnects with a new one)."""
        self.active_connection = connection
        log.info("Consuming from %s", self.get_queue().name)

    def on_decode_error(self, message, error) -> None:
        """An unreadable message is logged and rejected: it can never succeed."""
        log.error("Rejecting undecodable message on %s: %s", self.get_queue().name, error)
        _settle(message, "reject")

    def on_message(self, body, message) -> None:
        """Decode, hand over to :meth:`handle`, then ack (or requeue on failure)."""
        try:
            payload = decode_body(body)
        except ValueError as error:
            self.on_decode_error(message, error)
            return
        try:
            self.handle(payload, message)
        except Exception:  # noqa: BLE001 - a failing handler must not kill the consumer
            log.exception("Handler failed on %s; requeueing the message", self.get_queue().name)
            if not message.acknowledged:
                if self.requeue_delay:
                    time.sleep(self.requeue_delay)
                _settle(message, "requeue")
            return
        if not self.manual_ack and not message.acknowledged:
            _settle(message, "ack")

    def run(self, _tokens: int = 1, **kwargs) -> None:
        """Consume until ``should_stop``, reconnecting whenever the broker goes away."""
        if self.recover_unacked_on_start:
            self.recover_unacked()
        super().run(_tokens, **kwargs)

    def recover_unacked(self) -> int:
        """Embedded transport: redeliver messages a dead consumer took but never settled.

        RabbitMQ does this by itself when a connection closes. The embedded
        transport cannot tell a live holder from a dead one, so this assumes one
        consumer process per queue (the embedded profile's topology); a message
        taken twice is handled twice, which idempotent handlers tolerate.
        """
        if not isinstance(self.connection.transport, EmbeddedTransport):
            return 0
        channel = self.connection.channel()
        try:
            count = channel.recover_unacked(self.get_queue().name)
        finally:
            channel.close()
        if count:
            log.warning("Recovered %d unsettled message(s) on %s", count, self.get_queue().name)
        return count

    def install_signal_handlers(self) -> None:
        """Stop the :meth:`run` loop gracefully on SIGTERM and SIGINT."""

        def stop(signum, _frame):
            log.info("Signal %s received, stopping consumer", signum)
            self.should_stop = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def drain(self, timeout: float = 1.0, limit: int | None = None) -> int:
        """Process the messages available now (for tests); returns how many were handled.

        Stops when no message arrives within ``timeout`` seconds or after ``limit``.
        """
        handled = 0

        def counting(body, message):
            nonlocal handled
            handled += 1
            self.on_message(body, message)

        connection = self.connection
        channel = connection.channel()
        options = self._consumer_options()
        options["callbacks"] = [counting]
        consumer = Consumer(channel, on_decode_error=self.on_decode_error, **options)
        if limit is not None:
            consumer.prefetch_count = min(self.prefetch_count or limit, limit)
        try:
            consumer.consume()
            while limit is None or handled < limit:
                try:
                    connection.drain_events(timeout=timeout)
                except TimeoutError:
                    break
        finally:
            try:
                consumer.cancel()
            finally:
                channel.close()
        return handled


def _settle(message, action: str) -> None:
    """Ack, requeue or reject, tolerating a connection that is already gone."""
    try:
        getattr(message, action)()
    except Exception as error:  # noqa: BLE001 - the broker redelivers unsettled messages
        log.warning("Could not %s message: %s", action, error)
