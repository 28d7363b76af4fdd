"""The embedded profile's broker: kombu's SQLAlchemy transport on a SQLite file.

Tuned and made safer than kombu's stock transport: short polling interval, WAL
mode with a busy timeout, settled messages deleted (kombu keeps every delivered
row forever), and :meth:`EmbeddedChannel.recover_unacked` to take back what a
dead consumer held. Delivery is FIFO; message priorities are ignored.
"""

from __future__ import annotations

import logging
import os

from kombu.transport import sqlalchemy as sqla_transport
from sqlalchemy import create_engine, event, make_url, or_

log = logging.getLogger(__name__)

EMBEDDED_POLLING_INTERVAL = 0.05
"""Seconds between two polls of the embedded (SQLite) transport for new messages."""
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

        return engine

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


class EmbeddedTransport(sqla_transport.Transport):
    """The broker of the embedded profile: no server, a SQLite file, fast polling."""

    Channel = EmbeddedChannel
    polling_interval = EMBEDDED_POLLING_INTERVAL
