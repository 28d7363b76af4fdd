"""The ``logs`` command."""

from __future__ import annotations

import json
import sys

import click

from reana_client.cli.common import (
    RUN_STATUSES,
    access_token_option,
    api,
    check_connection,
    fail,
    pagination_options,
    workflow_option,
)
from reana_client.output import JOB_STATUS_COLOURS, message

FILTERS = {
    "step": "job_name",
    "compute_backend": "compute_backend",
    "docker_img": "docker_img",
    "status": "status",
}
COMPUTE_BACKENDS = {
    "kubernetes": "Kubernetes",
    "htcondorcern": "HTCondor",
    "slurmcern": "Slurm",
    "compute4punch": "compute4punch",
}
LABELS = {
    "workflow_uuid": "Workflow ID",
    "compute_backend": "Compute backend",
    "backend_job_id": "Job ID",
    "docker_img": "Docker image",
    "cmd": "Command",
    "status": "Status",
    "started_at": "Started",
    "finished_at": "Finished",
}


def _parse(filters):
    steps, chosen = [], {}
    available = "' '".join(sorted(FILTERS))
    for item in filters:
        try:
            key, value = item.split("=")
        except ValueError:
            fail(
                "Please provide complete --filter name=value pairs, for example "
                f"--filter status=running.\nAvailable filters are '{available}'."
            )
        if key not in FILTERS:
            fail(f"Filter '{key}' is not valid.\nAvailable filters are '{available}'.")
        if key == "step":
            steps.append(value)
            continue
        if key == "compute_backend" and value.lower() in COMPUTE_BACKENDS:
            value = COMPUTE_BACKENDS[value.lower()]
        elif key == "status" and value not in RUN_STATUSES:
            fail(f"Input status value {value} is not valid. ")
        chosen[key] = value
    return steps, chosen


def print_logs(logs: dict, steps) -> None:
    """REANA's human-friendly rendering of a run's logs."""
    if logs.get("workflow_logs"):
        click.secho("==> Workflow engine logs", bold=True, fg="yellow")
        click.echo(logs["workflow_logs"])
    if logs.get("engine_specific"):
        click.echo("\n")
        click.secho("==> Engine internal logs", fg="yellow")
        click.secho(logs["engine_specific"])
    job_logs = logs.get("job_logs") or {}
    if steps:
        missing = set(steps) - {j.get("job_name") for j in job_logs.values()}
        if missing:
            message(
                "The logs of step(s) {} were not found, check for spelling mistakes in the "
                "step names.".format(",".join(missing)),
                "error",
            )
    if job_logs:
        click.echo("\n")
        click.secho("==> Job logs", bold=True, fg="yellow")
    for job_id, info in job_logs.items():
        if not info:
            continue
        colour = JOB_STATUS_COLOURS.get(info.get("status"))
        name = info.get("job_name") or job_id
        click.secho(f"==> Step: {name}", bold=True, fg=colour)
        for key, label in LABELS.items():
            if info.get(key):
                click.echo(f"{click.style(f'==> {label}:', fg=colour)} {info[key]}")
        if info.get("logs"):
            click.secho("==> Logs:", fg=colour)
            click.secho(info["logs"])
        else:
            message(f"Step {name} emitted no logs.", "info")


@click.command("logs")
@workflow_option
@click.option("--json", "json_format", count=True, help="Get output in JSON format.")
@access_token_option
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Filter job logs to include only those steps that match certain filtering "
    "criteria. Use --filter name=value pairs. Available filters are compute_backend, "
    "docker_img, status and step.",
)
@pagination_options
@click.option(
    "--follow",
    is_flag=True,
    help="Keep printing new log lines (each with its step name) until the run ends.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=1.0,
    show_default=True,
    help="Seconds between two reads of the logs with --follow.",
)
@check_connection
def logs(workflow, access_token, json_format, filters, page, size, follow, interval):
    """Get workflow logs.

    The ``logs`` command retrieves the logs of a workflow, including those of
    steps still running (at most a second or two behind their output).
    ``--follow`` prints new lines as they come, prefixed with their step name,
    until the workflow ends (Ctrl-C stops following).

    Examples:

      $ reana-client logs -w myanalysis.42

      $ reana-client logs -w myanalysis.42 --json

      $ reana-client logs -w myanalysis.42 --filter status=running

      $ reana-client logs -w myanalysis.42 --follow
    """
    from reana_client.api.client import APIError

    steps, chosen = _parse(filters)
    if follow:
        if json_format:
            fail("--follow prints lines as they come; it cannot be combined with --json.")
        from reana_client.log_follow import LogFollower, follow_logs

        def keep(job):
            return all(job.get(FILTERS[key]) == value for key, value in chosen.items())

        follower = LogFollower(workflow, access_token, sorted(set(steps)) or None, keep)
        sys.exit(follow_logs(follower, interval))
    try:
        response = api().call(
            "get_workflow_logs",
            workflow_id_or_name=workflow,
            access_token=access_token,
            steps=sorted(set(steps)) or None,
            page=page,
            size=size,
        )
        run_logs = json.loads(response["logs"])
        for key, value in chosen.items():
            run_logs["job_logs"] = {
                k: v for k, v in run_logs["job_logs"].items() if v.get(FILTERS[key]) == value
            }
    except (APIError, ValueError, KeyError, TypeError) as error:
        fail(f"Cannot retrieve the logs of a workflow {workflow}: \n{error}")
    if json_format:
        message(json.dumps(run_logs, indent=2))
        sys.exit(0)
    print_logs(run_logs, sorted(set(steps)) or None)
