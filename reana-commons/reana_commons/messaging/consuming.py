"""Consuming: one batching consumer loop for every queue of the platform.

:class:`BaseConsumer` is the loop the scheduler and the job-status consumer
share (and nothing else hand-rolls one): connect; take back what a dead
consumer held (:meth:`BaseConsumer.recover_unacked`, on *every* (re)connect);
then wait for a message, take everything the broker has ready at once (a
batch), and let the subclass act on the batch (:meth:`BaseConsumer.after_drain`:
commit, then acknowledge with one ``basic.ack(multiple)``, :func:`ack_all`);
when the broker goes away, forget the unsettled messages (the broker
redelivers them) and reconnect with a growing backoff.

Consumers acknowledge a message only after it was handled; a raising handler
gets the message requeued (redelivered later, never lost), and a message that
cannot be decoded is rejected (dropped, or dead-lettered where the broker is
configured so).
"""

from __future__ import annotations

import inspect
import json
import logging
import signal
import time
from collections.abc import Callable

from kombu import Connection, Consumer, Queue
from kombu.transport.virtual import Channel as VirtualChannel

from reana_commons.messaging.embedded import EmbeddedChannel, EmbeddedTransport
from reana_commons.messaging.queues import get_connection

log = logging.getLogger(__name__)

CONSUMER_HEARTBEAT = 60
DELIVERY_MARGIN = 0.2
"""Seconds a published message may take to reach the consumer's socket."""
RECONNECT_BACKOFF = (0.5, 10.0)
"""First and longest wait (seconds) before reconnecting to a broker that went away."""
STOP_POLL = 0.1


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


def settle(message, action: str) -> None:
    """Ack, requeue or reject, tolerating a connection that is already gone."""
    try:
        getattr(message, action)()
    except Exception as error:  # noqa: BLE001 - the broker redelivers unsettled messages
        log.warning("Could not %s message: %s", action, error)


class BaseConsumer:
    """Consume one queue in batches; subclasses set ``queue`` and implement :meth:`handle`.

    ``queue`` is a callable returning the :class:`kombu.Queue` (for instance
    :func:`~.queues.workflow_submission_queue`). Without ``manual_ack`` a
    message is acked once :meth:`handle` returned; with it the subclass
    settles messages itself, typically all of a batch in :meth:`after_drain`.
    When :meth:`handle` raises, the message is requeued after ``requeue_delay``.

    Hooks of :meth:`loop`: :meth:`idle_timeout` (how long to wait for a
    message), :meth:`batch_limit` (messages taken at most per batch),
    :meth:`after_drain` (after each wait and the batch it brought, also while
    the broker is unreachable) and :meth:`on_connection_lost`.
    """

    queue: Callable[[], Queue] | Queue | None = None
    prefetch_count = 10
    manual_ack = False
    requeue_delay = 0.2

    def __init__(self, connection: Connection | None = None, prefetch_count: int | None = None):
        self.connection = connection or get_connection(heartbeat=CONSUMER_HEARTBEAT)
        self.should_stop = False
        self.active_connection: Connection | None = None
        self.drained_at = 0.0
        """Monotonic time before which every message sent was handled and
        :meth:`after_drain` has run on it (read by the reconciler)."""
        self.delivered = 0
        if prefetch_count is not None:
            self.prefetch_count = prefetch_count

    # -- hooks ---------------------------------------------------------------------------

    def handle(self, body: dict, message) -> None:
        """Process one decoded message (idempotently: it may be delivered twice)."""
        raise NotImplementedError

    def idle_timeout(self) -> float:
        """Seconds :meth:`loop` waits for a message before calling :meth:`after_drain` anyway."""
        return 0.5

    def batch_limit(self) -> int:
        """How many messages one batch takes at most (what the broker has ready, up to this)."""
        return max(self.prefetch_count or 1, 1)

    def after_drain(self, idle: bool) -> None:
        """Act on the batch just taken (``idle``: nothing came within :meth:`idle_timeout`)."""

    def on_connection_lost(self) -> None:
        """Forget the messages not yet settled: the broker delivers them again."""

    # -- the loop ------------------------------------------------------------------------

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

    def loop(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Consume until ``stop()`` or :attr:`should_stop`, reconnecting whenever the broker
        goes away (waiting 0.5 s, then longer, up to 10 s, between attempts)."""

        def stopped() -> bool:
            return self.should_stop or stop()

        delay = RECONNECT_BACKOFF[0]
        while not stopped():
            try:
                self._consume(stopped)
                return
            except Exception as error:  # noqa: BLE001 - broker gone: reconnect, redelivery
                log.warning("%s lost the broker (%s); reconnecting in %.1f s",
                            self.get_queue().name, error, delay)
            connected = self.active_connection is not None
            self.active_connection = None
            self.on_connection_lost()
            _release(self.connection)
            self.connection = self.connection.clone()
            if connected:
                delay = RECONNECT_BACKOFF[0]
            self._pause(delay, stopped)
            delay = min(delay * 2, RECONNECT_BACKOFF[1])

    def run(self) -> None:
        """:meth:`loop` until :attr:`should_stop` (set by :meth:`install_signal_handlers`)."""
        self.loop()

    def _pause(self, seconds: float, stopped: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        self._after_drain(idle=True)  # work that needs no broker goes on (a database scan)
        while not stopped() and time.monotonic() < deadline:
            time.sleep(min(STOP_POLL, max(deadline - time.monotonic(), 0)))

    def _after_drain(self, idle: bool) -> bool:
        try:
            self.after_drain(idle)
            return True
        except Exception:  # noqa: BLE001 - e.g. a database hiccup must not end the consumer
            log.exception("%s: processing a batch failed", self.get_queue().name)
            return False

    def _consume(self, stopped: Callable[[], bool]) -> None:
        connection = self.connection
        # One attempt: this loop waits between attempts itself (a growing backoff).
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        self.recover_unacked()
        channel = connection.channel()
        consumer = Consumer(channel, on_decode_error=self.on_decode_error,
                            **self._consumer_options())
        consumer.consume()
        self.active_connection = connection
        log.info("Consuming from %s", self.get_queue().name)
        try:
            while not stopped():
                self._drain_batch(connection)
        finally:
            try:
                consumer.cancel()
                channel.close()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass

    def _drain_batch(self, connection: Connection) -> None:
        """Wait for a message, take what else is ready (a batch), then :meth:`after_drain`."""
        waiting_since = time.monotonic()
        start = self.delivered
        try:
            connection.drain_events(timeout=self.idle_timeout())
        except TimeoutError:
            if hasattr(connection, "heartbeat_check"):
                connection.heartbeat_check()
            if self._after_drain(idle=True):
                # Nothing came for a while: every message sent before the wait was handled.
                self.drained_at = max(self.drained_at, waiting_since)
            return
        empty_at = None
        limit = self.batch_limit()
        while self.delivered - start < limit:
            try:
                connection.drain_events(timeout=0)
            except TimeoutError:
                # Below the prefetch window the broker pushes at once: what was sent a
                # moment ago is in this batch.
                empty_at = time.monotonic() - DELIVERY_MARGIN
                break
        if self._after_drain(idle=False) and empty_at is not None:
            self.drained_at = max(self.drained_at, empty_at)

    # -- one message ---------------------------------------------------------------------

    def on_decode_error(self, message, error) -> None:
        """An unreadable message is logged and rejected: it can never succeed."""
        log.error("Rejecting undecodable message on %s: %s", self.get_queue().name, error)
        settle(message, "reject")

    def on_message(self, body, message) -> None:
        """Decode, hand over to :meth:`handle`, then ack (or requeue on failure)."""
        self.delivered += 1
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
                settle(message, "requeue")
            return
        if not self.manual_ack and not message.acknowledged:
            settle(message, "ack")

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
        """Stop the :meth:`loop` gracefully on SIGTERM and SIGINT."""

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


def _release(connection: Connection) -> None:
    try:
        connection.release()
    except Exception:  # noqa: BLE001 - already broken
        pass
