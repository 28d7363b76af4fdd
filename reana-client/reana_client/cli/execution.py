"""Workflow execution commands: start, restart, run, status, stop."""

from __future__ import annotations

import sys

import click

from reana_client.cli.common import (
    access_token_option,
    api,
    check_connection,
    duration_seconds,
    fail,
    format_options,
    key_value_pairs,
    spec_file_option,
    split_name,
    status_change_message,
    workflow_option,
)
from reana_client.output import display_formatted_output, message

FAILED_STATUSES = ("deleted", "failed", "stopped")


def parameter_options(func):
    """``-p`` and ``-o`` (repeatable key=value)."""
    func = click.option(
        "-o",
        "--option",
        "options",
        multiple=True,
        callback=key_value_pairs,
        help="Additional operational options for the workflow execution. E.g. CACHE=off.",
    )(func)
    return click.option(
        "-p",
        "--parameter",
        "parameters",
        multiple=True,
        callback=key_value_pairs,
        help="Additional input parameters to override original ones from reana.yaml. "
        "E.g. -p myparam1=myval1 -p myparam2=myval2.",
    )(func)


def follow_option(func):
    """``--follow``."""
    return click.option(
        "--follow",
        "follow",
        is_flag=True,
        default=False,
        help="Follow the run live (progress bar on a terminal, lines otherwise) and exit "
        "with its result: 0 finished, 1 failed or stopped.",
    )(func)


def _checked_parameters(workflow, access_token, parameters, options, spec=None):
    from reana_client.specification import SpecificationError, operational_options

    if spec is not None:
        kind = spec["workflow"]["type"]
        original = (spec.get("inputs") or {}).get("parameters") or {}
    else:
        response = api().call(
            "get_workflow_parameters", workflow_id_or_name=workflow, access_token=access_token
        )
        kind, original = response["type"], response["parameters"] or {}
    try:
        options = operational_options(kind, options)
    except SpecificationError as error:
        fail(str(error))
    for name in list(parameters):
        if name not in original:
            message(f"Given parameter - {name}, is not in reana.yaml", "error")
            del parameters[name]
    return parameters, options


def start_workflow(workflow, access_token, parameters, options, follow) -> None:
    """POST start, print the new status; with ``follow`` watch it to the end."""
    from reana_client.api.client import APIError

    body = {"input_parameters": parameters, "operational_options": options}
    try:
        if parameters or options:
            body["input_parameters"], body["operational_options"] = _checked_parameters(
                workflow, access_token, parameters, options
            )
        api().call(
            "start_workflow",
            workflow_id_or_name=workflow,
            access_token=access_token,
            parameters=body,
        )
        status = (
            api()
            .call("get_workflow_status", workflow_id_or_name=workflow, access_token=access_token)
            .get("status")
        )
        _show_status(workflow, status)
    except APIError as error:
        fail(f"Cannot start workflow {workflow}: \n{error}")
    if follow:
        from reana_client.follow import follow_run

        code = follow_run(workflow, access_token)
        if code == 0:  # as reana-client 0.9.6 --follow does at the end
            from reana_client.cli.files import list_files

            message("Listing workflow output files...", "info")
            list_files(workflow, output_format="url", access_token=access_token)
        sys.exit(code)


def _show_status(workflow, status):
    text = status_change_message(workflow, status)
    if status in FAILED_STATUSES:
        fail(text)
    message(text, "success")


@click.command("start")
@workflow_option
@access_token_option
@check_connection
@parameter_options
@follow_option
def start(workflow, access_token, parameters, options, follow):
    """Start previously created workflow.

    The ``start`` command allows to start previously created workflow. The
    workflow execution can be further influenced by passing input prameters
    using ``-p`` or ``--parameters`` flag and by setting additional operational
    options using ``-o`` or ``--options``. The input parameters and operational
    options can be repetitive. For example, to disable caching for the Serial
    workflow engine, you can set ``-o CACHE=off``.

    Examples:

      $ reana-client start -w myanalysis.42 -p sleeptime=10 -p myparam=4

      $ reana-client start -w myanalysis.42 -p myparam1=myvalue1 -o CACHE=off

      $ reana-client start -w myanalysis.42 --follow
    """
    start_workflow(workflow, access_token, parameters, options, follow)


@click.command("restart")
@workflow_option
@access_token_option
@check_connection
@parameter_options
@click.option(
    "-f",
    "--file",
    type=click.Path(exists=True, resolve_path=True),
    help="REANA specification file describing the workflow to execute. [default=reana.yaml]",
)
def restart(workflow, access_token, parameters, options, file):
    """Restart previously run workflow.

    The ``restart`` command allows to restart a previous workflow on the same
    workspace.

    Note that workflow restarting can be used in a combination with operational
    options ``FROM`` and ``TARGET``. You can also pass a modified workflow
    specification with ``-f`` or ``--file`` flag.

    Examples:

      $ reana-client restart -w myanalysis.42 -p sleeptime=10 -p myparam=4

      $ reana-client restart -w myanalysis.42 -p myparam=myvalue

      $ reana-client restart -w myanalysis.42 -o TARGET=gendata

      $ reana-client restart -w myanalysis.42 -o FROM=fitdata
    """
    from reana_client.api.client import APIError

    body = {"input_parameters": parameters, "operational_options": options, "restart": True}
    spec = None
    if file:
        from reana_client.specification import load

        path = click.format_filename(file)
        spec = load(path)
        body["reana_specification"] = spec
        from reana_client.cli.transfers import upload_paths

        upload_paths(workflow, [path], access_token)
    try:
        if parameters or options:
            body["input_parameters"], body["operational_options"] = _checked_parameters(
                workflow, access_token, parameters, options, spec
            )
        response = api().call(
            "start_workflow",
            workflow_id_or_name=workflow,
            access_token=access_token,
            parameters=body,
        )
        workflow = f"{response['workflow_name']}.{response['run_number']}"
        status = (
            api()
            .call("get_workflow_status", workflow_id_or_name=workflow, access_token=access_token)
            .get("status")
        )
        message(status_change_message(workflow, status), "success")
    except (APIError, KeyError, ValueError) as error:
        fail(f"Cannot start workflow {workflow}: \n{error}")


@click.command("run")
@spec_file_option
@click.option(
    "-n",
    "--name",
    "-w",
    "--workflow",
    default="",
    help='Optional name of the workflow. [default is "workflow"]',
)
@click.option(
    "--skip-validation",
    is_flag=True,
    help="If set, specifications file is not validated before submitting it's "
    "contents to REANA server.",
)
@parameter_options
@follow_option
@access_token_option
@check_connection
def run(file, name, skip_validation, access_token, parameters, options, follow):
    """Shortcut to create, upload, start a new workflow.

    The ``run`` command allows to create a new workflow, upload its input files
    and start it in one command.

    Examples:

      $ reana-client run -w myanalysis-test-small -p myparam=mysmallvalue

      $ reana-client run -w myanalysis-test-big -p myparam=mybigvalue --follow
    """
    from reana_client.cli.transfers import upload_inputs
    from reana_client.cli.workflows import _validate_name, create_workflow

    _validate_name(None, None, name)
    path = click.format_filename(file)
    message("Creating a workflow...", "info")
    workflow = create_workflow(path, name, skip_validation, access_token)
    message("Uploading files...", "info")
    upload_inputs(workflow, access_token)
    message("Starting workflow...", "info")
    start_workflow(workflow, access_token, parameters, options, follow)


def _status_rows(response, verbose, include_duration):
    name, run_number = split_name(response["name"])
    progress = response.get("progress") or {}
    headers = ["name", "run_number", "created", "status"]
    row = [str(name), str(run_number), str(response["created"]), str(response["status"])]
    total = (progress.get("total") or {}).get("total") or 0
    finished = (progress.get("finished") or {}).get("total") or 0
    if total:
        headers.append("progress")
        row.append(f"{finished}/{total}")
    if response["status"] in ("running", "finished", "failed", "stopped"):
        started, ended = progress.get("run_started_at"), progress.get("run_finished_at")
        if started:
            headers.insert(3, "started")
            row.insert(3, started)
            if ended:
                headers.insert(4, "ended")
                row.insert(4, ended)
    if verbose:
        headers += ["id", "user"]
        row += [response.get("id"), response.get("user")]
        command = progress.get("current_command")
        if command:
            if command.startswith('bash -c "cd '):
                command = command[command.index(";") + 2 : -2]
            headers.append("command")
            row.append(command)
        elif progress.get("current_step_name"):
            headers.append("command")
            row.append(progress["current_step_name"])
    if verbose or include_duration:
        headers.append("duration")
        row.append(duration_seconds(response) or "-")
    return headers, [row]


@click.command("status")
@workflow_option
@format_options("name,status")
@click.option(
    "--include-duration",
    is_flag=True,
    default=False,
    help="Include the duration of the workflows in seconds.",
)
@access_token_option
@check_connection
@click.option("-v", "--verbose", count=True, help="Set status information verbosity.")
def status(workflow, _format, output_format, include_duration, access_token, verbose):
    """Get status of a workflow.

    The ``status`` command allow to retrieve status of a workflow. The status can
    be created, queued, running, failed, etc. You can increase verbosity or
    filter retrieved information by passing appropriate command-line options.

    Examples:

      $ reana-client status -w myanalysis.42

      $ reana-client status -w myanalysis.42 -v --json
    """
    from reana_client.api.client import APIError

    try:
        response = api().call(
            "get_workflow_status", workflow_id_or_name=workflow, access_token=access_token
        )
        headers, rows = _status_rows(response, verbose, include_duration)
    except (APIError, KeyError, TypeError) as error:
        fail(f"Cannot retrieve the status of a workflow {workflow}: \n{error}")
    display_formatted_output(rows, headers, _format, output_format)


@click.command("stop")
@click.option(
    "--force",
    "force_stop",
    is_flag=True,
    default=False,
    help="Stop a workflow without waiting for jobs to finish.",
)
@workflow_option
@access_token_option
@check_connection
def stop(force_stop, workflow, access_token):
    """Stop a running workflow.

    The ``stop`` command allows to hard-stop the running workflow process. Note
    that soft-stopping of the workflow is currently not supported. This command
    should be therefore used with care, only if you are absolutely sure that
    there is no point in continuing the running the workflow.

    Example:

      $ reana-client stop -w myanalysis.42 --force
    """
    from reana_client.api.client import APIError

    if not force_stop:
        message(
            "Graceful stop not implement yet. If you really want to stop your workflow "
            "without waiting for jobs to finish use: --force option",
            "error",
        )
        raise click.Abort()
    try:
        api().call(
            "set_workflow_status",
            workflow_id_or_name=workflow,
            status="stop",
            access_token=access_token,
            parameters={"force_stop": True},
        )
    except APIError as error:
        fail(f"Cannot stop workflow {workflow}: \n{error}")
    message(status_change_message(workflow, "stopped"), "success")
