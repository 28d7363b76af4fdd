"""Run a serial workflow: each command of each targeted step is one job, in order."""

from __future__ import annotations

import itertools
import shlex
import threading
from collections.abc import Callable

from reana_commons.messaging import build_progress_message, publish_workflow_status

from reana_workflow_engine_serial.logs import engine_logger
from reana_workflow_engine_serial.steps import job_request, targeted_steps

RUNNING, FINISHED, FAILED = 1, 2, 3
LOG_TAIL_LINES = 20
UNEXPECTED_EXIT = "Workflow exited unexpectedly."


def _expand(command: str, parameters: dict) -> str:
    from reana_commons.parameters import expand_parameters

    return expand_parameters(command, parameters)


class SerialEngine:
    """One serial run: publishes status and progress, submits and follows jobs."""

    def __init__(self, workflow_uuid: str, workspace: str, specification: dict,
                 parameters: dict | None, options: dict | None, jobs,
                 publish: Callable = publish_workflow_status):
        self.workflow_uuid = workflow_uuid
        self.workspace = workspace
        self.specification = specification or {}
        self.parameters = parameters or {}
        self.options = options or {}
        self.jobs = jobs
        self._publish_status = publish
        self._seq = itertools.count(1)
        self.log, self.pending_logs = engine_logger()
        self._lock = threading.Lock()
        self.done = False
        self.current_job: str | None = None
        self.unreported: list[str] = []
        """Finished jobs not yet published: they go out with the next job's running message
        (one status message per job instead of two) or with the run's end."""

    def publish(self, status: int | None, message: dict | None = None, logs: str = "") -> None:
        """Publish a status/progress update carrying the engine lines logged since the last."""
        text = self.pending_logs.drain() + logs
        self._publish_status(
            self.workflow_uuid, status, logs=text, message=message, seq=next(self._seq)
        )

    def plan(self) -> list[tuple[int, dict, str]]:
        """``(step index, step, expanded command)`` of every job to run, in order."""
        spec = self.specification
        if "steps" not in spec:  # also accept a whole reana.yaml (workflow.specification.steps)
            spec = (spec.get("workflow") or {}).get("specification") or spec
        steps = spec.get("steps") or []
        return [
            (index, step, _expand(command, self.parameters))
            for index, step in targeted_steps(steps, self.options)
            for command in step.get("commands") or []
        ]

    def run(self, jobs_ready: Callable[[], None] | None = None) -> int:
        """Run the workflow; returns the final status published (2 or 3).

        ``jobs_ready`` blocks until the job controller answers; it is called after
        the running status is out, so the broker connection and the job
        controller's start-up overlap instead of adding up.
        """
        plan = self.plan()
        total = len(plan)
        self.publish(RUNNING, build_progress_message(total={"total": total, "job_ids": []}))
        if not plan:
            return self._end(FINISHED, "No command to run.\n")
        if jobs_ready is not None:
            jobs_ready()
        for position, (index, step, command) in enumerate(plan):
            self.log.info("Publishing step:%s, cmd: %s, total steps %s to MQ",
                          index, command, total)
            request = job_request(step, command, self.workflow_uuid, self.workspace)
            job_id = self.jobs.submit(f"cd {shlex.quote(self.workspace)} && {command}", **request)
            self.current_job = job_id
            finished, self.unreported = self.unreported, []
            self.publish(RUNNING, build_progress_message(running=[job_id], finished=finished))
            job = self.jobs.wait(job_id)
            self.current_job = None
            if job["status"] != "finished":
                return self._fail_job(step, index, command, job)
            self.unreported.append(job_id)
            if position == total - 1:
                return self._end(FINISHED)
        return FINISHED  # unreachable: the last job returns above

    def _fail_job(self, step: dict, index: int, command: str, job: dict) -> int:
        try:
            tail = "\n".join(self.jobs.logs(job["job_id"]).splitlines()[-LOG_TAIL_LINES:])
        except Exception as error:  # noqa: BLE001 - the failure is reported anyway
            tail = f"(job logs unavailable: {error})"
        name = step.get("name") or f"step {index}"
        self.log.error("Step %s: job %s %s with exit code %s", name, job["job_id"],
                       job["status"], job.get("exit_code"))
        logs = (f"Command {command!r} of {name} {job['status']} with exit code "
                f"{job.get('exit_code')}. Last lines of its logs:\n{tail}\n")
        return self._end(FAILED, logs, failed=[job["job_id"]])

    def _end(self, status: int, logs: str = "", failed: list[str] | None = None) -> int:
        """Publish the run's end once, with the finished jobs not yet reported."""
        with self._lock:
            if self.done:
                return status
            self.done = True
        message = build_progress_message(finished=self.unreported, failed=failed)
        self.publish(status, message if message["progress"] else None, logs)
        return status

    def fail(self, reason: str) -> None:
        """Publish a failed status with ``reason`` unless the run already ended."""
        self.log.error("%s", reason)
        self._end(FAILED, reason + "\n")

    def terminate(self) -> None:
        """SIGTERM: stop the running job and report the run failed (unless it ended)."""
        job_id = self.current_job
        if job_id:
            try:
                type(self.jobs)(self.jobs.base_url).stop(job_id)
            except Exception:  # noqa: BLE001 - the job controller may be gone already
                pass
        self.fail(UNEXPECTED_EXIT)
