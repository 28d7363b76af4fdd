"""Engine log lines, kept for the next status message (the consumer appends them to the run)."""

from __future__ import annotations

import logging
import sys
import threading

LOGGER_NAME = "reana-workflow-engine-serial"
LOG_FORMAT = "%(asctime)s | %(name)s | %(threadName)s | %(levelname)s | %(message)s"


class PendingLogs(logging.Handler):
    """Buffers formatted records until :meth:`drain` hands them to a status message."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self._lines: list[str] = []
        self._buffer_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._buffer_lock:
            self._lines.append(line)

    def drain(self) -> str:
        """The lines logged since the last call, newline-terminated ("" if none)."""
        with self._buffer_lock:
            lines, self._lines = self._lines, []
        return "".join(line + "\n" for line in lines)


def engine_logger() -> tuple[logging.Logger, PendingLogs]:
    """The engine's logger (also to stderr) and the handler collecting its lines."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    pending = PendingLogs()
    logger.addHandler(pending)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(stream)
    return logger, pending
