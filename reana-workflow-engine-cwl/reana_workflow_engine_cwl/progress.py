"""Progress of a CWL run: total, running, finished and failed jobs as the DAG unfolds.

The total starts at the jobs the run makes for sure (one per plain CommandLineTool
step, :func:`.documents.expected_jobs`) and grows when a scattered, conditional or
otherwise unforeseen job is made, so it never shrinks and ends at the number of
jobs made when the run succeeds.
"""

from __future__ import annotations

import threading
from collections import Counter


class JobProgress:
    """Counts the jobs of one run and reports them through the run's reporter."""

    def __init__(self, reporter, expected: Counter):
        self.reporter = reporter
        self._expected = Counter(expected)
        self.total = sum(self._expected.values())
        self._total_sent: int | None = None
        self._lock = threading.Lock()
        self.failed: list[str] = []

    def start(self) -> None:
        """The run is running, with the jobs known so far."""
        with self._lock:
            self._total_sent = self.total
            self.reporter.running(total=self.total)

    def job_made(self, step_name: str) -> None:
        """cwltool makes a job of the step named ``step_name`` (``step <name>``, "" alone)."""
        with self._lock:
            if self._expected[step_name] > 0:
                self._expected[step_name] -= 1
            else:
                self.total += 1

    def started(self, job_id: str) -> None:
        """``job_id`` was submitted (reported with the total as it is now)."""
        with self._lock:
            total = self.total if self.total != self._total_sent else None
            self._total_sent = self.total
            self.reporter.progress(running=[job_id], total=total)

    def ended(self, job_id: str, succeeded: bool) -> None:
        """``job_id`` ended; goes out with the next message (a start or the run's end)."""
        with self._lock:
            if succeeded:
                self.reporter.progress(finished=[job_id], defer=True)
            else:
                self.failed.append(job_id)
                self.reporter.progress(failed=[job_id], defer=True)
