"""``provenance`` and ``export``: what every job of a run ran and touched, and its RO-Crate."""

from __future__ import annotations

import json
import os
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
from reana_client.output import message, print_table

HEADERS = ["job", "step", "status", "backend", "node", "runtime", "image", "digest", "exit",
           "inputs", "outputs", "started", "finished"]


def _short(digest: str | None) -> str:
    if not digest:
        return "-"
    return digest.removeprefix("sha256:")[:12]


def _files(items) -> str:
    if items is None:
        return "?"
    return ", ".join(f"{i['path']}@{i['sha256'][:8]}" for i in items) or "-"


def _outputs(job: dict) -> str:
    """The files the job wrote; those written while other jobs ran too marked ``(during)``."""
    written = _files(job["outputs"])
    during = job.get("outputs_during") or []
    if not during:
        return written
    also = ", ".join(f"{i['path']}@{i['sha256'][:8]} (during)" for i in during)
    return also if written == "-" else f"{written}, {also}"


def _rows(document: dict) -> list[list]:
    rows = []
    for job in document["jobs"]:
        status = job["status"] + (" (cached)" if job.get("cached") else "")
        rows.append([job["job_id"][:8], job["job_name"] or "-", status,
                     job["compute_backend"] or "-", job["node"] or "-", job["runtime"] or "-",
                     job["image"] or "-", _short(job["image_digest"]),
                     "-" if job["exit_code"] is None else job["exit_code"],
                     _files(job["inputs"]), _outputs(job),
                     job["started_at"] or "-", job["finished_at"] or "-"])
    return rows


@click.command("provenance")
@workflow_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@access_token_option
@check_connection
def provenance(workflow, as_json, access_token):
    """Show the provenance of every job of a workflow run.

    For each job: image (and digest where the runtime reports one), compute backend and node,
    how it ran, exit code, the SHA-256 of the declared inputs it read and of the files it
    created or changed (shortened in the table, whole with --json), start and end; jobs
    served from the job cache (``-o CACHE=on``) are marked ``cached``. A file written while
    other jobs of the run ran too is marked ``(during)``: which of them wrote it is unknown.

    Examples:

      $ reana-client provenance -w myanalysis.42

      $ reana-client provenance -w myanalysis.42 --json
    """
    from reana_client.api.client import APIError

    try:
        document = api().call("get_workflow_provenance", workflow_id_or_name=workflow,
                              access_token=access_token)
    except APIError as error:
        fail(f"Cannot retrieve the provenance of {workflow}: {error}")
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    message(f"{document['workflow_name']}: {document['status']}, "
            f"{len(document['jobs'])} job(s)", "info")
    if document["jobs"]:
        print_table(HEADERS, _rows(document))


@click.command("export")
@workflow_option
@click.option("-o", "--output", "output", default=None,
              help="Where to write the zip (default: <workflow>.crate.zip).")
@access_token_option
@check_connection
def export(workflow, output, access_token):
    """Export a workflow run as an RO-Crate (Provenance Run Crate) zip.

    The crate holds reana.yaml, the declared inputs and outputs and ro-crate-metadata.json
    describing the run and each job (what it ran, on which files, where).

    Examples:

      $ reana-client export -w myanalysis.42 -o run.crate.zip
    """
    import requests

    from reana_client.api.client import APIError
    from reana_client.api.transfer import CHUNK, _raise_for

    target = output or f"{workflow}.crate.zip"
    try:
        response = requests.get(f"{server_url()}/api/workflows/{workflow}/ro-crate",
                                params={"access_token": access_token}, stream=True,
                                verify=False)
    except requests.exceptions.ConnectionError:
        fail(f"Could not connect to the server {server_url()}")
    with response:
        try:
            _raise_for(response)
        except APIError as error:
            fail(f"Cannot export {workflow}: {error}")
        partial = target + ".part"
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        with open(partial, "wb") as handle:
            for chunk in response.iter_content(CHUNK):
                handle.write(chunk)
        os.replace(partial, target)
    message(f"{workflow} exported to {target}", "success")
    sys.stdout.flush()
