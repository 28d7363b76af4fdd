"""Broker connections and the platform's queues: the one place that knows their names.

Wire format is REANA 0.9's: default exchange, routing key = queue name, ``json``
serializer. Two brokers, the same code: RabbitMQ (``amqp://``) and, in the
embedded profile, kombu's SQLAlchemy transport on a SQLite file
(``sqla+sqlite://``, :mod:`.embedded`), which delivers in FIFO order and
ignores message priorities.
"""

from __future__ import annotations

from kombu import Connection, Queue
from kombu.transport import TRANSPORT_ALIASES

from reana_commons.config import (
    JOBS_STATUS_QUEUE,
    MQ_MAX_PRIORITY,
    WORKFLOW_SUBMISSION_QUEUE,
    get_config,
)

TRANSPORT_ALIASES.setdefault("reana-sqla", "reana_commons.messaging.embedded:EmbeddedTransport")


def _is_amqp(url: str) -> bool:
    return url.startswith(("amqp", "pyamqp"))


def _connection_url(url: str) -> str:
    """Route SQLite broker URLs to :class:`~.embedded.EmbeddedTransport`."""
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
