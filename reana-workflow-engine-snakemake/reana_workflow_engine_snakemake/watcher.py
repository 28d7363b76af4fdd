"""Following submitted jobs to their end without polling.

Each job is waited for by a long-poll (``GET /jobs/<id>?wait=``) in a pool thread,
so the engine learns a job's end as soon as the job controller does; Snakemake's
status thread sleeps on :meth:`JobWatcher.wait_for_change` instead of a fixed
interval.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor


class JobWatcher:
    """Waits for the end of every watched job of one run (thread-safe)."""

    def __init__(self, run, max_parallel: int):
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_parallel),
                                        thread_name_prefix="job-wait")
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._closed = False

    def watch(self, job_id: str) -> None:
        """Start waiting for ``job_id``'s end."""
        future = self._pool.submit(self._run.wait, job_id)
        future.add_done_callback(lambda _future: self._changed.set())
        with self._lock:
            self._futures[job_id] = future

    def ended(self, job_id: str) -> dict | None:
        """The job once it ended (its job-controller record), else None.

        Raises what waiting raised (the job controller is gone, say).
        """
        with self._lock:
            future = self._futures.get(job_id)
        if future is None or not future.done():
            return None
        job = future.result()
        with self._lock:
            self._futures.pop(job_id, None)
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
        """Stop waiting: pending long-polls are abandoned (their threads end with them)."""
        self._closed = True
        self._changed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
