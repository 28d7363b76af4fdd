"""Interactive sessions (open, close) and workspace retention rules."""

from __future__ import annotations

import click

from reana_client.cli.common import (
    access_token_option,
    api,
    check_connection,
    fail,
    format_options,
    server_url,
    workflow_option,
)
from reana_client.output import display_formatted_output, message


@click.command("open")
@workflow_option
@click.argument(
    "interactive-session-type",
    metavar="interactive-session-type",
    default="jupyter",
    type=click.Choice(["jupyter"]),
)
@click.option(
    "-i",
    "--image",
    help="Docker image which will be used to spawn the interactive session. "
    "Overrides the default image for the selected type.",
)
@access_token_option
@check_connection
def open_session(workflow, interactive_session_type, image, access_token):
    """Open an interactive session inside the workspace.

    The ``open`` command allows to open interactive session processes on top of
    the workflow workspace, such as Jupyter notebooks. This is useful to
    quickly inspect and analyse the produced files while the workflow is still
    running.

    Examples:

      $ reana-client open -w myanalysis.42 jupyter
    """
    from reana_client.api.client import APIError

    try:
        response = api().call(
            "open_interactive_session",
            workflow_id_or_name=workflow,
            access_token=access_token,
            interactive_session_type=interactive_session_type,
            interactive_session_configuration={"image": image or None},
        )
        path = response["path"] if isinstance(response, dict) else response
        message("Interactive session opened successfully", "success")
        click.secho(f"{server_url()}{path}?token={access_token}", fg="green")
        message("It could take several minutes to start the interactive session.")
        info = api().call("info", access_token=access_token)
        days = (info.get("maximum_interactive_session_inactivity_period") or {}).get("value")
        if days:
            message(
                f"Please note that it will be automatically closed after {days} days of inactivity."
            )
    except (APIError, KeyError) as error:
        fail(f"Interactive session could not be opened: \n{error}")


@click.command("close")
@workflow_option
@access_token_option
@check_connection
def close_session(workflow, access_token):
    """Close an interactive session.

    The ``close`` command allows to shut down any interactive sessions that you
    may have running. You would typically use this command after you finished
    exploring data in the Jupyter notebook and after you have transferred any
    code created in your interactive session.

    Examples:

      $ reana-client close -w myanalysis.42
    """
    from reana_client.api.client import APIError

    try:
        api().call(
            "close_interactive_session", workflow_id_or_name=workflow, access_token=access_token
        )
    except APIError as error:
        fail(f"Interactive session could not be closed: \n{error}")
    message(f"Interactive session for workflow {workflow} was successfully closed", "success")


@click.command("retention-rules-list")
@workflow_option
@access_token_option
@check_connection
@format_options("workspace_files,status=active")
def retention_rules_list(access_token, workflow, _format, output_format):
    """List the retention rules for a workflow.

    Example:

      $ reana-client retention-rules-list -w myanalysis.42
    """
    from reana_client.api.client import APIError

    try:
        rules = (
            api()
            .call(
                "get_workflow_retention_rules",
                workflow_id_or_name=workflow,
                access_token=access_token,
            )
            .get("retention_rules", [])
        )
    except APIError as error:
        fail(str(error))
    headers = ["workspace_files", "retention_days", "apply_on", "status"]
    rows = [
        [rule[h] or "-" for h in headers]
        for rule in sorted(rules, key=lambda r: r["retention_days"])
    ]
    display_formatted_output(rows, headers, _format, output_format)
