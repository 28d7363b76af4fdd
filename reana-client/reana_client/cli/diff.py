"""The ``diff`` command."""

from __future__ import annotations

import json
import os
import sys

import click

from reana_client.cli.common import access_token_option, api, check_connection, fail
from reana_client.output import message


def _print_diff(lines):
    for line in lines:
        colour = {"@": "cyan", "-": "red", "+": "green"}.get(line[:1])
        click.secho(line, fg=colour)


def _default_workon(ctx, param, value):
    value = value or os.environ.get("REANA_WORKON")
    if not value:
        fail(
            "Workflow name must be provided either with `--workflow` option or with "
            "REANA_WORKON environment variable"
        )
    return value


@click.command("diff")
@click.argument("workflow_a", required=False, callback=_default_workon)
@click.argument("workflow_b")
@click.option(
    "-q",
    "--brief",
    is_flag=True,
    help="If not set, differences in the contents of the files in the two workspaces are shown.",
)
@click.option(
    "-u",
    "-U",
    "--unified",
    "context_lines",
    type=int,
    default=5,
    help="Sets number of context lines for workspace diff output.",
)
@access_token_option
@check_connection
def diff(workflow_a, workflow_b, brief, access_token, context_lines):
    """Show diff between two workflows.

    The ``diff`` command allows to compare two workflows, the workflow_a and
    workflow_b, which must be provided as arguments. The output will show the
    difference in workflow run parameters, the generated files, the logs, etc.

    Examples:

      $ reana-client diff myanalysis.42 myotheranalysis.43

      $ reana-client diff myanalysis.42 myotheranalysis.43 --brief
    """
    from reana_client.api.client import APIError

    try:
        response = api().call(
            "get_workflow_diff",
            workflow_id_or_name_a=workflow_a,
            workflow_id_or_name_b=workflow_b,
            brief=brief,
            context_lines=str(context_lines),
            access_token=access_token,
        )
        if response.get("reana_specification"):
            sections = {k: v for k, v in json.loads(response["reana_specification"]).items() if v}
            if not sections:
                click.secho("==> No differences in REANA specifications.", bold=True, fg="yellow")
            if "workflow" in sections:
                sections["specification"] = sections.pop("workflow")
            for section, content in sections.items():
                click.secho(f"==> Differences in workflow {section}", bold=True, fg="yellow")
                _print_diff(content)
        message("")
        listing = json.loads(response.get("workspace_listing") or '""')
        if listing:
            click.secho("==> Differences in workflow workspace", bold=True, fg="yellow")
            _print_diff(listing.splitlines())
    except (APIError, ValueError, TypeError) as error:
        message(f"Something went wrong when trying to get diff:\n{error}", "error")
        sys.exit(1)
