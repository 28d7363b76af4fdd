"""Workspace file commands: upload, download, ls, du, mv, rm, prune."""

from __future__ import annotations

import sys

import click

from reana_client.cli.common import (
    access_token_option,
    api,
    check_connection,
    fail,
    format_options,
    human_readable_option,
    pagination_options,
    parse_filters,
    server_url,
    workflow_option,
)
from reana_client.output import display_formatted_output, message, print_table

HIDDEN_PREFIXES = (".git/", "/.git/")


@click.command("ls")
@workflow_option
@check_connection
@format_options("name=data.txt")
@click.option(
    "--url", "output_format", flag_value="url", default=None, help="Get URLs of output files."
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Filter results to show only files that match certain filtering criteria "
    "such as file name, size or modification date. Available filters are ``name``, "
    "``size`` and ``last-modified``.",
)
@click.argument("filename", metavar="SOURCE", nargs=1, required=False)
@human_readable_option
@access_token_option
@pagination_options
def ls(
    workflow,
    _format,
    filters,
    output_format,
    filename,
    access_token,
    page,
    size,
    human_readable_or_raw,
):
    """List workspace files.

    The ``ls`` command lists workspace files of a workflow specified by the
    environment variable REANA_WORKON or provided as a command-line flag
    ``--workflow`` or ``-w``. The SOURCE argument is optional and specifies a
    pattern matching files and directories.

    Examples:

      $ reana-client ls --workflow myanalysis.42

      $ reana-client ls --workflow myanalysis.42 --human-readable

      $ reana-client ls --workflow myanalysis.42 'data/*root*'

      $ reana-client ls --workflow myanalysis.42 --filter name=hello
    """
    list_files(
        workflow,
        _format,
        filters,
        output_format,
        filename,
        access_token,
        page,
        size,
        human_readable_or_raw,
    )


def list_files(
    workflow,
    _format=(),
    filters=(),
    output_format=None,
    filename=None,
    access_token=None,
    page=1,
    size=None,
    human_readable_or_raw="raw",
):
    """Print the workspace listing (table, JSON or URLs)."""
    from reana_client.api.client import APIError

    headers = ["name", "size", "last-modified"]
    search = parse_filters(filters, headers)[1] if filters else None
    try:
        response = api().call(
            "get_files",
            workflow_id_or_name=workflow,
            access_token=access_token,
            file_name=filename,
            page=page,
            size=size,
            search=search,
        )
    except APIError as error:
        fail(f"Something went wrong while retrieving file list for workflow {workflow}:\n{error}")
    items = response.get("items", []) if isinstance(response, dict) else response
    rows, urls = [], []
    for item in items:
        if item["name"].startswith(HIDDEN_PREFIXES):
            continue
        rows.append(
            [
                str(item["name"]),
                str(item["size"][human_readable_or_raw]),
                str(item["last-modified"]),
            ]
        )
        urls.append(f"{server_url()}/api/workflows/{workflow}/workspace/{item['name']}")
    if output_format == "url":
        message("\n".join(urls))
    else:
        display_formatted_output(rows, headers, _format, output_format)


@click.command("du")
@workflow_option
@check_connection
@access_token_option
@click.option("-s", "--summarize", is_flag=True, help="Display total.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Filter results to show only files that match certain filtering criteria "
    "such as file name or size. Available filters are ``name`` and ``size``.",
)
@human_readable_option
def du(workflow, access_token, summarize, filters, human_readable_or_raw):
    """Get workspace disk usage.

    The ``du`` command allows to check the disk usage of a given workspace.

    Examples:

      $ reana-client du -w myanalysis.42 -s

      $ reana-client du -w myanalysis.42 -s --human-readable

      $ reana-client du -w myanalysis.42 --filter name=data/
    """
    from reana_client.api.client import APIError

    headers = ["size", "name"]
    search = parse_filters(filters, headers)[1] if filters else None
    try:
        response = api().call(
            "get_workflow_disk_usage",
            workflow_id_or_name=workflow,
            access_token=access_token,
            parameters={"summarize": summarize, "search": search},
        )
    except APIError as error:
        fail(f"Disk usage could not be retrieved: \n{error}")
    if not response["disk_usage_info"]:
        fail("No files matching filter criteria.")
    rows = [
        [entry["size"][human_readable_or_raw], "." + entry["name"]]
        for entry in response["disk_usage_info"]
        if not entry["name"].startswith(HIDDEN_PREFIXES)
    ]
    print_table(headers, rows)


@click.command("mv")
@click.argument("source")
@click.argument("target")
@workflow_option
@check_connection
@access_token_option
def mv(source, target, workflow, access_token):
    """Move files within workspace.

    The ``mv`` command allows to move the files within workspace.

    Examples:

      $ reana-client mv data/input.txt input/input.txt
    """
    from reana_client.api.client import APIError

    try:
        api().call(
            "move_files",
            workflow_id_or_name=workflow,
            source=source,
            target=target,
            access_token=access_token,
        )
    except APIError as error:
        fail(f"Something went wrong. {error}")
    message(f"{source} was successfully moved to {target}.", "success")


@click.command("rm")
@click.argument("filenames", metavar="SOURCES", nargs=-1)
@workflow_option
@check_connection
@access_token_option
def rm(filenames, workflow, access_token):
    """Delete files from workspace.

    The ``rm`` command allow to delete files and directories from workspace.
    Note that you can use glob to remove similar files.

    Examples:

      $ reana-client rm -w myanalysis.42 data/mydata.csv

      $ reana-client rm -w myanalysis.42 'data/*root*'
    """
    from reana_client.api.client import APIError

    failed = False
    for filename in filenames:
        try:
            response = api().call(
                "delete_file",
                workflow_id_or_name=workflow,
                file_name=filename,
                access_token=access_token,
            )
        except APIError:
            message(f"Something went wrong while deleting {filename}", "error")
            failed = True
            continue
        if not response.get("deleted") and not response.get("failed"):
            message(f"{filename} did not match any existing file.", "error")
            failed = True
            continue
        freed = 0
        for name, info in response["deleted"].items():
            freed += info["size"]
            message(f"File {name} was successfully deleted.", "success")
        for name, info in response["failed"].items():
            message(f"Something went wrong while deleting {name}.\n{info['error']}", "error")
            failed = True
        if freed:
            message(f"{freed} bytes freed up.", "success")
    if failed:
        sys.exit(1)


@click.command("prune")
@check_connection
@workflow_option
@access_token_option
@click.option(
    "--include-inputs",
    "include_inputs",
    is_flag=True,
    help="Delete also the input files of the workflow.",
)
@click.option(
    "--include-outputs",
    "include_outputs",
    is_flag=True,
    help="Delete also the output files of the workflow.",
)
def prune(workflow, access_token, include_inputs, include_outputs):
    """Prune workspace files.

    The ``prune`` command deletes all the intermediate files of a given
    workflow that are not present in the input or output section of the
    workflow specification.

    Examples:

      $ reana-client prune -w myanalysis.42

      $ reana-client prune -w myanalysis.42 --include-inputs
    """
    from reana_client.api.client import APIError

    try:
        response = api().call(
            "prune_workspace",
            workflow_id_or_name=workflow,
            include_inputs=include_inputs,
            include_outputs=include_outputs,
            access_token=access_token,
        )
    except APIError as error:
        fail(f"Workspace could not be pruned: \n{error}")
    message(response["message"], "success")
