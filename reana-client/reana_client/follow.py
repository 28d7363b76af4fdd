"""Following a run live (``start``/``run --follow``)."""

from __future__ import annotations

import sys
import time

import click

from reana_client.output import message

POLL_SECONDS = 2.0
ALIVE = ("created", "queued", "pending", "running")


def _counts(status: dict) -> tuple[int, int, int]:
    progress = status.get("progress") or {}

    def total(key):
        return (progress.get(key) or {}).get("total") or 0

    return total("finished"), total("failed"), total("total")


TRANSIENT_RETRIES = 10


def _fetch_status(workflow: str, access_token: str, poll: float) -> dict:
    """The run's status; a server error or unreachable server is retried a few times."""
    from reana_client.api.client import APIError
    from reana_client.cli.common import api

    for attempt in range(TRANSIENT_RETRIES + 1):
        try:
            return api().call(
                "get_workflow_status", workflow_id_or_name=workflow, access_token=access_token
            )
        except APIError as error:
            transient = error.status_code is None or error.status_code >= 500
            if not transient or attempt == TRANSIENT_RETRIES:
                raise
            time.sleep(max(poll, 0.5))
    raise AssertionError("unreachable")


def follow_run(workflow: str, access_token: str, poll: float = POLL_SECONDS) -> int:
    """Watch ``workflow`` until it ends; returns the exit code (0 finished, 1 otherwise)."""
    from reana_client.api.client import APIError
    from reana_client.cli.common import status_change_message

    tty = sys.stdout.isatty()
    bar = None
    last_line = None
    while True:
        try:
            status = _fetch_status(workflow, access_token, poll)
        except APIError as error:
            if bar is not None:
                bar.__exit__(None, None, None)
            message(f"Cannot follow workflow {workflow}: \n{error}", "error")
            return 1
        current = status.get("status")
        finished, failed, total = _counts(status)
        step = (status.get("progress") or {}).get("current_step_name") or ""
        if tty and total:
            if bar is None:
                bar = click.progressbar(length=total, label=workflow, show_pos=True)
                bar.__enter__()
            bar.label = f"{workflow} {current} {step}".strip()
            bar.update(finished + failed - bar.pos)
        else:
            line = (
                f"{workflow} {current}: {finished}/{total or '-'} steps finished"
                + (f", {failed} failed" if failed else "")
                + (f", current step {step}" if step else "")
            )
            if line != last_line:
                click.echo(line)
                last_line = line
        if current not in ALIVE:
            break
        time.sleep(poll)
    if bar is not None:
        bar.__exit__(None, None, None)
    text = status_change_message(workflow, current)
    if current == "finished":
        message(text, "success")
        return 0
    message(text, "error")
    return 1
