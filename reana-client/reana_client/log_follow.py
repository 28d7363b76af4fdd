"""``logs --follow``: print a run's new log lines as they come, until the run ends.

Every ``interval`` seconds the run's status (the light list answer) and then its
logs are read; what a job or the engine wrote since the previous read is printed
line by line, each prefixed with its step name (``[fit] ...``; ``[engine]`` for
the workflow engine). A line still being written (no newline yet) waits for its
end, or for the end of its job. The status is read before the logs, so once it
says the run ended, the logs read after it are complete: the command prints them
and exits (0 when the run finished, 1 otherwise). Ctrl-C stops following.
"""

from __future__ import annotations

import json
import sys
import time

import click

ALIVE = ("created", "queued", "pending", "running")
TRUNCATED = "[Only the last "
ENGINE = "engine"
TRANSIENT_RETRIES = 10


class _Stream:
    """What was printed of one log: the characters up to the last complete line."""

    def __init__(self, label: str):
        self.label = label
        self.printed = 0

    def feed(self, text: str, final: bool) -> list[str]:
        """The new complete lines of ``text`` (the whole log so far); all of them if final."""
        new = text[self.printed:]
        if not final:
            end = new.rfind("\n") + 1
            new = new[:end]
        self.printed += len(new)
        return [f"[{self.label}] {line}" for line in new.splitlines()]


def _call(operation: str, **kwargs):
    """One API call; a server error or an unreachable server is retried a few times."""
    from reana_client.api.client import APIError
    from reana_client.cli.common import api

    for attempt in range(TRANSIENT_RETRIES + 1):
        try:
            return api().call(operation, **kwargs)
        except APIError as error:
            transient = error.status_code is None or error.status_code >= 500
            if not transient or attempt == TRANSIENT_RETRIES:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


class LogFollower:
    """Follows one run's logs (``keep(job)`` chooses the jobs shown)."""

    def __init__(self, workflow: str, access_token: str, steps=None, keep=None):
        self.workflow = workflow
        self.access_token = access_token
        self.steps = steps
        self.keep = keep or (lambda job: True)
        self.run_id: str | None = None
        self.streams: dict[str, _Stream] = {}

    def run_status(self) -> str | None:
        """The run's status (None before its id is known)."""
        if self.run_id is None:
            return None
        answer = _call("get_workflows", access_token=self.access_token, type="batch",
                       workflow_id_or_name=self.run_id)
        items = answer.get("items") or []
        return items[0].get("status") if items else "deleted"

    def read(self, final: bool) -> list[str]:
        """The new lines since the previous read (all that is left when ``final``)."""
        answer = _call("get_workflow_logs", workflow_id_or_name=self.run_id or self.workflow,
                       access_token=self.access_token, steps=self.steps)
        self.run_id = answer.get("workflow_id") or self.run_id
        logs = json.loads(answer["logs"])
        lines = []
        if not self.steps:
            lines += self._stream(ENGINE, ENGINE).feed(logs.get("workflow_logs") or "", final)
        for job_id, job in (logs.get("job_logs") or {}).items():
            if not job or not self.keep(job):
                continue
            text = job.get("logs") or ""
            if text.startswith(TRUNCATED):  # only the tail is shown: read the whole log
                text = str(_call("get_job_logs", workflow_id_or_name=self.run_id,
                                 job_id=job_id, access_token=self.access_token) or "")
            ended = job.get("status") not in ("created", "queued", "running")
            lines += self._stream(job_id, job.get("job_name") or job_id).feed(
                text, final or ended)
        return lines

    def _stream(self, key: str, label: str) -> _Stream:
        if key not in self.streams:
            self.streams[key] = _Stream(label)
        return self.streams[key]


def follow_logs(follower: LogFollower, interval: float) -> int:
    """Print ``follower``'s new lines until the run ends; the exit code (0: finished)."""
    from reana_client.api.client import APIError
    from reana_client.cli.common import status_change_message
    from reana_client.output import message

    try:
        while True:
            try:
                status = follower.run_status()
                ended = status is not None and status not in ALIVE
                for line in follower.read(final=ended):
                    click.echo(line)
            except (APIError, ValueError, KeyError, TypeError) as error:
                message(f"Cannot follow the logs of workflow {follower.workflow}: \n{error}",
                        "error")
                return 1
            if ended:
                break
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("", err=True)
        message(f"Stopped following the logs of {follower.workflow}.", "info")
        return 130
    text = status_change_message(follower.workflow, status)
    message(text, "success" if status == "finished" else "error")
    return 0 if status == "finished" else 1
