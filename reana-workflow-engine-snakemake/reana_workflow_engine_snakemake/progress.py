"""The run's progress as REANA's Snakemake engine publishes it.

``total`` is the number of jobs sent to the job controller: Snakemake's job
count (its ``run_info`` event, and later ``progress`` events when checkpoints
grow the DAG) without the jobs Snakemake runs in the engine itself (target
rules without a command such as ``all``, ``localrules``); the jobs of a group
count as one once the group is submitted. Running, finished and
failed jobs are job-controller ids; a job's end rides along with the next
message instead of a message of its own.
"""

from __future__ import annotations

import threading

from snakemake_interface_logger_plugins.common import LogEvent


class RunProgress:
    """Turns Snakemake's events and the executor's job ends into progress messages."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.workflow = None
        self._lock = threading.Lock()
        self._in_engine = 0
        """Jobs of Snakemake's count that never reach the job controller."""
        self._total: int | None = None
        self._snakemake_total = 0

    @property
    def total(self) -> int | None:
        return self._total

    def attach(self, workflow) -> None:
        """The Snakemake workflow whose rules tell which jobs run in the engine."""
        self.workflow = workflow

    def _runs_in_engine(self, rule_name: str) -> bool:
        if self.workflow is None:
            return False
        try:
            rule = self.workflow.get_rule(rule_name)
        except Exception:  # noqa: BLE001 - an unknown name counts as a remote job
            return False
        return bool(self.workflow.is_local(rule))

    def on_event(self, record) -> None:
        """A record of Snakemake's logger: ``run_info`` and ``progress`` carry job counts."""
        event = getattr(record, "event", None)
        if event == LogEvent.RUN_INFO:
            stats = dict(getattr(record, "stats", {}) or {})
            snakemake_total = stats.pop("total", sum(stats.values()))
            with self._lock:
                self._in_engine = sum(count for rule, count in stats.items()
                                      if self._runs_in_engine(rule))
            self._publish_total(snakemake_total)
        elif event == LogEvent.PROGRESS:
            snakemake_total = getattr(record, "total", None)
            if snakemake_total is not None:
                self._publish_total(snakemake_total)

    def grouped(self, jobs: int) -> None:
        """A group job of ``jobs`` Snakemake jobs was submitted: one job-controller job."""
        with self._lock:
            self._in_engine += jobs - 1
            snakemake_total = self._snakemake_total
        self._publish_total(snakemake_total)

    def _publish_total(self, snakemake_total: int) -> None:
        with self._lock:
            self._snakemake_total = int(snakemake_total)
            total = max(0, int(snakemake_total) - self._in_engine)
            if total == self._total:
                return
            self._total = total
        self.reporter.progress(total=total)

    def job_started(self, job_id: str) -> None:
        self.reporter.progress(running=[job_id])

    def job_finished(self, job_id: str) -> None:
        self.reporter.progress(finished=[job_id], defer=True)

    def job_failed(self, job_id: str) -> None:
        self.reporter.progress(failed=[job_id])
