"""Messaging on the embedded transport and on RabbitMQ: delivery, acks, requeues, priorities."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from kombu import Connection, Consumer
from reana_commons import messaging
from reana_commons.errors import MessagingError
from reana_commons.messaging import publishing
from reana_testing.pytest_plugin import apply_env


@pytest.fixture
def mq(monkeypatch, broker, reana_home):
    """Configure the platform for the parametrized broker; yield its kind."""
    url, prefix = broker
    apply_env(
        monkeypatch, {"RABBIT_MQ": url, "REANA_QUEUE_PREFIX": prefix, "REANA_HOME": reana_home}
    )
    yield "embedded" if url.startswith("sqla") else "rabbitmq"
    messaging.close_shared_connections()


class Recorder(messaging.BaseConsumer):
    """Records bodies; fails the first ``failures`` deliveries."""

    queue = messaging.jobs_status_queue
    requeue_delay = 0

    def __init__(self, failures=0, **kwargs):
        super().__init__(**kwargs)
        self.failures = failures
        self.bodies = []
        self.redelivered = []

    def handle(self, body, message):
        self.bodies.append(body)
        self.redelivered.append(bool(message.delivery_info.get("redelivered")))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")


class Submissions(Recorder):
    queue = messaging.workflow_submission_queue


def test_publish_consume_ack(mq):
    progress = messaging.build_progress_message(running={"total": 1, "job_ids": ["j1"]})
    messaging.publish_workflow_status("wf-1", 1, logs="step 1\n", message=progress)
    consumer = Recorder()
    assert consumer.drain(timeout=2, limit=1) == 1
    sent_at = consumer.bodies[0].pop("sent_at")  # the consumer's lag metric (ADR 0027)
    assert abs(time.time() - sent_at) < 60
    assert consumer.bodies == [
        {
            "workflow_uuid": "wf-1",
            "status": 1,
            "logs": "step 1\n",
            "message": {"progress": {"running": {"total": 1, "job_ids": ["j1"]}}},
        }
    ]
    assert Recorder().drain(timeout=0.3) == 0  # acked: gone


def test_wire_format_is_reana_json_string_in_json(mq):
    messaging.publish_workflow_submission("user-1", "wf-2", {"input_parameters": {}}, priority=7)
    queue = messaging.workflow_submission_queue()
    received = []
    with messaging.get_connection() as conn:
        with Consumer(
            conn, [queue], accept=["json"], callbacks=[lambda b, m: received.append((b, m))]
        ):
            conn.drain_events(timeout=5)
        body, message = received[0]
        assert message.content_type == "application/json"
        assert isinstance(body, str)
        assert json.loads(body) == {
            "user": "user-1",
            "workflow_id_or_name": "wf-2",
            "parameters": {"input_parameters": {}},
            "priority": 7,
            "min_job_memory": 0,
            "retry_count": 0,
        }
        assert message.delivery_info["routing_key"] == queue.name
        message.ack()


def test_plain_json_objects_are_accepted_too(mq):
    queue = messaging.jobs_status_queue()
    with messaging.get_connection() as conn:
        conn.Producer().publish(
            {"workflow_uuid": "w", "status": 2},
            routing_key=queue.name,
            declare=[queue],
            serializer="json",
        )
    consumer = Recorder()
    assert consumer.drain(timeout=2, limit=1) == 1
    assert consumer.bodies == [{"workflow_uuid": "w", "status": 2}]


def test_failing_handler_gets_the_message_again(mq):
    messaging.publish_workflow_status("wf-3", 2)
    consumer = Recorder(failures=1)
    assert consumer.drain(timeout=2, limit=2) == 2
    assert consumer.bodies[0] == consumer.bodies[1]
    assert consumer.bodies[0]["workflow_uuid"] == "wf-3"
    if mq == "rabbitmq":
        assert consumer.redelivered == [False, True]
    assert Recorder().drain(timeout=0.3) == 0


@pytest.mark.parametrize("payload", ["not json at all", "[1, 2]"])
def test_undecodable_messages_are_rejected(mq, payload):
    queue = messaging.jobs_status_queue()
    with messaging.get_connection() as conn:
        conn.Producer().publish(payload, routing_key=queue.name, declare=[queue], serializer="json")
    consumer = Recorder()
    assert consumer.drain(timeout=1, limit=1) == 1
    assert consumer.bodies == []
    assert Recorder().drain(timeout=0.3) == 0


def test_foreign_content_type_is_rejected(mq):
    queue = messaging.jobs_status_queue()
    with messaging.get_connection() as conn:
        conn.Producer().publish(
            b"\x80\x04K\x01.",
            routing_key=queue.name,
            declare=[queue],
            content_type="application/x-python-serialize",
            content_encoding="binary",
        )
    consumer = Recorder()
    consumer.drain(timeout=1, limit=1)
    assert consumer.bodies == []
    assert Recorder().drain(timeout=0.3) == 0


def test_delivery_order(mq):
    for n, priority in enumerate([1, 50, 10, 100, 0]):
        messaging.publish_workflow_submission("u", f"wf-{n}", {}, priority=priority)
    consumer = Submissions(prefetch_count=1)
    assert consumer.drain(timeout=2, limit=5) == 5
    got = [b["priority"] for b in consumer.bodies]
    if mq == "rabbitmq":
        assert got == [100, 50, 10, 1, 0]
    else:  # the embedded transport ignores priorities: first in, first out
        assert got == [1, 50, 10, 100, 0]


def test_manual_ack_leaves_settling_to_the_handler(mq):
    messaging.publish_workflow_submission("u", "held", {})

    class Holder(Submissions):
        manual_ack = True

    holder = Holder()
    assert holder.drain(timeout=2, limit=1) == 1

    # never acked: back in the queue once the draining channel closed
    class Acker(Holder):
        def handle(self, body, message):
            super().handle(body, message)
            message.ack()

    acker = Acker()
    assert acker.drain(timeout=2, limit=1) == 1
    assert acker.bodies[0]["workflow_id_or_name"] == "held"
    assert Submissions().drain(timeout=0.3) == 0


def test_ack_all_settles_a_batch_at_once(mq, reana_home):
    for n in range(6):
        messaging.publish_workflow_status(f"wf-{n}", None)

    class Batcher(Recorder):
        manual_ack = True

        def __init__(self):
            super().__init__()
            self.held = []

        def handle(self, body, message):
            super().handle(body, message)
            self.held.append(message)
            if len(self.held) == 5:
                messaging.ack_all(self.held)  # the sixth is still to come: not acked

    batcher = Batcher()
    assert batcher.drain(timeout=2, limit=6) == 6
    assert all(m.acknowledged for m in batcher.held[:5])
    messaging.ack_all(batcher.held[:5])  # nothing is acknowledged twice
    successor = Recorder()
    assert successor.drain(timeout=2) == 1
    assert successor.bodies == [batcher.bodies[5]]
    if mq == "embedded":
        with sqlite3.connect(reana_home / "broker.db") as db:
            assert db.execute("SELECT count(*) FROM kombu_message").fetchone() == (0,)


DECLARER = """
import sys, time
from kombu import Queue
from reana_commons import messaging

start = float(sys.argv[1])
with messaging.get_connection() as connection:
    channel = connection.channel()
    time.sleep(max(start - time.time(), 0))
    for n in range(5):
        Queue(f"race-{n}", durable=True)(channel).declare()
"""


def test_processes_declaring_one_new_queue_together_all_succeed(mq, tmp_path):
    if mq != "embedded":
        pytest.skip("RabbitMQ declares idempotently by itself")
    start = time.time() + 3
    processes = [
        subprocess.Popen([sys.executable, "-c", DECLARER, str(start)], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, "\n".join(errors)


DYING_CONSUMER = """
import os
from reana_commons import messaging

class Dying(messaging.BaseConsumer):
    queue = messaging.workflow_submission_queue
    manual_ack = True

    def handle(self, body, message):
        os._exit(17)  # killed while holding the message, before any ack

Dying().drain(timeout=10, limit=1)
"""


def test_consumer_killed_before_ack_leaves_the_message(mq):
    messaging.publish_workflow_submission("u", "survivor", {})
    process = subprocess.run([sys.executable, "-c", DYING_CONSUMER], timeout=60)
    assert process.returncode == 17
    successor = Submissions()
    if mq == "embedded":
        # nothing tells the embedded transport the holder died: taken back on (re)start
        assert successor.drain(timeout=0.3) == 0
        assert successor.recover_unacked() == 1
    assert successor.drain(timeout=3, limit=1) == 1
    assert successor.bodies[0]["workflow_id_or_name"] == "survivor"
    if mq == "rabbitmq":
        assert successor.redelivered == [True]
    assert Submissions().drain(timeout=0.3) == 0


LOOPING_CONSUMER = """
import os, sys
from reana_commons import messaging

class Dying(messaging.BaseConsumer):
    queue = messaging.jobs_status_queue
    manual_ack = True

    def handle(self, body, message):
        os._exit(17)  # kill -9 while holding the message (a final status), before any ack

Dying().loop()
"""


def test_loop_takes_back_what_a_killed_consumer_held(mq):
    """The shared loop recovers on (re)connect: on the embedded broker too, nothing is lost."""
    messaging.publish_workflow_status("wf-final", 2)
    process = subprocess.run([sys.executable, "-c", LOOPING_CONSUMER], timeout=60)
    assert process.returncode == 17
    successor = Recorder()
    deadline = time.monotonic() + 10
    successor.loop(stop=lambda: bool(successor.bodies) or time.monotonic() > deadline)
    assert [b["workflow_uuid"] for b in successor.bodies] == ["wf-final"]
    assert Recorder().drain(timeout=0.3) == 0


class Batching(Recorder):
    """Acks each batch at once in ``after_drain``, as the platform's consumers do."""

    manual_ack = True
    prefetch_count = 50

    def __init__(self):
        super().__init__()
        self.held, self.batches = [], []

    def handle(self, body, message):
        super().handle(body, message)
        self.held.append(message)

    def after_drain(self, idle):
        if self.held:
            self.batches.append(len(self.held))
            messaging.ack_all(self.held)
            self.held = []

    def on_connection_lost(self):
        self.held = []


def test_loop_hands_over_what_is_ready_as_one_batch(mq):
    for n in range(20):
        messaging.publish_workflow_status(f"wf-{n}", 1)
    consumer = Batching()
    deadline = time.monotonic() + 10
    consumer.loop(stop=lambda: len(consumer.bodies) >= 20 or time.monotonic() > deadline)
    assert len(consumer.bodies) == 20
    assert sum(consumer.batches) == 20 and len(consumer.batches) < 20, consumer.batches
    assert consumer.drained_at > 0
    assert Recorder().drain(timeout=0.3) == 0


def test_loop_reconnects_with_backoff_when_the_broker_is_unreachable(monkeypatch, reana_home):
    apply_env(
        monkeypatch, {"RABBIT_MQ": "amqp://guest:guest@127.0.0.1:1//", "REANA_HOME": reana_home}
    )
    consumer = Batching()
    consumer.connection = Connection("amqp://guest:guest@127.0.0.1:1//", connect_timeout=0.2)
    lost, idle = [], []
    consumer.on_connection_lost = lambda: lost.append(time.monotonic())
    consumer.after_drain = lambda was_idle: idle.append(was_idle)
    start = time.monotonic()
    consumer.loop(stop=lambda: time.monotonic() - start > 2.5)
    # 0.5 s, then 1 s, then 2 s between attempts; work without the broker goes on meanwhile
    assert 2 <= len(lost) <= 4, lost
    assert idle and all(idle)


def test_settled_messages_leave_the_embedded_database(mq, reana_home):
    if mq != "embedded":
        pytest.skip("only the embedded transport stores messages in SQLite")
    for n in range(3):
        messaging.publish_workflow_status(f"wf-{n}", 1)
    consumer = Recorder(failures=1)
    assert consumer.drain(timeout=1, limit=4) == 4
    with sqlite3.connect(reana_home / "broker.db") as db:
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone() == (0,)


def test_run_loop_consumes_and_stops(mq):
    consumer = Recorder()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    for n in range(3):
        messaging.publish_workflow_status(f"wf-{n}", 1)
    deadline = time.monotonic() + 10
    while len(consumer.bodies) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    consumer.should_stop = True
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert [b["workflow_uuid"] for b in consumer.bodies] == ["wf-0", "wf-1", "wf-2"]


def test_publishing_reuses_one_connection(mq, monkeypatch):
    """Publishing goes through a pooled producer: one connection for many messages."""
    queue = messaging.jobs_status_queue()
    messaging.publish(queue, {"warm": "up"})
    opened = []
    original = Connection._establish_connection

    def spy(self):
        opened.append(self)
        return original(self)

    monkeypatch.setattr(Connection, "_establish_connection", spy)
    count = 100
    start = time.monotonic()
    for n in range(count):
        messaging.publish(queue, {"workflow_uuid": str(n), "status": 1})
    rate = count / (time.monotonic() - start)
    assert opened == []
    assert rate > 20, rate  # loose: the machine is shared; ~2000/s on an idle RabbitMQ


def test_publish_failure_raises(monkeypatch, reana_home):
    apply_env(
        monkeypatch, {"RABBIT_MQ": "amqp://guest:guest@127.0.0.1:1//", "REANA_HOME": reana_home}
    )
    monkeypatch.setattr(publishing, "PUBLISH_MAX_RETRIES", 1)
    conn = Connection("amqp://guest:guest@127.0.0.1:1//", connect_timeout=0.5)
    with pytest.raises(MessagingError, match="Could not publish"):
        messaging.publish(messaging.jobs_status_queue(), {"a": 1}, connection=conn)


def test_queue_definitions(monkeypatch, reana_home):
    apply_env(monkeypatch, {"RABBIT_MQ": "amqp://guest:guest@h:5672//", "REANA_QUEUE_PREFIX": "p-"})
    queue = messaging.workflow_submission_queue()
    assert queue.name == queue.routing_key == "p-workflow-submission"
    assert queue.durable and queue.queue_arguments == {"x-max-priority": 100}
    assert queue.exchange.name == ""
    status = messaging.jobs_status_queue()
    assert status.name == "p-jobs-status" and status.durable and not status.queue_arguments


def test_build_progress_message():
    assert messaging.build_progress_message() == {"progress": {}}
    assert messaging.build_progress_message(total={"total": 3, "job_ids": []}, running=0) == {
        "progress": {"total": {"total": 3, "job_ids": []}}
    }
    assert messaging.build_progress_message(total=2, finished=["a"], failed=None) == {
        "progress": {
            "total": {"total": 2, "job_ids": []},
            "finished": {"total": 1, "job_ids": ["a"]},
        }
    }


def test_decode_body():
    assert messaging.decode_body('{"a": 1}') == {"a": 1}
    assert messaging.decode_body(b'{"a": 1}') == {"a": 1}
    assert messaging.decode_body({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError):
        messaging.decode_body("[1]")


@pytest.mark.rabbitmq
def test_run_loop_reconnects_after_the_connection_drops(mq):
    if mq != "rabbitmq":
        pytest.skip("the embedded transport has no network connection to lose")
    consumer = Recorder()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()

    def wait_for(predicate, seconds=15):
        deadline = time.monotonic() + seconds
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.02)
        return predicate()

    try:
        messaging.publish_workflow_status("before", 1)
        assert wait_for(lambda: len(consumer.bodies) == 1)
        first = consumer.active_connection
        first.connection.sock.shutdown(socket.SHUT_RDWR)  # the broker "went away"
        assert wait_for(lambda: consumer.active_connection is not first)
        messaging.publish_workflow_status("after", 1)
        assert wait_for(lambda: len(consumer.bodies) == 2)
        assert [b["workflow_uuid"] for b in consumer.bodies] == ["before", "after"]
    finally:
        consumer.should_stop = True
        thread.join(timeout=5)


def test_an_idle_embedded_consumer_sleeps_on_its_doorbell(monkeypatch, reana_home):
    """The embedded transport asks its SQLite file about once a second while idle (not every
    50 ms), and a message published meanwhile wakes the consumer at once (its doorbell)."""
    from kombu.transport import sqlalchemy as sqla_transport
    from reana_commons.config import reset_config
    from reana_commons.messaging.embedded import IDLE_POLL_SECONDS

    monkeypatch.setenv("REANA_HOME", str(reana_home))
    monkeypatch.delenv("RABBIT_MQ", raising=False)
    reset_config()
    polls = []
    original = sqla_transport.Channel._get

    def counted(self, queue, *args, **kwargs):
        polls.append(time.monotonic())
        return original(self, queue, *args, **kwargs)

    monkeypatch.setattr(sqla_transport.Channel, "_get", counted)
    consumer = Recorder()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # connected and waiting
        idle_from = len(polls)
        time.sleep(3.0)
        assert len(polls) - idle_from <= 3 / IDLE_POLL_SECONDS + 2  # not ~60 at 50 ms
        sent = time.monotonic()
        messaging.publish_workflow_status("wf-bell", 1)
        deadline = sent + 10
        while not consumer.bodies and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [b["workflow_uuid"] for b in consumer.bodies] == ["wf-bell"]
        assert time.monotonic() - sent < IDLE_POLL_SECONDS * 3  # generous: a loaded machine
    finally:
        consumer.should_stop = True
        thread.join(timeout=10)
