"""Workspace endpoints: upload, list, download, delete, move (streamed through the controller)."""

from __future__ import annotations

from flask import Blueprint, request
from reana_commons import workspace as ws
from reana_db.database import db_session

from reana_server import schemas
from reana_server.api import CHUNK, controller, current_user, forward, quota_used_up, stream
from reana_server.errors import BadRequest, Forbidden
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.workflows import check_quota, get_user_workflow

blueprint = Blueprint("workspace", __name__)

W = "/api/workflows/<workflow_id_or_name>"
ERRORS = {400: Message, 403: Message, 404: Message, 500: Message}


class _SizedStream:
    """A request body read chunk by chunk, with its length (so it is not sent chunked)."""

    def __init__(self, stream, length: int):
        self._stream = stream
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(CHUNK if size is None or size < 0 else size)


def _chunks(stream):
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


def checked_path(path: str, what: str = "Path", refusal=BadRequest) -> str:
    """A workspace-relative path, refused if it could leave the workspace."""
    try:
        parts = ws.split_user_path(path)
    except ws.WorkspacePathError as error:
        raise refusal(error.message) from error
    if not parts:
        raise refusal(f"{what} '{path}' does not designate a file of the workspace.")
    return "/".join(parts)


@blueprint.post(W + "/workspace")
@operation(
    "upload_file",
    "Upload a file to the workspace (raw application/octet-stream body, streamed).",
    {200: Message, **ERRORS},
    query=schemas.UploadQuery,
    consumes=("application/octet-stream",),
    raw_body={"name": "file", "in": "body", "required": True, "schema": {"type": "string"}},
)
def upload_file(workflow_id_or_name, args):
    file_name = args["file_name"]
    if "application/octet-stream" not in (request.content_type or ""):
        raise BadRequest(f"Wrong Content-Type {request.content_type} use application/octet-stream")
    relative = checked_path(file_name.lstrip("/"), "File name")
    # Known before the body is streamed: the controller would answer mid-upload otherwise.
    workflow = get_user_workflow(db_session(), current_user(), workflow_id_or_name, 404)
    check_quota(db_session(), current_user(), quota_used_up())
    length = request.content_length
    body = _SizedStream(request.stream, length) if length is not None else _chunks(request.stream)
    upstream = controller().upload_file(current_user().id_, workflow.id_, relative, body)
    if upstream.status_code == 200:
        return {"message": f"{file_name} has been successfully uploaded."}
    return forward(upstream)


@blueprint.get(W + "/workspace")
@operation(
    "get_files",
    "List the workspace files (glob or directory in file_name, search, pagination).",
    {200: schemas.FileList, **ERRORS},
    query=schemas.FilesQuery,
)
def get_files(workflow_id_or_name, args):
    params = dict(args)
    if params.get("file_name"):
        params["file_name"] = checked_path(params["file_name"].lstrip("/"), "File name")
    return forward(controller().list_files(current_user().id_, workflow_id_or_name, **params))


@blueprint.get(W + "/workspace/<path:file_name>")
@operation(
    "download_file",
    "Download a file, or a zip of a directory or of the files matching a glob.",
    {200: None, **ERRORS},
    query=schemas.DownloadQuery,
    produces=(
        "application/octet-stream",
        "application/json",
        "application/zip",
        "image/*",
        "text/html",
    ),
)
def download_file(workflow_id_or_name, file_name, args):
    relative = checked_path(file_name)
    upstream = controller().download_file(
        current_user().id_, workflow_id_or_name, relative, preview=args["preview"]
    )
    response = stream(upstream)
    # A workspace file opened in the browser runs on this origin, where the web UI's
    # session cookie lives: an HTML or SVG file from a run must not act as the user.
    # (A sandboxed PDF would not render, and the PDF viewer runs no page script.)
    if response.mimetype != "application/pdf":
        response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.delete(W + "/workspace/<path:file_name>")
@operation(
    "delete_file",
    "Delete workspace files (a path, a directory or a glob).",
    {200: schemas.FilesDeleted, 403: Message, 404: Message, 500: Message},
)
def delete_file(workflow_id_or_name, file_name):
    relative = checked_path(file_name, refusal=Forbidden)
    return forward(controller().delete_file(current_user().id_, workflow_id_or_name, relative))


@blueprint.put("/api/workflows/move_files/<workflow_id_or_name>")
@operation(
    "move_files",
    "Move or rename files inside the workspace.",
    {200: schemas.WorkflowMessage, **ERRORS, 409: Message},
    query=schemas.MoveQuery,
    consumes=("application/json",),
)
def move_files(workflow_id_or_name, args):
    source = checked_path(args["source"].lstrip("/"), "Source")
    target = checked_path(args["target"].lstrip("/"), "Target")
    return forward(controller().move_files(current_user().id_, workflow_id_or_name, source, target))
