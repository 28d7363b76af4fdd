"""Workspace files of a run: upload, list, download, delete, move, disk usage, prune.

Every user path goes through :mod:`reana_commons.workspace`, which refuses
anything that would leave the workspace. No Flask here: downloads are described
by a :class:`Download` that the API turns into a streamed response.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote

from reana_commons import workspace as ws
from reana_commons.errors import WorkspaceFileNotFound, WorkspaceNotFound, WorkspacePathError
from reana_db import quota
from reana_db.enums import RunStatus
from reana_db.models import Workflow
from sqlalchemy.orm import Session

from reana_workflow_controller.errors import BadRequest
from reana_workflow_controller.pagination import Page
from reana_workflow_controller.workflows import workflow_name

PREVIEWABLE_MIME_PREFIXES = ("image/", "application/pdf", "text/html")
_GLOB_SPECIALS = {"*": "[*]", "?": "[?]", "[": "[[]"}


def workspace_of(workflow: Workflow) -> str:
    """The run's workspace directory; a deleted run or a missing directory → 404."""
    path = workflow.workspace_path
    if RunStatus(workflow.status) == RunStatus.deleted or not path or not os.path.isdir(path):
        raise WorkspaceNotFound("Workspace does not exist.")
    return path


def upload_name(file_name: str | None) -> str:
    """The relative path of an upload (REANA's client sends ``/data/x``), or 400."""
    name = (file_name or "").lstrip("/")
    if not name or name.endswith("/"):
        raise BadRequest("The file_name query parameter must name a file.")
    return name


def _account_disk(session: Session, workflow: Workflow, delta: int) -> None:
    """Add ``delta`` bytes to the run's and its owner's disk usage."""
    if delta:
        quota.add_disk_usage(session, workflow, delta)


def _existing_size(workspace: str, name: str) -> int:
    try:
        path = ws.resolve(workspace, name)
        return path.stat().st_size if path.is_file() else 0
    except (OSError, WorkspacePathError):
        return 0


def upload_file(session: Session, workflow: Workflow, file_name: str, stream) -> dict:
    """Stream ``stream`` into the workspace as ``file_name`` (never held in memory)."""
    workspace = workspace_of(workflow)
    name = upload_name(file_name)
    previous = _existing_size(workspace, name)
    written = ws.save_stream(workspace, name, stream)
    _account_disk(session, workflow, written - previous)
    return {"message": f"{file_name} has been successfully uploaded."}


def list_workspace(
    workflow: Workflow, file_name: str | None, search: str | None, page: Page
) -> dict:
    """REANA's paginated ``{items: [{name, size, last-modified}], total, ...}``."""
    workspace = workspace_of(workflow)
    entries = (
        {**entry, "size": ws.size_dict(entry["size"])}
        for entry in ws.list_files(workspace, file_name or None)
    )
    items = list(ws.filter_entries(entries, search))
    return page.envelope(page.slice(items), len(items))


@dataclass
class Download:
    """A download answer: one file (``fileobj``) or a zip stream (``chunks``)."""

    filename: str
    mimetype: str
    attachment: bool = True
    fileobj: IO[bytes] | None = None
    size: int | None = None
    chunks: Iterator[bytes] | None = None


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value any file name fits in (RFC 6266).

    HTTP headers carry Latin-1 without control characters: a name that is not
    printable ASCII is sent only as its UTF-8 form in ``filename*`` (RFC 6266,
    RFC 8187). No ASCII ``filename`` fallback goes with it, because reana-client
    reads the name with ``email.message.Message.get_filename()``, which would
    prefer the fallback. The name keeps its directories, as REANA sends it.
    """
    if all(" " <= char <= "~" for char in filename):
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        return f'{disposition}; filename="{quoted}"'
    encoded = quote(filename.encode("utf-8", "surrogateescape"), safe="/")
    return f"{disposition}; filename*=UTF-8''{encoded}"


def _previewable(name: str) -> str | None:
    mime = mimetypes.guess_type(name)[0]
    if mime and mime.startswith(PREVIEWABLE_MIME_PREFIXES):
        return mime
    return None


def _zip_name(workflow: Workflow, path: str) -> str:
    base = posixpath.basename(path.strip("/")) or "workspace"
    stamp = time.strftime("%Y-%m-%d-%H%M%S", time.gmtime())
    return f"download_{workflow_name(workflow)}_{base}_{stamp}.zip"


def download(workflow: Workflow, path: str, preview: bool = False) -> Download:
    """One file as itself; a directory, or a glob matching several files, as a zip."""
    workspace = workspace_of(workflow)
    path = path.lstrip("/")
    target = ws.resolve(workspace, path) if path else None
    if target is not None and target.is_file():
        return _single_file(workspace, path, preview)
    if target is None or not target.is_dir():
        matches = ws.matching_files(workspace, [path])
        if not matches:
            raise WorkspaceFileNotFound(f"{path} does not exist.")
        if len(matches) == 1:
            return _single_file(workspace, matches[0]["name"], preview)
    # A directory (404 when it holds no file) or a glob matching several files.
    chunks = ws.iter_zip(workspace, [path])
    return Download(_zip_name(workflow, path), "application/zip", chunks=chunks)


def _single_file(workspace: str, name: str, preview: bool) -> Download:
    fileobj = ws.open_file(workspace, name)
    size = os.fstat(fileobj.fileno()).st_size
    mime = _previewable(name) if preview else None
    if mime:
        return Download(name, mime, attachment=False, fileobj=fileobj, size=size)
    return Download(name, "application/octet-stream", fileobj=fileobj, size=size)


def delete_files(session: Session, workflow: Workflow, pattern: str) -> dict:
    """Delete a file, directory or glob; REANA's ``{"deleted": {...}, "failed": {...}}``."""
    workspace = workspace_of(workflow)
    pattern = pattern.lstrip("/")
    if not pattern:
        raise WorkspacePathError("The workspace itself cannot be deleted.")
    result = ws.delete(workspace, pattern)
    freed = sum(item["size"] for item in result["deleted"].values())
    _account_disk(session, workflow, -freed)
    return result


def move_files(workflow: Workflow, source: str, target: str) -> dict:
    """Move or rename inside the workspace."""
    workspace = workspace_of(workflow)
    source, target = (source or "").lstrip("/"), (target or "").lstrip("/")
    if not source or not target:
        raise BadRequest("Both source and target must be given.")
    ws.move(workspace, source, target)
    return {
        "message": f"File(s) {source} were successfully moved",
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow_name(workflow),
    }


def disk_usage_view(workflow: Workflow, summarize: bool, search) -> dict:
    """``du -a``-like usage of the workspace (REANA's server ``disk_usage`` shape)."""
    workspace = workspace_of(workflow)
    return {
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow.name,
        "user": str(workflow.owner_id),
        "disk_usage_info": ws.disk_usage(workspace, summarize=summarize, search=search),
    }


def escape_glob(name: str) -> str:
    """A literal path as a workspace pattern (``*``, ``?`` and ``[`` bracketed)."""
    return "".join(_GLOB_SPECIALS.get(char, char) for char in name)


def _kept_paths(workflow: Workflow, include_inputs: bool, include_outputs: bool) -> set[str]:
    specification = workflow.reana_specification or {}
    kept: set[str] = set()
    for section, pruned in (("inputs", include_inputs), ("outputs", include_outputs)):
        if pruned:
            continue
        declared = specification.get(section) or {}
        for key in ("files", "directories"):
            for path in declared.get(key) or []:
                normalized = posixpath.normpath(str(path).lstrip("/"))
                if normalized not in (".", "") and not normalized.startswith(".."):
                    kept.add(normalized)
    return kept


def _prunable(directory: str, rel: str, kept: set[str]) -> Iterable[str]:
    """Maximal entries below ``rel`` that neither are, contain, nor lie in a kept path."""
    with os.scandir(directory) as entries:
        children = sorted(entries, key=lambda e: e.name)
    for entry in children:
        name = f"{rel}/{entry.name}" if rel else entry.name
        if name in kept or any(name.startswith(k + "/") for k in kept):
            continue
        if entry.is_dir(follow_symlinks=False) and any(k.startswith(name + "/") for k in kept):
            yield from _prunable(entry.path, name, kept)
        else:
            yield name


def prune_workspace(
    session: Session, workflow: Workflow, include_inputs: bool, include_outputs: bool
) -> dict:
    """Delete everything but the declared inputs and outputs (unless included)."""
    workspace = workspace_of(workflow)
    kept = _kept_paths(workflow, include_inputs, include_outputs)
    root = ws.workspace_root(workspace)
    freed = 0
    for name in list(_prunable(root, "", kept)):
        result = ws.delete(workspace, escape_glob(name))
        freed += sum(item["size"] for item in result["deleted"].values())
    _account_disk(session, workflow, -freed)
    return {
        "message": "The workspace has been correctly pruned.",
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow.name,
    }
