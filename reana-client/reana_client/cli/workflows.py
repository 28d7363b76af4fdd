"""Workflow management commands: list, create, delete, diff."""

from __future__ import annotations

import json
import os

import click

from reana_client.cli.common import (
    RUN_STATUSES,
    access_token_option,
    api,
    check_connection,
    duration_seconds,
    fail,
    format_options,
    human_readable_option,
    pagination_options,
    parse_filters,
    server_url,
    spec_file_option,
    split_name,
    status_change_message,
    workflow_option,
)
from reana_client.output import display_formatted_output, format_progress, message

BATCH_HEADERS = ["name", "run_number", "created", "started", "ended", "status"]
SESSION_HEADERS = ["name", "run_number", "created", "session_type", "session_uri", "session_status"]


def _list_headers(kind, verbose, include_size, include_progress, include_duration,
                  sharing=(False, None, None)):
    headers = list(BATCH_HEADERS if kind == "batch" else SESSION_HEADERS)
    if verbose:
        headers += ["id", "user"]
    if verbose or include_size:
        headers.append("size")
    if verbose or include_progress:
        headers.append("progress")
    if verbose or include_duration:
        headers.append("duration")
    shared, shared_by, shared_with = sharing
    if shared:
        headers += ["shared_with", "shared_by"]
    else:
        headers += ["shared_with"] if shared_with else []
        headers += ["shared_by"] if shared_by else []
    return headers


def _list_row(item, headers, access_token):
    name, run_number = split_name(item["name"])
    item = dict(item, name=name, run_number=run_number, duration=duration_seconds(item))
    if "session_uri" in headers:
        item["session_uri"] = f"{server_url()}{item.get('session_uri')}?token={access_token}"
    row = []
    for header in headers:
        value = None
        if header == "progress":
            value = format_progress(item.get("progress"))
        elif header in ("started", "ended"):
            key = "run_started_at" if header == "started" else "run_finished_at"
            value = (item.get("progress") or {}).get(key) or "-"
        elif header == "shared_by":
            value = item.get("owner_email")
        elif header == "shared_with":
            value = ", ".join(item.get("shared_with") or [])
        row.append(value or item.get(header))
    return row


@click.command("list")
@click.option("-w", "--workflow", default=None, help="List all runs of the given workflow.")
@click.option("-s", "--sessions", is_flag=True, help="List all open interactive sessions.")
@format_options("status=failed,name=test_workflow")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    default=False,
    help="Show all workflows including deleted ones.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Print out extra information: workflow id, user id, disk usage, progress, duration.",
)
@human_readable_option
@click.option(
    "--sort", "sort_column_name", default="CREATED", help="Sort the output by specified column"
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Filter workflow that contains certain filtering criteria. Use "
    "`--filter <column_name>=<column_value>` pairs. Available filters are ``name`` "
    "and ``status``.",
)
@click.option(
    "--include-duration",
    is_flag=True,
    default=False,
    help="Include the duration of the workflows in seconds.",
)
@click.option(
    "--include-progress",
    is_flag=True,
    default=None,
    help="Include progress information of the workflows.",
)
@click.option(
    "--include-workspace-size",
    is_flag=True,
    default=None,
    help="Include size information of the workspace.",
)
@click.option(
    "--show-deleted-runs",
    is_flag=True,
    default=False,
    help="Include deleted workflows in the output.",
)
@click.option(
    "--shared", is_flag=True, default=False,
    help="List all shared (owned and unowned) workflows.",
)
@click.option("--shared-by", default=None, help="List workflows shared by the specified user.")
@click.option(
    "--shared-with", default=None, help="List workflows shared with the specified user."
)
@access_token_option
@pagination_options
@check_connection
def workflows_list(
    workflow,
    sessions,
    _format,
    output_format,
    access_token,
    show_all,
    verbose,
    human_readable_or_raw,
    sort_column_name,
    page,
    size,
    filters,
    include_duration,
    include_progress,
    include_workspace_size,
    show_deleted_runs,
    shared,
    shared_by,
    shared_with,
):
    """List all workflows and sessions.

    The ``list`` command lists workflows and sessions. By default, the list of
    workflows is returned. If you would like to see the list of your open
    interactive sessions, you need to pass the ``--sessions`` command-line
    option. If you would like to see the list of all workflows, including those
    shared with you, you need to pass the ``--shared`` command-line option.

    \b
    Along with specific user emails, you can pass the following special values
    to the ``--shared-by`` and ``--shared-with`` command-line options:
      - ``--shared-by anybody``: list workflows shared with you by anybody.
      - ``--shared-with anybody``: list your shared workflows exclusively.
      - ``--shared-with nobody``: list your unshared workflows exclusively.
      - ``--shared-with bob@cern.ch``: list workflows shared with bob@cern.ch

    Example:

      $ reana-client list --all

      $ reana-client list --sessions

      $ reana-client list --verbose --bytes

      $ reana-client list --shared-by bob@cern.ch
    """
    if shared_by and shared_with:
        fail("Please provide either --shared-by or --shared-with, not both.")
    kind = "interactive" if sessions else "batch"
    statuses = [s for s in RUN_STATUSES if show_all or show_deleted_runs or s != "deleted"]
    search = None
    if filters:
        wanted, search = parse_filters(filters, ["name", "status"])
        statuses = wanted or statuses

    query = dict(
        access_token=access_token,
        type=kind,
        verbose=bool(verbose),
        status=statuses,
        search=search,
        include_progress=include_progress,
        include_workspace_size=include_workspace_size,
        workflow_id_or_name=workflow,
        shared=shared or None,
        shared_by=shared_by,
        shared_with=shared_with,
    )
    headers = _list_headers(
        kind, verbose, include_workspace_size, include_progress, include_duration,
        (shared, shared_by, shared_with),
    )
    if (page == 1 and size is None and sort_column_name.lower() == "created" and not _format
            and output_format != "json"):
        # The default listing: in pages, each printed as it arrives (the server sorts the
        # same way), rather than every run in one answer held and sorted here.
        _print_pages(query, headers, human_readable_or_raw, access_token)
        return
    items = _list_items(dict(query, page=page, size=size))
    rows = [_list_row(item, headers, access_token) for item in items]
    sort_name = sort_column_name.lower()
    column = headers.index(sort_name) if sort_name in headers else 2

    def sort_key(row):
        if headers[column] == "run_number":
            return [int(p) for p in row[column].split(".")] if row[column] else []
        if headers[column] == "size":
            return (row[column] or {}).get("raw", -1)
        return row[column] is not None, row[column]

    try:
        rows.sort(key=sort_key, reverse=True)
    except TypeError:
        rows.sort(key=lambda r: str(r[column]), reverse=True)
    _finish_rows(rows, headers, human_readable_or_raw)
    display_formatted_output(rows, headers, _format, output_format)


LIST_PAGE_SIZE = 1000
"""Runs per request of the default ``list`` (printed page by page)."""


def _list_items(query: dict) -> list:
    from reana_client.api.client import APIError

    try:
        response = api().call("get_workflows", **query)
    except APIError as error:
        fail(f"Workflow list could not be retrieved: \n{error}")
    return response.get("items", []) if isinstance(response, dict) else response


def _finish_rows(rows: list, headers: list, human_readable_or_raw: str) -> None:
    """Cell values as printed (sizes in the asked unit, ``-`` for none) and the ``*`` of
    ``REANA_WORKON``'s run."""
    workon = os.environ.get("REANA_WORKON", "")
    for row in rows:
        for i, value in enumerate(row):
            row[i] = (
                value.get(human_readable_or_raw)
                if headers[i] == "size" and value
                else (value or "-")
            )
        if workon and f"{row[0]}.{row[1]}" == workon:
            row[headers.index("run_number")] += " *"


def _print_pages(query: dict, headers: list, human_readable_or_raw: str,
                 access_token: str) -> None:
    """Fetch the runs :data:`LIST_PAGE_SIZE` at a time and print each page at once; the
    column widths are the first page's (a later longer value widens its own line only)."""
    widths = None
    number = 1
    while True:
        items = _list_items(dict(query, page=number, size=LIST_PAGE_SIZE))
        rows = [_list_row(item, headers, access_token) for item in items]
        _finish_rows(rows, headers, human_readable_or_raw)
        if widths is None:
            widths = [max([len(h), *(len(str(r[i])) for r in rows)])
                      for i, h in enumerate(headers)]
            line = "   ".join(f"{{:<{w}}}" for w in widths)
            click.echo(line.format(*[h.upper() for h in headers]))
        if rows:
            click.echo("\n".join(line.format(*row[: len(headers)]) for row in rows))
        if len(items) < LIST_PAGE_SIZE:
            return
        number += 1


def _validate_name(ctx, param, value):
    if value and "." in value:
        fail(f'Workflow name {value} contains illegal character "."')
    return value


def _is_uuid4(value: str) -> bool:
    from uuid import UUID

    try:
        return UUID(value, version=4).hex == value.replace("-", "")
    except (ValueError, AttributeError, TypeError):
        return False


def create_workflow(spec_file, name, skip_validation, access_token) -> str:
    """Validate and create; upload the spec file; returns ``name.N`` (exits on error)."""
    from reana_client.api.client import APIError
    from reana_client.specification import SpecificationError, load
    from reana_client.validation.checks import validate_spec

    if _is_uuid4(name):
        fail("Workflow name cannot be a valid UUIDv4")
    try:
        spec = load(spec_file)
        validate_spec(
            spec,
            spec_file,
            access_token=access_token,
            server_capabilities=True,
            skip_validation=skip_validation,
        )
        spec = json.loads(json.dumps(spec, sort_keys=True))
        response = api().call(
            "create_workflow",
            workflow_name=name,
            reana_specification=spec,
            access_token=access_token,
        )
    except (APIError, SpecificationError, OSError, ValueError) as error:
        fail(f"Cannot create workflow {name}: \n{error}")
    full_name = response["workflow_name"]
    click.secho(full_name, fg="green")
    from reana_client.cli.transfers import upload_paths

    upload_paths(full_name, [spec_file], access_token)
    return full_name


@click.command("create")
@spec_file_option
@click.option(
    "-n",
    "--name",
    "-w",
    "--workflow",
    default="",
    callback=_validate_name,
    help='Optional name of the workflow. [default is "workflow"]',
)
@click.option(
    "--skip-validation",
    is_flag=True,
    help="If set, specifications file is not validated before submitting it's "
    "contents to REANA server.",
)
@access_token_option
@check_connection
def create(file, name, skip_validation, access_token):
    """Create a new workflow.

    The ``create`` command allows to create a new workflow from reana.yaml
    specifications file. The file is expected to be located in the current
    working directory, or supplied via command-line -f option, see examples
    below.

    Examples:

      $ reana-client create

      $ reana-client create -w myanalysis

      $ reana-client create -w myanalysis -f myreana.yaml
    """
    create_workflow(click.format_filename(file), name, skip_validation, access_token)


@click.command("delete")
@click.option(
    "--include-all-runs", "all_runs", is_flag=True, help="Delete all runs of a given workflow."
)
@click.option(
    "--include-workspace",
    "should_delete_workspace",
    is_flag=True,
    help="Delete workspace from REANA (always done).",
)
@workflow_option
@access_token_option
@check_connection
def delete(workflow, all_runs, should_delete_workspace, access_token):
    """Delete a workflow.

    The ``delete`` command removes workflow runs from the database and deletes
    their workspaces.

    Examples:

      $ reana-client delete -w myanalysis.42

      $ reana-client delete -w myanalysis.42 --include-all-runs
    """
    from reana_client.api.client import APIError

    try:
        api().call(
            "set_workflow_status",
            workflow_id_or_name=workflow,
            status="deleted",
            access_token=access_token,
            parameters={"all_runs": all_runs, "workspace": True},
        )
    except APIError as error:
        fail(f"Cannot delete workflow {workflow} \n{error}")
    if all_runs:
        text = "All workflows named '{}' have been deleted.".format(workflow.split(".")[0])
    else:
        text = status_change_message(workflow, "deleted")
    message(text, "success")
