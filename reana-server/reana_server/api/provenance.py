"""Provenance endpoints (issue 19): every job's record, and the run as an RO-Crate."""

from __future__ import annotations

from flask import Blueprint

from reana_server.api import controller, current_user, forward, stream
from reana_server.operations import operation
from reana_server.provenance_schemas import RunProvenance
from reana_server.schemas import Message

blueprint = Blueprint("provenance", __name__)

W = "/api/workflows/<workflow_id_or_name>"
ERRORS = {400: Message, 403: Message, 404: Message, 500: Message}


@blueprint.get(W + "/provenance")
@operation(
    "get_workflow_provenance",
    "Provenance of a run: per job its image (and digest), command, compute backend, node, "
    "parameters, the SHA-256 of the declared inputs it read and of the files it wrote, "
    "times, exit code, and whether it came from the job cache.",
    {200: RunProvenance, **ERRORS},
)
def get_workflow_provenance(workflow_id_or_name):
    return forward(controller().get_provenance(current_user().id_, workflow_id_or_name))


@blueprint.get(W + "/ro-crate")
@operation(
    "get_workflow_ro_crate",
    "The run as a zipped RO-Crate (Workflow Run Crate / Provenance Run Crate 0.5): "
    "reana.yaml, the declared inputs and outputs, ro-crate-metadata.json.",
    {200: None, **ERRORS},
    produces=("application/zip", "application/json"),
)
def get_workflow_ro_crate(workflow_id_or_name):
    return stream(controller().get_ro_crate(current_user().id_, workflow_id_or_name))
