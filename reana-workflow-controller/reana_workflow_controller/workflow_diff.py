"""``GET /api/workflows/<a>/diff/<b>``: specification and workspace differences."""

from __future__ import annotations

import difflib
import json
import os
import pprint

from reana_commons.workspace.compare import compare_workspaces
from reana_db.models import Workflow

from reana_workflow_controller.errors import BadRequest
from reana_workflow_controller.workflows import workflow_name

MAX_CONTEXT_LINES = 10_000


def parse_context_lines(value) -> int:
    """``context_lines`` (a string in REANA's spec) as a non-negative integer, or 400."""
    if value in (None, ""):
        return 5
    try:
        lines = int(str(value).strip())
    except ValueError:
        raise BadRequest(f"context_lines must be an integer, not {value!r}.") from None
    if lines < 0 or lines > MAX_CONTEXT_LINES:
        raise BadRequest(f"context_lines must be between 0 and {MAX_CONTEXT_LINES}.")
    return lines


def _section(workflow: Workflow, section: str):
    specification = workflow.reana_specification or {}
    if section != "inputs":
        return specification.get(section, "")
    inputs = dict(specification.get("inputs") or {})
    if workflow.input_parameters:
        inputs["parameters"] = {**(inputs.get("parameters") or {}), **workflow.input_parameters}
    return inputs


def specification_diff(workflow_a: Workflow, workflow_b: Workflow) -> dict[str, list[str]]:
    """``{section: unified diff lines}`` of the two reana.yaml (inputs with start parameters)."""
    sections = list((workflow_a.reana_specification or {}).keys())
    sections += [s for s in (workflow_b.reana_specification or {}) if s not in sections]
    result = {}
    for section in sections:
        lines_a = pprint.pformat(_section(workflow_a, section)).splitlines()
        lines_b = pprint.pformat(_section(workflow_b, section)).splitlines()
        # The first two lines are the ---/+++ file headers, meaningless here.
        result[section] = list(difflib.unified_diff(lines_a, lines_b))[2:]
    return result


def workspace_diff(
    workflow_a: Workflow, workflow_b: Workflow, brief: bool, context_lines: int
) -> str:
    """``diff -r --unified=N`` of the two workspaces, paths shown as run names.

    reana-commons compares the trees itself (no ``diff`` process): only files
    that would be served are read, so a job's hard link to a file outside its
    workspace is named, never shown.
    """
    for workflow in (workflow_a, workflow_b):
        if not workflow.workspace_path or not os.path.isdir(workflow.workspace_path):
            return f"Workspace of {workflow_name(workflow)} does not exist."
    return compare_workspaces(
        workflow_a.workspace_path,
        workflow_b.workspace_path,
        workflow_name(workflow_a),
        workflow_name(workflow_b),
        brief=brief,
        context_lines=context_lines,
    )


def diff_view(
    workflow_a: Workflow, workflow_b: Workflow, brief: bool, context_lines: int
) -> dict:
    """REANA's answer: both parts as JSON text."""
    return {
        "reana_specification": json.dumps(specification_diff(workflow_a, workflow_b)),
        "workspace_listing": json.dumps(
            workspace_diff(workflow_a, workflow_b, brief, context_lines)
        ),
    }
