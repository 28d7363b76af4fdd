"""Messaging of the platform (kombu): queues, publishing, consuming.

Only this package knows queue names and message shapes
(:mod:`.queues`), how messages are sent (:mod:`.publishing`) and how they are
consumed (:mod:`.consuming`: one batching loop with recovery on every
reconnect). :mod:`.embedded` is the broker of the embedded profile.
"""

from reana_commons.messaging.consuming import (
    CONSUMER_HEARTBEAT,
    BaseConsumer,
    ack_all,
    decode_body,
    settle,
)
from reana_commons.messaging.embedded import EMBEDDED_POLLING_INTERVAL
from reana_commons.messaging.publishing import (
    build_progress_message,
    close_shared_connections,
    publish,
    publish_workflow_status,
    publish_workflow_submission,
)
from reana_commons.messaging.queues import (
    get_connection,
    jobs_status_queue,
    workflow_submission_queue,
)

__all__ = [
    "CONSUMER_HEARTBEAT",
    "EMBEDDED_POLLING_INTERVAL",
    "BaseConsumer",
    "ack_all",
    "build_progress_message",
    "close_shared_connections",
    "decode_body",
    "get_connection",
    "jobs_status_queue",
    "publish",
    "publish_workflow_status",
    "publish_workflow_submission",
    "settle",
    "workflow_submission_queue",
]
