"""The embedded profile's broker: kombu's SQLAlchemy transport on a SQLite file.

Tuned and made safer than kombu's stock transport: WAL mode with a busy timeout,
settled messages deleted (kombu keeps every delivered row forever), and
:meth:`EmbeddedChannel.recover_unacked` to take back what a dead consumer held.
Delivery is FIFO; message priorities are ignored.

No busy polling: kombu's transport asks the database for new messages every
``polling_interval`` (each poll a SQLite query: two consumers polling every
50 ms kept an idle laptop platform at ~10 % of a core). Here a publisher rings
a doorbell of the queue after its commit (a byte into a named pipe beside the
broker file, :class:`Doorbells`) and a waiting consumer sleeps on the pipes of
its queues, waking at once on a ring; it still polls every
:data:`IDLE_POLL_SECONDS` (a ring can only be missed by a publisher that cannot
open the pipe, e.g. another user's process).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import select
from time import monotonic

from kombu.transport import sqlalchemy as sqla_transport
from kombu.transport.virtual import Empty
from sqlalchemy import create_engine, event, make_url, or_
from sqlalchemy.exc import IntegrityError, OperationalError

log = logging.getLogger(__name__)

EMBEDDED_POLLING_INTERVAL = 0.05
"""Seconds between two polls where no doorbell can be used (an in-memory broker)."""
IDLE_POLL_SECONDS = 1.0
"""Longest sleep of a waiting consumer between two polls when no doorbell rang."""
QUEUE_CREATE_ATTEMPTS = 3
FORGET_CHUNK = 200
"""Settled messages deleted per statement (SQLite limits an expression's depth)."""


class EmbeddedChannel(sqla_transport.Channel):
    """kombu's SQLAlchemy channel on SQLite in WAL mode with a busy timeout."""

    def _engine_from_config(self):
        url = make_url(self.connection.client.hostname)
        if url.database and url.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        _create_tables(engine)
        return engine

    def _put(self, queue, payload, **kwargs):
        """Store the message (kombu's), then wake a consumer waiting on the queue."""
        super()._put(queue, payload, **kwargs)
        ring(bell_path(self.connection.client.hostname, queue))

    # kombu keeps delivered rows forever (visible=False) and loses them if the
    # consumer dies before acking; settled messages are deleted here instead,
    # and recover_unacked() makes a dead consumer's messages visible again.

    def _forget(self, *delivery_tags) -> None:
        """Delete the delivered (invisible) rows of settled messages (one statement)."""
        tags = [tag for tag in delivery_tags if isinstance(tag, str)]
        if not tags:
            return
        rows = self.session.query(self.message_cls).filter(
            self.message_cls.visible == False,  # noqa: E712 - SQL expression
            or_(*(self.message_cls.payload.like(f"%{tag}%") for tag in tags)),
        )
        try:
            rows.delete(synchronize_session=False)
            self.session.commit()
        except Exception:  # noqa: BLE001 - a leftover row is only wasted space
            self.session.rollback()
            log.warning("Could not delete settled messages %s", tags, exc_info=True)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._forget(delivery_tag)

    def basic_ack_each(self, delivery_tags) -> None:
        """Acknowledge several messages, deleting their rows in one statement."""
        for tag in delivery_tags:
            self.qos.ack(tag)
        for start in range(0, len(delivery_tags), FORGET_CHUNK):
            self._forget(*delivery_tags[start : start + FORGET_CHUNK])

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)
        if not requeue:  # a requeue re-puts the message, then _restore forgets the old row
            self._forget(delivery_tag)

    def _restore(self, message):
        super()._restore(message)
        self._forget(message.delivery_tag)

    def _get_or_create(self, queue):
        """kombu's, safe across processes: a queue another process created meanwhile is taken.

        kombu guards the creation with a lock of its own process only; two
        processes declaring the same new queue (the consumer and an engine
        publishing its first status) collide on ``kombu_queue.name``'s
        uniqueness, and kombu would raise. The loser reads the winner's row.
        """
        for _attempt in range(QUEUE_CREATE_ATTEMPTS):
            try:
                return super()._get_or_create(queue)
            except IntegrityError:
                self.session.rollback()
            found = self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).first()
            if found is not None:
                return found
        return super()._get_or_create(queue)

    def recover_unacked(self, queue_name: str) -> int:
        """Make the delivered but never settled messages of a queue deliverable again."""
        queue = self._get_or_create(queue_name)
        count = (
            self.session.query(self.message_cls)
            .filter(self.message_cls.queue_id == queue.id)
            .filter(self.message_cls.visible == False)  # noqa: E712 - SQL expression
            .update({"visible": True}, synchronize_session=False)
        )
        self.session.commit()
        return count


def _create_tables(engine) -> None:
    """kombu's tables, tolerating another process creating them at the same moment.

    kombu's ``create_all`` checks, then creates: two processes opening a new
    broker file together both try to create, and one fails with "table ...
    already exists". Once this returns, kombu's own check finds every table.
    """
    for attempt in range(QUEUE_CREATE_ATTEMPTS):
        try:
            sqla_transport.metadata.create_all(engine)
            return
        except OperationalError as error:
            if "already exists" not in str(error) or attempt == QUEUE_CREATE_ATTEMPTS - 1:
                raise


def bell_path(url: str, queue: str) -> str | None:
    """The doorbell (a named pipe) of ``queue`` beside the broker file of ``url`` (None: in
    memory)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    digest = hashlib.sha256(queue.encode()).hexdigest()[:16]
    return f"{os.path.abspath(database)}.bell-{digest}"


def ring(path: str | None) -> None:
    """Wake the consumers waiting on a doorbell (nothing happens when none waits)."""
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no pipe yet (ENOENT) or nobody waits on it (ENXIO): nobody to wake
        return
    try:
        os.write(fd, b"!")
    except OSError as error:
        if error.errno != errno.EAGAIN:  # a full pipe has rung already
            log.debug("could not ring %s: %s", path, error)
    finally:
        os.close(fd)


class Doorbells:
    """The doorbells a consumer waits on: named pipes, opened read-write (so the pipe never
    reports end-of-file when the last publisher closes it) and non-blocking."""

    def __init__(self):
        self.fds: dict[str, int] = {}

    def watch(self, path: str) -> None:
        if path in self.fds:
            return
        try:
            os.mkfifo(path, 0o600)
        except FileExistsError:
            pass
        self.fds[path] = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def wait(self, seconds: float) -> bool:
        """Sleep until a watched bell rings or ``seconds`` pass; whether one rang (its rings
        are consumed)."""
        if not self.fds:
            select.select([], [], [], seconds)
            return False
        readable, _, _ = select.select(list(self.fds.values()), [], [], max(seconds, 0))
        for fd in readable:
            try:
                while os.read(fd, 4096):
                    pass
            except BlockingIOError:
                pass
        return bool(readable)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


class EmbeddedTransport(sqla_transport.Transport):
    """The broker of the embedded profile: no server, a SQLite file, doorbells."""

    Channel = EmbeddedChannel
    polling_interval = EMBEDDED_POLLING_INTERVAL

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self.doorbells = Doorbells()
        self._delivering = False
        self._polled_at = float("-inf")

    def drain_events(self, connection, timeout=None):
        """kombu's loop, with the database asked only when there can be something new: a
        doorbell rang, the previous ask delivered (more may be ready), a batch is being
        taken (``timeout=0``), or the last ask is :data:`IDLE_POLL_SECONDS` old."""
        started = monotonic()
        poll = (timeout == 0 or self._delivering or self._wait(0)
                or started - self._polled_at >= IDLE_POLL_SECONDS)
        while True:
            if poll:
                try:
                    self.cycle.get(self._deliver, timeout=timeout)
                    self._delivering = True
                    return
                except Empty:
                    self._delivering = False
                    self._polled_at = monotonic()
            now = monotonic()
            if timeout is not None and now - started >= timeout:
                raise TimeoutError()
            until_poll = IDLE_POLL_SECONDS - (now - self._polled_at)
            wait = until_poll if timeout is None else min(until_poll, timeout - (now - started))
            rang = self._wait(max(wait, 0.0))
            poll = rang or monotonic() - self._polled_at >= IDLE_POLL_SECONDS

    def _wait(self, seconds: float) -> bool:
        """Sleep on the active queues' doorbells; whether one rang (True where none can be
        used: then this is a plain sleep of at most the polling interval)."""
        paths = {bell_path(self.client.hostname, queue)
                 for channel in self.channels for queue in channel._active_queues}
        if None in paths:  # in memory: no file to put a doorbell beside
            select.select([], [], [], min(seconds, self.polling_interval))
            return True
        for path in paths:
            try:
                self.doorbells.watch(path)
            except OSError as error:
                log.warning("no doorbell at %s (%s): polling", path, error)
                select.select([], [], [], min(seconds, self.polling_interval))
                return True
        return self.doorbells.wait(seconds)

    def close_connection(self, connection):
        self.doorbells.close()
        super().close_connection(connection)
