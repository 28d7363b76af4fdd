"""Snakemake's own log lines in the run's logs, in REANA's engine-log format.

Snakemake logs on ``snakemake.logging``; each record is formatted as Snakemake
prints it (its ``DefaultFormatter``: job blocks, "2 of 2 steps (100%) done") and
re-emitted on the engine's logger under Snakemake's logger name, so the run's
logs read ``<time> | snakemake.logging | MainThread | INFO | Building DAG of
jobs...`` as with REANA (the demos' ``tests/snakemake/`` look for such lines).
The same records feed the run's progress (job counts).
"""

from __future__ import annotations

import logging

from snakemake.logging import DefaultFilter, DefaultFormatter, get_event
from snakemake_interface_logger_plugins.common import LogEvent

SNAKEMAKE_LOGGER = "snakemake.logging"


class SnakemakeLogs(logging.Handler):
    """Forwards Snakemake's records to ``target`` (the engine's logger) and ``progress``."""

    def __init__(self, target: logging.Logger, output_settings, progress=None):
        super().__init__(logging.INFO)
        self.target = target
        self.progress = progress
        self.snakemake_filter = DefaultFilter(
            output_settings.quiet, output_settings.debug_dag, output_settings.verbose,
            output_settings.dryrun, output_settings.printshellcmds)
        self.setFormatter(DefaultFormatter(output_settings.quiet,
                                           output_settings.show_failed_logs))
        self.last_error: str | None = None
        """The text of Snakemake's last error record (how it explains a failure)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.progress is not None:
                self.progress.on_event(record)
            if not self.snakemake_filter.filter(record):
                return
            text = self.format(record)
            if not text or text == "None":
                return
            if get_event(record) == LogEvent.ERROR:
                self.last_error = text.strip()
            forwarded = logging.makeLogRecord({
                "name": SNAKEMAKE_LOGGER, "levelno": record.levelno,
                "levelname": record.levelname, "msg": text.rstrip("\n"), "args": None,
                "created": record.created, "msecs": record.msecs,
                "relativeCreated": record.relativeCreated, "thread": record.thread,
                "threadName": record.threadName, "process": record.process,
            })
            self.target.handle(forwarded)
        except Exception:  # noqa: BLE001 - logging must never break the run
            self.handleError(record)


def attach(api, target: logging.Logger, output_settings, progress=None) -> SnakemakeLogs:
    """Route the logs of Snakemake API ``api`` to ``target`` instead of Snakemake's stderr.

    Snakemake's own file log (``.snakemake/log/`` in the workspace) stays.
    """
    logger = api.logger_manager.logger
    for handler in list(logger.handlers):
        if getattr(handler, "name", None) == "DefaultStreamHandler":
            logger.removeHandler(handler)
    bridge = SnakemakeLogs(target, output_settings, progress)
    logger.addHandler(bridge)
    return bridge
