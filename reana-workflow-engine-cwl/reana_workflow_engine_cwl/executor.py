"""cwltool's multithreaded executor, sized for jobs that run elsewhere.

Jobs run on the compute backend, not on the engine's host: the engine's cores
and memory neither limit nor reject them (cwltool's ``MultithreadedJobExecutor``
would), and the only bound is the number of jobs in flight, the run's
``PARALLEL`` operational option. The worker threads are made once per run and
reused, so each keeps its Node.js process (cwltool starts one per thread for
JavaScript expressions) instead of starting one per job.
"""

from __future__ import annotations

import math
import threading

from cwltool.errors import WorkflowException
from cwltool.executors import MultithreadedJobExecutor
from cwltool.job import JobBase
from cwltool.task_queue import TaskQueue

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

    def run_jobs(self, process, job_order_object, logger, runtime_context) -> None:
        """cwltool's loop with a task queue of ``parallel`` threads."""
        self.taskqueue = TaskQueue(threading.Lock(), self.parallel)
        try:
            jobiter = process.job(job_order_object, self.output_callback, runtime_context)
            if runtime_context.workflow_eval_lock is None:
                raise WorkflowException("runtimeContext.workflow_eval_lock must not be None")
            runtime_context.workflow_eval_lock.acquire()
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
            runtime_context.workflow_eval_lock.release()
        finally:
            self.taskqueue.drain()
            self.taskqueue.join()
