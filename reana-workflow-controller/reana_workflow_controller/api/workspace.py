"""Workspace endpoints: upload (streamed), list, download, delete, move, usage, prune."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.wsgi import wrap_file

from reana_workflow_controller import workspace_files
from reana_workflow_controller.api.common import owned_workflow, query, readable_workflow, session
from reana_workflow_controller.errors import BadRequest
from reana_workflow_controller.pagination import Page
from reana_workflow_controller.schemas import (
    DiskUsageQuery,
    DownloadQuery,
    ListFilesQuery,
    MoveQuery,
    PruneQuery,
    UploadQuery,
    UserQuery,
)

blueprint = Blueprint("workspace", __name__, url_prefix="/api")


@blueprint.post("/workflows/<workflow_id_or_name>/workspace")
def upload(workflow_id_or_name: str):
    """Write the raw request body to ``?file_name=``, streamed from the socket to disk."""
    args = query(UploadQuery)
    _, workflow = owned_workflow(args, workflow_id_or_name)
    if "application/octet-stream" not in (request.content_type or ""):
        raise BadRequest("The file must be sent as Content-Type: application/octet-stream.")
    # request.stream, never request.data: the body may be larger than memory.
    answer = workspace_files.upload_file(session(), workflow, args["file_name"], request.stream)
    return jsonify(answer)


@blueprint.get("/workflows/<workflow_id_or_name>/workspace")
def list_files(workflow_id_or_name: str):
    """Files of the workspace (``file_name`` glob, ``search`` JSON), paginated."""
    args = query(ListFilesQuery)
    _, workflow = readable_workflow(args, workflow_id_or_name)
    page = Page(args["page"], args["size"])
    return jsonify(
        workspace_files.list_workspace(workflow, args["file_name"], args["search"], page)
    )


@blueprint.get("/workflows/<workflow_id_or_name>/workspace/<workspace_path:file_name>")
def download(workflow_id_or_name: str, file_name: str):
    """One file as octet-stream attachment; a directory or a glob as a streamed zip."""
    args = query(DownloadQuery)
    _, workflow = readable_workflow(args, workflow_id_or_name)
    found = workspace_files.download(workflow, file_name, args["preview"])
    if found.fileobj is not None:
        response = Response(
            wrap_file(request.environ, found.fileobj),
            mimetype=found.mimetype,
            direct_passthrough=True,
        )
        response.content_length = found.size
    else:
        response = Response(found.chunks, mimetype=found.mimetype, direct_passthrough=True)
    disposition = "attachment" if found.attachment else "inline"
    response.headers["Content-Disposition"] = workspace_files.content_disposition(
        disposition, found.filename
    )
    if not found.attachment:
        # Previewed HTML must not run scripts with the API's origin.
        response.headers["Content-Security-Policy"] = "sandbox"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.delete("/workflows/<workflow_id_or_name>/workspace/<workspace_path:file_name>")
def delete(workflow_id_or_name: str, file_name: str):
    """Delete a file, a directory or a glob's matches."""
    args = query(UserQuery)
    _, workflow = owned_workflow(args, workflow_id_or_name)
    return jsonify(workspace_files.delete_files(session(), workflow, file_name))


@blueprint.put("/workflows/move_files/<workflow_id_or_name>")
def move(workflow_id_or_name: str):
    """Move or rename ``?source=`` to ``?target=`` inside the workspace."""
    args = query(MoveQuery)
    _, workflow = owned_workflow(args, workflow_id_or_name)
    return jsonify(workspace_files.move_files(workflow, args["source"], args["target"]))


@blueprint.get("/workflows/<workflow_id_or_name>/disk_usage")
def disk_usage(workflow_id_or_name: str):
    """Disk usage of the workspace, per entry or summarized (our extension)."""
    args = query(DiskUsageQuery)
    _, workflow = readable_workflow(args, workflow_id_or_name)
    return jsonify(workspace_files.disk_usage_view(workflow, args["summarize"], args["search"]))


@blueprint.post("/workflows/<workflow_id_or_name>/prune")
def prune(workflow_id_or_name: str):
    """Delete all but the declared inputs and outputs (our extension)."""
    args = query(PruneQuery)
    _, workflow = owned_workflow(args, workflow_id_or_name)
    answer = workspace_files.prune_workspace(
        session(), workflow, args["include_inputs"], args["include_outputs"]
    )
    return jsonify(answer)
