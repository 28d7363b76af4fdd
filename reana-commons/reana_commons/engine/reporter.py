"""The status protocol of one run, as every engine speaks it.

:class:`RunReporter` publishes REANA's ``jobs-status`` messages for one run:
``running`` first, then progress deltas, then exactly one end (``finished`` or
``failed``; later ends are ignored, nothing goes out after the end). Each
message carries a sequence number from 1 (the consumer applies each log chunk
once even when the broker redelivers) and the engine log lines written since
the previous message, in REANA's format; the same lines also go to stderr (the
engine's own log file). With ``flush_seconds`` (the engine harness gives
``LIVE_FLUSH_SECONDS``), lines logged while no message is due (the engine waits
for a long job) go out on their own after at most that long, in a message
without status: the run's logs are live, and a chatty engine costs at most two
messages (two database writes) a second (ADR 0026).
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from reana_commons.log_redaction import RedactingFormatter
from reana_commons.messaging import build_progress_message, publish_workflow_status

RUNNING, FINISHED, FAILED = 1, 2, 3
LIVE_FLUSH_SECONDS = 0.5
"""Longest time an engine log line waits for the next message."""
LOG_FORMAT = "%(asctime)s | %(name)s | %(threadName)s | %(levelname)s | %(message)s"


class PendingLogs(logging.Handler):
    """Buffers formatted records until :meth:`drain` hands them to a status message."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(RedactingFormatter(logging.Formatter(LOG_FORMAT)))
        self._lines: list[str] = []
        # Re-entrant: a signal handler may log while this thread is inside emit or drain.
        self._buffer_lock = threading.RLock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._buffer_lock:
            self._lines.append(line)

    def drain(self) -> str:
        """The lines logged since the last call, newline-terminated ("" if none)."""
        with self._buffer_lock:
            lines, self._lines = self._lines, []
        return "".join(line + "\n" for line in lines)

    def pending(self) -> bool:
        return bool(self._lines)

    def restore(self, text: str) -> None:
        """Put drained lines back in front (their message could not be published)."""
        with self._buffer_lock:
            self._lines[:0] = text.splitlines()


class RunReporter:
    """Publishes the status, progress and log lines of one run (thread-safe)."""

    def __init__(self, workflow_uuid: str, logger_name: str,
                 publish: Callable = publish_workflow_status, stream: TextIO | None = sys.stderr,
                 flush_seconds: float | None = None):
        self.workflow_uuid = str(workflow_uuid)
        self._publish = publish
        self._stream = stream
        self._seq = itertools.count(1)
        # Re-entrant: a SIGTERM handler may end the run while the main thread publishes.
        self._lock = threading.RLock()
        self._end: int | None = None
        self._publisher: int | None = None  # thread id of the publish in progress
        self._after_publish: Callable[[], None] | None = None
        self._deferred: dict[str, list[str]] = {"running": [], "finished": [], "failed": []}
        self.pending_logs = PendingLogs()
        self._flush_seconds = flush_seconds
        """Send waiting lines on their own after this long (the engine harness: live)."""
        self._flusher: threading.Thread | None = None
        self.log = self.attach_logger(logger_name)
        """The engine's logger: its lines ride along with the next message and go to stderr."""

    # --- logs ------------------------------------------------------------------------------
    def attach_logger(self, name: str, level: int = logging.INFO) -> logging.Logger:
        """Capture logger ``name`` too (e.g. ``"cwltool"``): its lines join the run's logs."""
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = False
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(self.pending_logs)
        if self._stream is not None:
            stream = logging.StreamHandler(self._stream)
            stream.setFormatter(RedactingFormatter(logging.Formatter(LOG_FORMAT)))
            logger.addHandler(stream)
        return logger

    # --- messages --------------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        """Whether the run's end (finished or failed) has been published."""
        return self._end is not None

    @property
    def end_status(self) -> int | None:
        """2 (finished) or 3 (failed) once ended, else None."""
        return self._end

    def running(self, total: int | None = None) -> None:
        """The run started; ``total`` jobs are known so far (None: unknown yet)."""
        total_item = None if total is None else {"total": total, "job_ids": []}
        self._send(RUNNING, build_progress_message(total=total_item), "")

    def progress(self, running: Iterable[str] = (), finished: Iterable[str] = (),
                 failed: Iterable[str] = (), total: int | None = None, *,
                 defer: bool = False) -> None:
        """Jobs that started, finished or failed since the last message; ``total`` as it grew.

        ``defer=True`` publishes nothing now: the job ids ride along with the next
        message (a job's end with the next job's start, or with the run's end), which
        halves the messages of a run whose jobs follow one another.
        """
        with self._lock:
            for key, ids in (("running", running), ("finished", finished), ("failed", failed)):
                self._deferred[key].extend(str(job_id) for job_id in ids)
            if defer and total is None:
                return
            self._send(RUNNING, self._progress_message(total), "")

    def finished(self, logs: str = "") -> None:
        """The run finished (``logs`` appended after the pending engine lines)."""
        self._finish(FINISHED, logs)

    def failed(self, reason: str, failed_jobs: Iterable[str] = ()) -> None:
        """The run failed because of ``reason`` (appended to the run's logs as it is)."""
        with self._lock:
            self._deferred["failed"].extend(str(job_id) for job_id in failed_jobs)
            self._finish(FAILED, reason if reason.endswith("\n") or not reason else reason + "\n")

    def when_idle(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or, when this thread is in the middle of a publish (a signal
        handler interrupted it), right after that publish: a message is never published
        inside another, and one that is underway is not lost."""
        if self._publisher == threading.get_ident():
            self._after_publish = action
        else:
            action()

    # --- internals -------------------------------------------------------------------------
    def _start_flusher(self) -> None:
        """After the first message: send lines that wait too long on their own (once)."""
        if self._flush_seconds and self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name="engine-log-flush",
                                             daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while self._end is None:
            time.sleep(self._flush_seconds)
            if self.pending_logs.pending() and self._end is None:
                try:
                    self._send(None, None, "")
                except Exception:  # noqa: BLE001 - the lines are back; the next message takes them
                    continue

    def _progress_message(self, total: int | None) -> dict:
        total_item = None if total is None else {"total": total, "job_ids": []}
        deferred = self._deferred
        self._deferred = {"running": [], "finished": [], "failed": []}
        return build_progress_message(total=total_item, running=deferred["running"],
                                      finished=deferred["finished"], failed=deferred["failed"])

    def _finish(self, status: int, logs: str) -> None:
        with self._lock:
            if self._end is not None:
                return
            message = self._progress_message(None)
            self._send(status, message if message["progress"] else None, logs)

    def _send(self, status: int, message: dict | None, logs: str) -> None:
        with self._lock:
            if self._end is not None:
                return  # nothing after the end: the end is the run's last message
            text = self.pending_logs.drain() + logs
            if status is None and not text:
                return
            self._publisher = threading.get_ident()
            try:
                try:
                    self._publish(self.workflow_uuid, status, logs=text, message=message,
                                  seq=next(self._seq))
                except Exception:
                    if status is None:
                        self.pending_logs.restore(text)
                    raise
                if status in (FINISHED, FAILED):
                    self._end = status
                else:
                    self._start_flusher()
            finally:
                self._publisher = None
                action, self._after_publish = self._after_publish, None
                if action is not None:
                    action()
