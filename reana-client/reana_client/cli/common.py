"""Options and helpers shared by every command (token, workflow, server, pagination)."""

from __future__ import annotations

import functools
import json
import os
import sys
from datetime import UTC

import click

from reana_client.output import message

MISSING_TOKEN = (
    "Please provide your access token by using the -t/--access-token flag, "
    "or by setting the REANA_ACCESS_TOKEN environment variable."
)
RUN_STATUSES = [
    "created",
    "running",
    "finished",
    "failed",
    "deleted",
    "stopped",
    "queued",
    "pending",
]


def server_url() -> str:
    """REANA_SERVER_URL without surrounding blanks and slashes ("" when unset)."""
    return (os.environ.get("REANA_SERVER_URL") or "").strip(" \t\n\r/")


_clients: dict = {}


def api():
    """The API client for REANA_SERVER_URL, built on first use."""
    url = server_url()
    if url not in _clients:
        from reana_client.api.client import make_client

        _clients[url] = make_client(url)
    return _clients[url]


def fail(text: str, code: int = 1):
    """Print an error message and exit."""
    message(text, "error")
    sys.exit(code)


def _check_token(ctx, _param, value, required=True):
    if not value and required:
        message(MISSING_TOKEN, "error")
        ctx.exit(1)
    return value


class OneOf(click.Option):
    """An option required unless its ``partner`` is given (``--env``/``--file`` of
    ``secrets-add``, ``--resource``/``--resources`` of ``quota-show``): REANA's message."""

    def __init__(self, *args, partner: str, **kwargs):
        self.partner = partner
        super().__init__(*args, **kwargs)

    def handle_parse_result(self, ctx, opts, args):
        if self.name not in opts and self.partner not in opts:
            fail(
                f"At least one of the options: `{self.name}` or `{self.partner}` is required\n"
                + ctx.get_help()
            )
        return super().handle_parse_result(ctx, opts, args)


def access_token_option(func=None, *, required: bool = True):
    """``-t/--access-token`` (default REANA_ACCESS_TOKEN)."""

    def decorate(f):
        return click.option(
            "-t",
            "--access-token",
            default=lambda: os.environ.get("REANA_ACCESS_TOKEN"),
            show_default="REANA_ACCESS_TOKEN",
            callback=functools.partial(_check_token, required=required),
            help="Access token of the current user.",
        )(f)

    return decorate(func) if func else decorate


def _require_workflow(ctx, _param, value):
    if not value:
        fail(
            "Workflow name must be provided either with `--workflow` option or with "
            "REANA_WORKON environment variable"
        )
    return value


def workflow_option(func):
    """``-w/--workflow`` (default REANA_WORKON)."""
    return click.option(
        "-w",
        "--workflow",
        default=lambda: os.environ.get("REANA_WORKON"),
        callback=_require_workflow,
        help="Name or UUID of the workflow. Overrides value of REANA_WORKON environment variable.",
    )(func)


def check_connection(func):
    """Refuse to run a networked command without REANA_SERVER_URL."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        url = server_url()
        if not url:
            fail("REANA client is not connected to any REANA cluster.")
        if not url.lower().startswith(("http://", "https://")):
            fail(f"REANA_SERVER_URL must start with http:// or https:// (it is {url!r}).")
        return func(*args, **kwargs)

    return wrapper


def pagination_options(func):
    """``--page`` and ``--size``."""
    func = click.option(
        "--size", type=int, help="Size of results per page (to be used with --page)."
    )(func)
    return click.option(
        "--page", default=1, type=int, help="Results page number (to be used with --size)."
    )(func)


def human_readable_option(func):
    """``-h/--human-readable``: the value is ``"human_readable"`` or ``"raw"``."""
    return click.option(
        "-h",
        "--human-readable",
        "human_readable_or_raw",
        is_flag=True,
        default=False,
        callback=lambda ctx, param, value: "human_readable" if value else "raw",
        help="Show disk size in human readable format.",
    )(func)


def format_options(example: str):
    """``--format`` and ``--json``."""

    def decorate(func):
        func = click.option(
            "--json",
            "output_format",
            flag_value="json",
            default=None,
            help="Get output in JSON format.",
        )(func)
        return click.option(
            "--format",
            "_format",
            multiple=True,
            help="Format output according to column titles or column values. "
            f"Use `<column_name>=<column_value>` format. E.g. `--format {example}`.",
        )(func)

    return decorate


def key_value_pairs(ctx, param, value):
    """``("a=1", "b=2")`` → ``{"a": "1", "b": "2"}`` (``-p`` and ``-o``)."""
    try:
        return dict(item.split("=") for item in value)
    except ValueError:
        fail(
            'Input parameter "{}" is not valid. It must follow format "param=value".'.format(
                " ".join(value)
            )
        )


def parse_filters(filters, allowed: list[str]) -> tuple[list[str], str | None]:
    """``--filter k=v`` → (status values, JSON search string or None)."""
    statuses, search = [], {}
    for item in filters:
        if "=" not in item:
            raise click.BadParameter(
                "Wrong input format. Please use --filter filter_name=filter_value"
            )
        name, value = item.split("=")[0].lower(), item.split("=")[1]
        if name == "status" and name in allowed:
            if value not in RUN_STATUSES:
                fail(f"Input status value {value} is not valid. ")
            statuses.append(value)
        elif name in allowed:
            search.setdefault(name, []).append(value)
        else:
            fail(f"Filter {name} is not valid.")
    return statuses, (json.dumps(search) if search else None)


def status_change_message(workflow: str, status: str) -> str:
    """``name.N has been queued`` / ``is running`` / ``has finished``."""
    if status in ("finished", "failed"):
        verb = "has"
    elif status in ("created", "stopped", "queued", "deleted"):
        verb = "has been"
    elif status in ("running", "pending"):
        verb = "is"
    else:
        raise ValueError(f"Unrecognised status {status}")
    return f"{workflow} {verb} {status}"


def split_name(full_name: str) -> tuple[str, str]:
    """``"name.3.1"`` → ``("name", "3.1")``; a name without a numeric run gives ``""``."""
    name, dot, run_number = full_name.partition(".")
    if not dot:
        return full_name, ""
    try:
        float(run_number)
    except ValueError:
        return full_name, ""
    return name, run_number


def duration_seconds(workflow: dict) -> int | None:
    """Seconds between start and finish (or stop, or now) of a run."""
    from datetime import datetime

    progress = workflow.get("progress") or {}
    started = progress.get("run_started_at")
    if not started:
        return None
    end = progress.get("run_finished_at") or progress.get("run_stopped_at")

    def parse(value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")

    now = datetime.now(UTC).replace(tzinfo=None)
    end_time = parse(end) if end else now
    return round((end_time - parse(started)).total_seconds())


def spec_file_option(func):
    """``-f/--file`` defaulting to ./reana.yaml (or reana.yml)."""

    def default():
        from reana_client.specification import default_spec_path

        return default_spec_path()

    return click.option(
        "-f",
        "--file",
        type=click.Path(exists=True, resolve_path=True),
        default=default,
        help="REANA specification file describing the workflow to execute. [default=reana.yaml]",
    )(func)
