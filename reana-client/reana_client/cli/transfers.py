"""Workspace transfers: upload and download (streamed, with a progress bar on a terminal)."""

from __future__ import annotations

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
from reana_client.output import message


def _is_regular_path(path: str) -> bool:
    from pathlib import Path

    full = Path(os.path.abspath(path))
    return all(p.is_dir() and not p.is_symlink() for p in full.parents) and not full.is_symlink()


def _files_under(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    found = []
    for root, _dirs, files in os.walk(path):
        found += [os.path.join(root, f) for f in files]
    return found


def upload_paths(workflow: str, paths, access_token: str) -> None:
    """Upload files (directories recursively); exit 1 if one failed."""
    from reana_client.api.client import APIError
    from reana_client.api.transfer import upload_file

    files = set()
    for path in paths:
        files.update(_files_under(path))
    failed = False
    for path in sorted(files):
        try:
            if ".." in path.split("/"):
                raise ValueError('Path cannot contain ".."')
            if not _is_regular_path(path):
                message(f"Ignoring symlink {path}", "info")
                continue
            absolute = os.path.abspath(path)
            save_path = absolute.replace(os.getcwd(), "")
            upload_file(server_url(), workflow, absolute, save_path, access_token)
            message(f"File {save_path} was successfully uploaded.", "success")
        except FileNotFoundError:
            message(f"File {path} could not be uploaded: {path} does not exist.", "error")
            failed = True
        except (APIError, OSError, ValueError) as error:
            message(f"Something went wrong while uploading {path}: \n{error}", "error")
            failed = True
    if failed:
        sys.exit(1)


def _ignore_filter(files: list[str]) -> list[str]:
    for ignore_file in (".gitignore", ".reanaignore"):
        try:
            with open(ignore_file) as handle:
                import pathspec

                spec = pathspec.PathSpec.from_lines("gitignore", handle)
        except FileNotFoundError:
            continue
        message(f"Detected {ignore_file} file. Some files might get ignored.", "info")
        files = [f for f in files if not spec.match_file(f)]
    return files


def _specification(workflow, access_token) -> dict:
    from reana_client.api.client import APIError

    try:
        return api().call(
            "get_workflow_specification", workflow_id_or_name=workflow, access_token=access_token
        )["specification"]
    except APIError as error:
        fail(f"Workflow {workflow} could not be retrieved: {error}")


def upload_inputs(workflow: str, access_token: str) -> None:
    """Upload ``inputs.files`` and ``inputs.directories`` of the stored specification."""
    inputs = _specification(workflow, access_token).get("inputs") or {}
    paths = []
    for name in inputs.get("files") or []:
        if os.path.isdir(name):
            fail(f"Found directory in `inputs.files`: {name}")
        paths.append(os.path.join(os.getcwd(), name))
    from_dirs = []
    for directory in inputs.get("directories") or []:
        if os.path.isfile(directory):
            fail(f"Found file in `inputs.directories`: {directory}")
        for root, _dirs, files in os.walk(directory):
            from_dirs += [os.path.join(root, f) for f in files]
    from_dirs = _ignore_filter(from_dirs)
    paths += [os.path.join(os.getcwd(), f) for f in from_dirs]
    upload_paths(workflow, paths, access_token)


@click.command("upload")
@click.argument("filenames", metavar="SOURCES", type=click.Path(exists=True), nargs=-1)
@workflow_option
@check_connection
@access_token_option
def upload(workflow, filenames, access_token):
    """Upload files and directories to workspace.

    The ``upload`` command allows to upload workflow input files and
    directories. The SOURCES argument can be repeated and specifies which files
    and directories are to be uploaded, see examples below. The default
    behaviour is to upload all input files and directories specified in the
    reana.yaml file. Files are streamed from disk with a progress bar.

    Examples:

      $ reana-client upload -w myanalysis.42

      $ reana-client upload -w myanalysis.42 code/mycode.py
    """
    if filenames:
        upload_paths(workflow, filenames, access_token)
    else:
        upload_inputs(workflow, access_token)


@click.command("download")
@click.argument("filenames", metavar="FILES", nargs=-1)
@workflow_option
@check_connection
@click.option(
    "-o",
    "--output-directory",
    default=lambda: os.getcwd(),
    help="Path to the directory where files will be downloaded. If ``-`` is "
    "specified as path, the files will be written to the standard output.",
)
@access_token_option
def download(workflow, filenames, output_directory, access_token):
    """Download workspace files.

    The ``download`` command allows to download workspace files and
    directories. By default, the files specified in the workflow specification
    as outputs are downloaded. You can also specify the individual files you
    would like to download, see examples below. Files are streamed to disk.

    Examples:

      $ reana-client download -w myanalysis.42

      $ reana-client download -w myanalysis.42 results/myplot.png

      $ reana-client download -w myanalysis.42 results/myplot.png -o -
    """
    from reana_client.api.client import APIError
    from reana_client.api.transfer import download_file

    if not filenames:
        outputs = _specification(workflow, access_token).get("outputs") or {}
        filenames = (outputs.get("files") or []) + (outputs.get("directories") or [])
    failed = False
    for file_name in filenames:
        try:
            name, _ = download_file(
                server_url(), workflow, file_name, access_token, output_directory
            )
            if output_directory != "-":
                message(f"File {name} downloaded to {output_directory}.", "success")
        except APIError as error:
            message(f"File {file_name} could not be downloaded: {error}", "error")
            failed = True
        except OSError:
            message(f"File {file_name} could not be written.", "error")
            failed = True
    if failed:
        sys.exit(1)
