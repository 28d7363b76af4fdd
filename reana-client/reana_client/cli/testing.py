"""The ``test`` command: Gherkin feature files checked against a finished run."""

from __future__ import annotations

import sys

import click

from reana_client.cli.common import (
    access_token_option,
    api,
    check_connection,
    fail,
    server_url,
    workflow_option,
)
from reana_client.output import message


def _stream(workflow: str, path: str, access_token: str):
    """Yield the bytes of a workspace file in chunks."""
    import requests

    from reana_client.api.client import APIError

    response = requests.get(
        f"{server_url()}/api/workflows/{workflow}/workspace/{path}",
        params={"file_name": path, "access_token": access_token},
        stream=True,
        verify=False,
    )
    with response:
        if not response.ok:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            raise APIError(response.status_code, payload, response.text)
        yield from response.iter_content(1024 * 1024)


@click.command("test")
@workflow_option
@click.option(
    "-n",
    "--test-files",
    multiple=True,
    default=None,
    help="Gherkin file for testing properties of a workflow execution. Overrides "
    "files in reana.yaml if provided.",
)
@access_token_option
@check_connection
def test(workflow, test_files, access_token):
    """Test a finished workflow run with Gherkin feature files.

    The feature files are those listed under ``tests.files`` in reana.yaml (read
    from the current directory), or given with ``-n``. Each scenario's steps are
    checked against the run (status, logs, workspace files, sizes, checksums,
    durations). The command exits with 1 when a scenario fails.

    Examples:

      $ reana-client test -w myanalysis.42

      $ reana-client test -w myanalysis.42 -n tests/serial/workspace-files.feature
    """
    from reana_client.api.client import APIError
    from reana_client.testing.runner import FeatureFileError, run_feature
    from reana_client.testing.steps import RunData

    try:
        status = api().call(
            "get_workflow_status", workflow_id_or_name=workflow, access_token=access_token
        )["status"]
    except (APIError, KeyError):
        fail(f"Could not find workflow ``{workflow}``.")
    if status != "finished":
        fail(f"``{workflow}`` is {status}. It must be finished to run tests.")
    run = RunData(api(), _stream, workflow, access_token)
    if not test_files:
        try:
            test_files = run.specification()["tests"]["files"]
        except (KeyError, TypeError):
            fail("No test files specified in reana.yaml and no -n option provided.")
    failed = 0
    total = 0
    for test_file in test_files:
        click.secho(f"\nUsing test file {test_file}", fg="cyan", bold=True)
        try:
            with open(test_file, encoding="utf-8") as handle:
                results = run_feature(handle.read(), run)
        except FileNotFoundError:
            fail(f"Test file {test_file} not found.")
        except FeatureFileError as error:
            fail(f"Error parsing feature file {test_file}: {error}")
        click.secho(f"Summary of {test_file}:", bold=True)
        for result in results:
            total += 1
            click.echo(f"Tested {result.name}: ", nl=False)
            if result.passed:
                click.secho("passed", fg="green")
                continue
            failed += 1
            click.secho("failed", fg="red")
            click.secho(f"  {test_file}:{result.line}: {result.failed_step}", fg="red")
            click.secho(f"  Reason: {result.reason}", fg="red")
    if failed:
        message(f"{failed} of {total} scenarios failed.", "error")
        sys.exit(1)
    message(f"All {total} scenarios passed.", "success")
