"""Streaming upload and download of workspace files (``requests``, as reana-client does).

A file is never read into memory whole: uploads send it in blocks from disk,
downloads write the response body in chunks as it arrives. On a terminal a
progress bar shows on stderr.
"""

from __future__ import annotations

import os
import sys
from email.message import Message

import click

from reana_client.api.client import APIError, ServerUnreachable

CHUNK = 1024 * 1024


def _url(server_url: str, workflow: str, file_name: str | None = None) -> str:
    base = f"{server_url.rstrip('/')}/api/workflows/{workflow}/workspace"
    return f"{base}/{file_name}" if file_name is not None else base


def _bar(length: int | None, label: str):
    if not sys.stderr.isatty():
        return None
    return click.progressbar(
        length=length or 0, label=label, file=sys.stderr, show_eta=True, show_percent=bool(length)
    )


class _ProgressReader:
    """A file wrapper that advances a progress bar as requests reads it."""

    def __init__(self, handle, size: int, bar):
        self.handle, self.size, self.bar = handle, size, bar

    def __len__(self):
        return self.size

    def read(self, amount=-1):
        data = self.handle.read(CHUNK if amount is None or amount < 0 else amount)
        if self.bar is not None and data:
            self.bar.update(len(data))
        return data


def _raise_for(response, detailed: bool = False) -> None:
    """Raise :class:`APIError` (``detailed``: REANA's ``Error 404 NOT FOUND ...`` wording)."""
    if response.ok:
        return
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = APIError(response.status_code, payload, response.text)
    if detailed:
        text = f"Error {response.status_code} {response.reason} {error.message}"
        raise APIError(response.status_code, {"message": text}, response.text)
    raise error


def upload_file(server_url, workflow, path, save_path, access_token) -> dict:
    """POST one file to the workspace as ``application/octet-stream``, streamed."""
    import requests

    size = os.path.getsize(path)
    bar = _bar(size, os.path.basename(path))
    try:
        with open(path, "rb") as handle:
            if bar is not None:
                bar.__enter__()
            body = _ProgressReader(handle, size, bar)
            response = requests.post(
                _url(server_url, workflow),
                params={"file_name": save_path, "access_token": access_token},
                data=body if size else b"",
                headers={"Content-Type": "application/octet-stream"},
                verify=False,
            )
    except requests.exceptions.ConnectionError as error:
        raise ServerUnreachable(f"Could not connect to the server {server_url}") from error
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    _raise_for(response)
    return response.json()


def download_file(server_url, workflow, file_name, access_token, output_directory):
    """GET one workspace path and write it under ``output_directory`` (``-``: stdout).

    Returns ``(written name, is_zip)``.
    """
    import requests

    try:
        response = requests.get(
            _url(server_url, workflow, file_name),
            params={"file_name": file_name, "access_token": access_token},
            stream=True,
            verify=False,
        )
    except requests.exceptions.ConnectionError as error:
        raise ServerUnreachable(f"Could not connect to the server {server_url}") from error
    with response:
        _raise_for(response, detailed=True)
        header = Message()
        header["content-disposition"] = response.headers.get("Content-Disposition", "")
        name = header.get_filename() or "downloaded_file"
        is_zip = response.headers.get("Content-Type") == "application/zip"
        length = int(response.headers.get("Content-Length") or 0) or None
        if output_directory == "-":
            if is_zip:
                _zip_to_stdout(response)
            else:
                out = _stdout_bytes()
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                out.flush()
            return name, is_zip
        target = os.path.join(output_directory, name)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        bar = _bar(length, name)
        partial = target + ".part"
        with open(partial, "wb") as handle:
            if bar is not None:
                bar.__enter__()
            try:
                for chunk in response.iter_content(CHUNK):
                    handle.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.__exit__(None, None, None)
        os.replace(partial, target)
        return name, is_zip


def _stdout_bytes():
    sys.stdout.flush()
    return sys.stdout.buffer


def _zip_to_stdout(response) -> None:
    import tempfile
    import zipfile

    out = _stdout_bytes()
    with tempfile.TemporaryFile() as spool:
        for chunk in response.iter_content(CHUNK):
            spool.write(chunk)
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                with archive.open(entry) as member:
                    while block := member.read(CHUNK):
                        out.write(block)
    out.flush()
