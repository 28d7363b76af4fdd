"""Following submitted jobs to their end without polling.

Each running job is waited for by a long-poll (``GET /jobs/<id>?wait=``) in a
thread of its own (Snakemake's ``jobs`` bound limits how many run at once), so
the engine learns a job's end as soon as the job controller does; Snakemake's
status thread sleeps on :meth:`JobWatcher.wait_for_change` instead of a fixed
interval. The threads are daemons: a terminated engine does not wait for them.
"""

from __future__ import annotations

import threading


class JobWatcher:
    """Waits for the end of every watched job of one run (thread-safe)."""

    def __init__(self, run):
        self._run = run
        self._lock = threading.Lock()
        self._ended: dict[str, tuple[dict | None, Exception | None]] = {}
        self._changed = threading.Event()
        self._closed = False

    def watch(self, job_id: str) -> None:
        """Start waiting for ``job_id``'s end."""
        threading.Thread(target=self._wait, args=(job_id,), name=f"job-{job_id[:8]}",
                         daemon=True).start()

    def _wait(self, job_id: str) -> None:
        try:
            outcome = (self._run.wait(job_id), None)
        except Exception as error:  # noqa: BLE001 - handed to the status thread
            outcome = (None, error)
        with self._lock:
            self._ended[job_id] = outcome
        self._changed.set()

    def ended(self, job_id: str) -> dict | None:
        """The job once it ended (its job-controller record), else None.

        Raises what waiting raised (the job controller is gone, say).
        """
        with self._lock:
            outcome = self._ended.pop(job_id, None)
        if outcome is None:
            return None
        job, error = outcome
        if error is not None:
            raise error
        return job

    def clear(self) -> None:
        """Forget earlier ends: :meth:`wait_for_change` waits for the next one."""
        self._changed.clear()

    def wait_for_change(self, timeout: float) -> None:
        """Block until a watched job ended since :meth:`clear` (or ``timeout`` seconds)."""
        self._changed.wait(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop waiting (pending long-polls are abandoned with their daemon threads)."""
        self._closed = True
        self._changed.set()
