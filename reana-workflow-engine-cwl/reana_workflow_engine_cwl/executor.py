"""cwltool's multithreaded executor, sized for jobs that run elsewhere.

Jobs run on the compute backend, not on the engine's host: the engine's cores
and memory neither limit nor reject them (cwltool's ``MultithreadedJobExecutor``
would), and the only bound is the number of jobs in flight, the run's
``--parallel`` operational option. cwltool starts one Node.js process per thread
that evaluates JavaScript (about a second on a busy machine), so a worker thread
is made only when no other is idle, and kept for the run: a chain of steps runs on
one thread with one Node.js, a scatter of N on N threads at most.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

from cwltool.errors import WorkflowException
from cwltool.executors import TMPDIR_LOCK, MultithreadedJobExecutor
from cwltool.job import JobBase
from cwltool.loghandler import _logger

DEFAULT_PARALLEL = 10
MAX_PARALLEL = 200


def parallel_jobs(option) -> int:
    """Jobs in flight for the ``PARALLEL`` option (default :data:`DEFAULT_PARALLEL`)."""
    if option in (None, ""):
        return DEFAULT_PARALLEL
    try:
        value = int(option)
    except (TypeError, ValueError) as error:
        raise ValueError(f"PARALLEL must be a whole number, not {option!r}.") from error
    if not 1 <= value <= MAX_PARALLEL:
        raise ValueError(f"PARALLEL must be between 1 and {MAX_PARALLEL}, not {value}.")
    return value


class WorkerPool:
    """cwltool's ``TaskQueue`` interface on threads made only when none is idle.

    At most ``size`` tasks run at once; :meth:`add` blocks beyond that, with the
    workflow lock released meanwhile (as ``TaskQueue.add`` does).
    """

    def __init__(self, size: int):
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="cwl-worker")
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()
        self.in_flight = 0

    def add(self, task, unlock: threading.Condition | None = None, check_done=None) -> None:
        """Run ``task`` on an idle (or new) thread; wait for a free slot first."""
        if not self._slots.acquire(blocking=False):
            if unlock is not None:
                unlock.release()
            try:
                self._slots.acquire()
            finally:
                if unlock is not None:
                    unlock.acquire()
        with self._lock:
            self.in_flight += 1
        self._pool.submit(self._run, task, unlock)

    def _run(self, task, unlock: threading.Condition | None) -> None:
        try:
            task()
        except BaseException as error:  # noqa: BLE001 - as TaskQueue: logged, the run goes on
            _logger.exception("Unhandled exception running task", exc_info=error)
        finally:
            with self._lock:
                self.in_flight -= 1
            self._slots.release()
            if unlock is not None:
                # The runner notified before in_flight went down: wake the loop again so it
                # does not sleep out cwltool's 3 s wait on a stale count.
                with unlock:
                    unlock.notify_all()

    def drain(self) -> None:
        """Forget the tasks not started yet."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Wait for the running tasks."""
        self._pool.shutdown(wait=True)


class RemoteJobExecutor(MultithreadedJobExecutor):
    """Runs up to ``parallel`` jobs at once on a fixed pool of threads."""

    def __init__(self, parallel: int = DEFAULT_PARALLEL):
        super().__init__(max_parallel=parallel)
        self.parallel = parallel
        # Resources are the compute backend's business: nothing is refused or queued here
        # (no runtime_context.select_resources either: a tool gets the minimum it asks for).
        self.max_cores = math.inf
        self.max_ram = math.inf
        self.max_cuda = math.inf

    def run_job(self, job, runtime_context) -> None:
        """Tool jobs go to the pool; the rest (a workflow's start, ExpressionTools, callbacks)
        is quick work of the engine, done here on the main thread as cwltool's single-job
        executor does: the run's log reads ``cwltool | MainThread | INFO | [workflow ] start``
        as REANA's Gherkin tests expect, and JavaScript reuses the main thread's Node.js."""
        if job is not None and not isinstance(job, JobBase):
            job.run(runtime_context, TMPDIR_LOCK)
            job = None
        super().run_job(job, runtime_context)

    def run_jobs(self, process, job_order_object, logger, runtime_context) -> None:
        """cwltool's loop on a :class:`WorkerPool` of ``parallel`` threads at most."""
        self.taskqueue = WorkerPool(self.parallel)
        lock = runtime_context.workflow_eval_lock
        if lock is None:
            raise WorkflowException("runtimeContext.workflow_eval_lock must not be None")
        lock.acquire()
        try:
            jobiter = process.job(job_order_object, self.output_callback, runtime_context)
            for job in jobiter:
                if isinstance(job, JobBase):
                    job.builder = runtime_context.builder or job.builder
                    if job.outdir is not None:
                        self.output_dirs.add(job.outdir)
                self.run_job(job, runtime_context)
                if job is None:
                    if self.taskqueue.in_flight > 0:
                        self.wait_for_next_completion(runtime_context)
                    else:
                        logger.error("Workflow cannot make any more progress.")
                        break
            self.run_job(None, runtime_context)
            while self.taskqueue.in_flight > 0:
                self.wait_for_next_completion(runtime_context)
                self.run_job(None, runtime_context)
        finally:
            # Released on every way out (cwltool keeps it on an exception, e.g. the SystemExit
            # of a SIGTERM): a running job's output callback needs it to let the join end.
            lock.release()
            self.taskqueue.drain()
            self.taskqueue.join()
