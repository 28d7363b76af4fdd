"""Configuration commands: ping, info, version, quota-show."""

from __future__ import annotations

import json
import sys

import click

from reana_client import __version__
from reana_client.cli.common import (
    OneOf,
    access_token_option,
    api,
    check_connection,
    fail,
    human_readable_option,
    server_url,
)
from reana_client.output import HEALTH_COLOURS, message


@click.command("ping")
@access_token_option
@check_connection
@click.pass_context
def ping(ctx, access_token):
    """Check connection to REANA server.

    The ``ping`` command allows to test connection to REANA server.

    Examples:

      $ reana-client ping
    """
    from reana_client.api.client import APIError

    try:
        you = api().call("get_you", access_token=access_token)
        you = dict(you, status="Connected", error=False)
    except APIError as error:
        status = (
            "ERROR: INVALID ACCESS TOKEN" if error.status_code == 403 else ("ERROR: INVALID SERVER")
        )
        you = {"status": status, "error": True}
    click.secho(
        "REANA server: {}\nREANA server version: {}\nREANA client version: {}\n"
        "Authenticated as: {} <{}>\nStatus: {}".format(
            server_url(),
            you.get("reana_server_version", ""),
            __version__,
            you.get("full_name", ""),
            you.get("email"),
            you.get("status"),
        ),
        fg="red" if you["error"] else "green",
    )
    if you["error"]:
        sys.exit(1)


@click.command("version")
def version():
    """Show version.

    The ``version`` command shows REANA client version: the REANA 0.9 version this client
    speaks, and that it is this platform's own client (PyPI's reana-client prints the
    version alone).

    Examples:

      $ reana-client version
    """
    from pathlib import Path

    where = Path(__file__).resolve().parents[1]
    message(f"{__version__} (this platform's reana-client, compatible with REANA "
            f"{__version__}; not PyPI's reana-client) {where}")


@click.command("info")
@click.option(
    "--json", "output_format", flag_value="json", default=None, help="Get output in JSON format."
)
@access_token_option
@check_connection
def info(access_token, output_format):
    """List cluster general information.

    The ``info`` command lists general information about the cluster: workspaces,
    compute backends, default and maximum resource limits.

    Examples:

      $ reana-client info

      $ reana-client info --json
    """
    from reana_client.api.client import APIError

    try:
        response = api().call("info", access_token=access_token)
    except APIError as error:
        fail(f"Could not list cluster info:\n{error}")
    if output_format == "json":
        message(json.dumps(response))
        return
    for item in response.values():
        if not item:
            continue
        value = item.get("value")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if v is not None)
        message(f"{item.get('title')}: {value}")


def _usage_line(resource: dict, unit: str) -> tuple[str, str | None]:
    usage, limit = resource.get("usage") or {}, resource.get("limit")
    if limit and limit.get("raw", 0) > 0:
        percentage = "{:.0%}".format(usage.get("raw", 0) / limit["raw"])
        return (
            f"{usage[unit]} out of {limit.get(unit)} used ({percentage})",
            resource.get("health"),
        )
    return f"{usage[unit]} used", None


@click.command("quota-show")
@click.option(
    "--resource",
    "resource",
    cls=OneOf,
    partner="resources",
    help="Specify quota resource. e.g. cpu, disk.",
)
@click.option(
    "--resources",
    "resources",
    is_flag=True,
    cls=OneOf,
    partner="resource",
    help="Print available resources",
)
@click.option(
    "--report",
    "report",
    type=click.Choice(["limit", "usage"], case_sensitive=False),
    help="Specify quota report type. e.g. limit, usage.",
)
@human_readable_option
@access_token_option
@check_connection
def quota_show(access_token, resource, resources, report, human_readable_or_raw):
    """Show user quota.

    The ``quota-show`` command displays quota usage for the user.

    Examples:

      $ reana-client quota-show --resource disk --report limit

      $ reana-client quota-show --resource disk --report usage

      $ reana-client quota-show --resource disk

      $ reana-client quota-show --resources
    """
    from reana_client.api.client import APIError

    try:
        quota = api().call("get_you", access_token=access_token)["quota"]
    except (APIError, KeyError, TypeError):
        fail("Something went wrong while retrieving quota related data")
    if resources:
        message("\n".join(quota.keys()))
        return
    if resource not in quota:
        fail(
            "Error: resource '{}' is not valid.\nAvailable resources are: '{}'.".format(
                resource, "', '".join(sorted(quota))
            )
        )
    if not report:
        line, health = _usage_line(quota[resource], human_readable_or_raw)
        click.secho(line, fg=HEALTH_COLOURS.get(health))
        return
    entry = quota[resource].get(report)
    if entry and entry.get("raw", 0) > 0:
        message(entry[human_readable_or_raw])
    else:
        message(f"No {report}.")
