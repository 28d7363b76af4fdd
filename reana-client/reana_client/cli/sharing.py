"""Workflow sharing commands (REANA 0.95's share-add, share-remove, share-status)."""

from __future__ import annotations

import click

from reana_client.cli.common import (
    access_token_option,
    api,
    check_connection,
    fail,
    format_options,
    workflow_option,
)
from reana_client.output import display_formatted_output, message


def _users_option(help_text: str):
    return click.option("-u", "--user", "users", multiple=True, required=True, help=help_text)


@click.command("share-add")
@check_connection
@workflow_option
@access_token_option
@_users_option("Users to share the workflow with.")
@click.option(
    "-m",
    "--message",
    "note",
    help="Optional message that is sent to the user(s) with the sharing invitation.",
)
@click.option(
    "--valid-until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Optional date when access to the workflow will expire for the given user(s) "
    "(format: YYYY-MM-DD).",
)
def share_add(workflow, access_token, users, note, valid_until):  # noqa: D301
    """Share a workflow with other users (read-only).

    The `share-add` command allows sharing a workflow with other users. The
    users will be able to view the workflow but not modify it.

    Examples:

      $ reana-client share-add -w myanalysis.42 --user bob@example.org

      $ reana-client share-add -w myanalysis.42 --user bob@example.org --user
      cecile@example.org --message "Please review my analysis" --valid-until 2025-12-31
    """

    details = {"message": note or None,
               "valid_until": valid_until.strftime("%Y-%m-%d") if valid_until else None}
    details = {key: value for key, value in details.items() if value is not None}
    _for_each_user(users, lambda user: api().call(
        "share_workflow", access_token=access_token, workflow_id_or_name=workflow,
        share_details={"user_email_to_share_with": user, **details}),
        f"{workflow} is now read-only shared with", f"Failed to share {workflow} with")


@click.command("share-remove")
@check_connection
@workflow_option
@access_token_option
@_users_option("Users to unshare the workflow with.")
def share_remove(workflow, access_token, users):
    """Unshare a workflow.

    The `share-remove` command allows for unsharing a workflow. The workflow
    will no longer be visible to the users with whom it was shared.

    Example:

      $ reana-client share-remove -w myanalysis.42 --user bob@example.org
    """

    _for_each_user(users, lambda user: api().call(
        "unshare_workflow", access_token=access_token, workflow_id_or_name=workflow,
        user_email_to_unshare_with=user),
        f"{workflow} is no longer shared with", f"Failed to unshare {workflow} with")


def _for_each_user(users, call, done: str, failed: str) -> None:
    """``call(user)`` for every user; one success line naming those it worked for, one error
    line per user it failed for (then exit 1)."""
    from reana_client.api.client import APIError

    succeeded, errors = [], []
    for user in users:
        try:
            call(user)
            succeeded.append(user)
        except APIError as error:
            errors.append(f"{failed} {user}: {error}")
    if succeeded:
        message(f"{done} {', '.join(succeeded)}", "success")
    for error in errors:
        message(error, "error")
    if errors:
        raise SystemExit(1)


@click.command("share-status")
@check_connection
@workflow_option
@access_token_option
@format_options("user_email=bob@example.org")
def share_status(workflow, access_token, _format, output_format):
    """Show with whom a workflow is shared.

    The `share-status` command allows for checking with whom a workflow is
    shared.

    Example:

      $ reana-client share-status -w myanalysis.42
    """
    from reana_client.api.client import APIError

    try:
        status = api().call("get_workflow_share_status", access_token=access_token,
                            workflow_id_or_name=workflow)
    except APIError as error:
        fail(f"An error occurred while checking workflow sharing status:\n{error}")
    shared_with = status.get("shared_with") or []
    if not shared_with:
        message(f"Workflow {workflow} is not shared with anyone.", "info")
        return
    rows = [[entry["user_email"], entry.get("valid_until") or "-"] for entry in shared_with]
    display_formatted_output(rows, ["user_email", "valid_until"], _format, output_format)
