"""The platform side of a CWL run: create, upload, start, wait, fetch the output object.

Everything goes through reana-server's public API with the run owner's token,
as reana-client does. The engine writes the final output object to
``cwl/outputs.json`` of the workspace (its logs carry it too) with the
workspace's absolute locations under ``outputs/``; the outputs are downloaded
as one zip of ``outputs/`` and the locations rewritten to ``--outdir``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from reana_client.api.client import APIError, make_client
from reana_client.api.transfer import download_file, upload_file
from reana_client.cwl_runner.documents import FILE_CLASSES, Prepared, RunnerError

UNSUPPORTED_MARKER = "uses a CWL feature this platform does not support"
"""What the CWL engine's failure reason says when cwltool exits 33 (engine.UNSUPPORTED_REASON)."""
ENDED = ("finished", "failed", "stopped", "deleted")
RETRIES = 5


class Platform:
    """One run of a packed CWL document on the platform at ``server_url``."""

    def __init__(self, server_url: str, token: str, say=None):
        self.server_url = server_url.strip(" \t\n\r/")
        self.token = token
        self.client = make_client(self.server_url)
        self.say = say or (lambda text: None)
        self.workflow_id: str | None = None
        self.name: str | None = None

    def call(self, operation: str, **kwargs):
        """One API call; connection problems and 5xx answers are retried a few times."""
        for attempt in range(RETRIES + 1):
            try:
                return self.client.call(operation, access_token=self.token, **kwargs)
            except APIError as error:
                transient = error.status_code is None or error.status_code >= 500
                if not transient or attempt == RETRIES:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def create(self, name: str, prepared: Prepared, tool_name: str) -> None:
        spec = {
            "version": "0.9.0",
            "inputs": {"parameters": prepared.job},
            "workflow": {"type": "cwl", "file": tool_name,
                         "specification": prepared.specification},
        }
        response = self.call("create_workflow", workflow_name=name, reana_specification=spec)
        self.workflow_id, self.name = response["workflow_id"], response["workflow_name"]
        self.say(f"created run {self.name} ({self.workflow_id})")

    def upload(self, uploads: dict[str, Path]) -> None:
        for target, local in sorted(uploads.items()):
            for attempt in range(RETRIES + 1):
                try:
                    upload_file(self.server_url, self.workflow_id, str(local), target, self.token)
                    break
                except APIError as error:
                    transient = error.status_code is None or error.status_code >= 500
                    if not transient or attempt == RETRIES:
                        raise
                    time.sleep(0.5 * (attempt + 1))
        if uploads:
            self.say(f"uploaded {len(uploads)} file(s)")

    def start(self) -> None:
        self.call("start_workflow", workflow_id_or_name=self.workflow_id,
                  parameters={"input_parameters": {}, "operational_options": {}})

    def wait(self, timeout: float | None = None) -> str:
        """The run's final status (polling faster at first: most CWL tests take seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, last = 0.1, None
        while True:
            status = self.call("get_workflow_status", workflow_id_or_name=self.workflow_id)
            state = status.get("status")
            if state != last:
                self.say(f"run {self.name} is {state}")
                last = state
            if state in ENDED:
                return state
            if deadline is not None and time.monotonic() > deadline:
                raise RunnerError(f"Run {self.name} did not end within {timeout:.0f} s.")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def logs(self) -> str:
        """The run's own (engine) logs."""
        response = self.call("get_workflow_logs", workflow_id_or_name=self.workflow_id)
        try:
            return json.loads(response["logs"]).get("workflow_logs") or ""
        except (KeyError, TypeError, ValueError):
            return ""

    def outputs(self, outdir: Path) -> dict:
        """The output object with its files downloaded into ``outdir``."""
        with tempfile.TemporaryDirectory(prefix="reana-cwl-runner-") as scratch:
            name, _ = download_file(self.server_url, self.workflow_id, "cwl/outputs.json",
                                    self.token, scratch)
            output = json.loads((Path(scratch) / name).read_text(encoding="utf-8"))
            if _has_files(output):
                self._download_outputs(Path(scratch) / "zip", outdir)
        return relocate(output, f"/{self.workflow_id}/outputs/", outdir)

    def _download_outputs(self, scratch: Path, outdir: Path) -> None:
        scratch.mkdir()
        try:
            name, is_zip = download_file(self.server_url, self.workflow_id, "outputs",
                                         self.token, str(scratch))
        except APIError as error:
            if error.status_code == 404:  # outputs/ holds directories only (or nothing)
                return
            raise
        downloaded = scratch / name
        outdir.mkdir(parents=True, exist_ok=True)
        if not is_zip:  # a single file in outputs/
            return
        with zipfile.ZipFile(downloaded) as archive:
            for member in archive.infolist():
                relative = member.filename.removeprefix("outputs/")
                target = (outdir / relative).resolve()
                if member.is_dir() or not target.is_relative_to(outdir.resolve()):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(target, "wb") as dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
                mode = (member.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(target, mode)


def _has_files(node) -> bool:
    if isinstance(node, list):
        return any(_has_files(item) for item in node)
    if isinstance(node, dict):
        return node.get("class") in FILE_CLASSES or any(_has_files(v) for v in node.values())
    return False


def relocate(node, marker: str, outdir: Path):
    """Locations and paths under the workspace's ``outputs/`` moved to ``outdir``.

    Directories of the output object are created (the zip holds files only).
    """
    if isinstance(node, list):
        return [relocate(item, marker, outdir) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: relocate(value, marker, outdir) for key, value in node.items()}
    if copy.get("class") not in FILE_CLASSES:
        return copy
    location = copy.get("location")
    if isinstance(location, str) and location.startswith("file://"):
        path = unquote(urlsplit(location).path)
        head, found, relative = path.partition(marker)
        if found:
            local = outdir / relative
            copy["location"] = "file://" + quote(str(local))
            if "path" in copy:
                copy["path"] = str(local)
            if copy["class"] == "Directory":
                local.mkdir(parents=True, exist_ok=True)
    return copy


def print_output(output: dict) -> None:
    sys.stdout.write(json.dumps(output, indent=4, ensure_ascii=False) + "\n")
    sys.stdout.flush()
