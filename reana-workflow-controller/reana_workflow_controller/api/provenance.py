"""Provenance endpoints (our addition, issue 19): the jobs' record and the run's RO-Crate."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from reana_db.provenance import run_provenance
from reana_db.quota import workspace_path_of

from reana_workflow_controller.api.common import query, readable_workflow, session
from reana_workflow_controller.errors import NotFound
from reana_workflow_controller.ro_crate import write_crate
from reana_workflow_controller.schemas import UserQuery
from reana_workflow_controller.workspace_files import content_disposition

blueprint = Blueprint("provenance", __name__, url_prefix="/api")


@blueprint.get("/workflows/<workflow_id_or_name>/provenance")
def get_provenance(workflow_id_or_name: str):
    """The run and, per job: image, command, backend, node, parameters, file digests, times."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    return jsonify(run_provenance(session(), workflow))


@blueprint.get("/workflows/<workflow_id_or_name>/ro-crate")
def get_ro_crate(workflow_id_or_name: str):
    """The run as a zipped Provenance Run Crate (specification, inputs, outputs, metadata)."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    workspace = workspace_path_of(workflow)
    if workspace is None or not workspace.is_dir():
        raise NotFound(f"The workspace of {workflow.full_name} does not exist any more.")
    document = run_provenance(session(), workflow)
    session().rollback()  # no transaction held while files are read and zipped
    crate = write_crate(document, workspace)
    response = Response(wrap_file_response(crate), mimetype="application/zip",
                        direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"{workflow.full_name}.crate.zip")
    return response


def wrap_file_response(handle):
    """Stream an open temporary file in chunks, closing (deleting) it at the end."""
    try:
        while chunk := handle.read(1 << 20):
            yield chunk
    finally:
        handle.close()
