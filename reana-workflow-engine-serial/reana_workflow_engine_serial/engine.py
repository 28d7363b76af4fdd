"""Run a serial workflow: each command of each targeted step is one job, in order."""

from __future__ import annotations

import shlex

from reana_commons.engine.harness import EngineRun
from reana_commons.engine.jobs import job_request
from reana_commons.parameters import expand_parameters

from reana_workflow_engine_serial.steps import targeted_steps

LOG_TAIL_LINES = 20


def plan(run: EngineRun) -> list[tuple[int, dict, str]]:
    """``(step index, step, expanded command)`` of every job to run, in order."""
    spec = run.specification or {}
    if "steps" not in spec:  # also accept a whole reana.yaml (workflow.specification.steps)
        spec = (spec.get("workflow") or {}).get("specification") or spec
    return [
        (index, step, expand_parameters(command, run.parameters or {}))
        for index, step in targeted_steps(spec.get("steps") or [], run.options)
        for command in step.get("commands") or []
    ]


def run_serial(run: EngineRun) -> bool:
    """Run the workflow's jobs one after the other; True when all finished.

    A job's end is not published on its own: it rides along with the next job's
    running message, or with the run's end (one status message per job).
    """
    jobs = plan(run)
    run.reporter.running(total=len(jobs))
    if not jobs:
        run.reporter.finished("No command to run.\n")
        return True
    run.jobs_ready()
    for index, step, command in jobs:
        run.log.info("Publishing step:%s, cmd: %s, total steps %s to MQ", index, command, len(jobs))
        fields = job_request(run, image=step.get("environment") or "", name=step.get("name") or "",
                             command_for_display=command, hints=step)
        job_id = run.submit(f"cd {shlex.quote(str(run.workspace))} && {command}", **fields)
        run.reporter.progress(running=[job_id])
        job = run.wait(job_id)
        if job["status"] != "finished":
            _fail_job(run, step, index, command, job)
            return False
        run.reporter.progress(finished=[job_id], defer=True)
    run.reporter.finished()
    return True


def _fail_job(run: EngineRun, step: dict, index: int, command: str, job: dict) -> None:
    try:
        tail = "\n".join(run.jobs.logs(job["job_id"]).splitlines()[-LOG_TAIL_LINES:])
    except Exception as error:  # noqa: BLE001 - the failure is reported anyway
        tail = f"(job logs unavailable: {error})"
    name = step.get("name") or f"step {index}"
    run.log.error("Step %s: job %s %s with exit code %s", name, job["job_id"], job["status"],
                  job.get("exit_code"))
    run.reporter.failed(f"Command {command!r} of {name} {job['status']} with exit code "
                        f"{job.get('exit_code')}. Last lines of its logs:\n{tail}\n",
                        failed_jobs=[job["job_id"]])
