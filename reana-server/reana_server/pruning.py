"""Pruning a workspace: delete everything that is not a declared input or output."""

from __future__ import annotations

from reana_commons import workspace as ws
from reana_db.models import Workflow
from reana_db.quota import update_workspace_disk
from sqlalchemy.orm import Session

from reana_server.workflows import matches_any


def protected_patterns(spec: dict, include_inputs: bool, include_outputs: bool) -> list[str]:
    """Paths kept by a prune: inputs and outputs, unless their deletion is asked for."""
    spec = spec or {}
    kept: list[str] = []
    if not include_inputs:
        inputs = spec.get("inputs") or {}
        kept += list(inputs.get("files") or []) + list(inputs.get("directories") or [])
    if not include_outputs:
        outputs = spec.get("outputs") or {}
        kept += list(outputs.get("files") or []) + list(outputs.get("directories") or [])
    return [str(p) for p in kept]


def prune(
    session: Session,
    workflow: Workflow,
    workspace: str,
    include_inputs: bool,
    include_outputs: bool,
) -> int:
    """Delete the unprotected files of ``workspace``; returns how many were deleted."""
    kept = protected_patterns(workflow.reana_specification, include_inputs, include_outputs)
    deleted = 0
    for entry in list(ws.list_files(workspace)):
        name = entry["name"]
        if matches_any(name, kept):
            continue
        result = ws.delete(workspace, name)
        deleted += len(result["deleted"])
    update_workspace_disk(session, workflow)
    return deleted
