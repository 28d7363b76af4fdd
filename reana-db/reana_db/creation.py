"""Storing a new run: its row (next run number), its retention rules and its empty workspace.

Both reana-server (``POST /api/workflows``, ``/api/launch``) and the workflow
controller's internal API create runs. Each validates a request with its own
rules and messages first; the storing itself is here, once, with the checks
of ``workspace.root_path`` and the run-number lock. reana-server
calling it directly saves the HTTP hop to the workflow controller, which was
most of the cost of admitting a run.
"""

from __future__ import annotations

import uuid

from reana_commons.config import Config
from sqlalchemy.orm import Session

from reana_db.models import Workflow, WorkspaceRetentionRule
from reana_db.run_numbers import next_run_number
from reana_db.workspace_roots import (
    InvalidWorkspaceRoot,
    make_workspace,
    workspace_path,
    workspace_root,
)

__all__ = ["InvalidWorkspaceRoot", "store_new_run"]

def store_new_run(
    session: Session,
    owner_id: uuid.UUID,
    name: str,
    type_: str,
    specification: dict,
    operational_options: dict,
    retention_rules: list[dict],
    workspace_root_path: str | None = None,
    git_data: dict | None = None,
    launcher_url: str | None = None,
    config: Config | None = None,
) -> Workflow:
    """Insert a run (status ``created``, next run number of ``name``) and make its workspace.

    Arguments are already validated; ``retention_rules`` are
    :func:`reana_db.retention.rules_for_new_workflow` dicts. ``workspace_root_path``
    (the reana.yaml's ``workspace.root_path``, ``None`` for the shared volume) is
    checked here, by :func:`reana_db.workspace_roots.workspace_root`, for every
    creator alike; :class:`InvalidWorkspaceRoot` says why it is refused.

    The run number of ``name`` stays locked until the caller's transaction ends
    (:func:`reana_db.run_numbers.lock_run_numbers`): commit soon after.
    """
    allowed, root = workspace_root(session, workspace_root_path, config)
    git_data = git_data or {}
    workflow_id = uuid.uuid4()
    workspace = workspace_path(root, owner_id, workflow_id)
    major, minor = next_run_number(session, owner_id, name)
    workflow = Workflow(
        id_=workflow_id,
        name=name,
        owner_id=owner_id,
        reana_specification=specification,
        operational_options=operational_options,
        input_parameters={},
        type_=type_,
        logs="",
        run_number_major=major,
        run_number_minor=minor,
        workspace_path=str(workspace),
        git_ref=git_data.get("git_commit_sha") or None,
        git_repo=git_data.get("git_url") or None,
        git_provider=git_data.get("git_provider") or None,
        launcher_url=launcher_url or None,
        job_progress={},
        complexity=[],
    )
    session.add(workflow)
    session.add_all(
        WorkspaceRetentionRule(workflow_id=workflow_id, **values) for values in retention_rules
    )
    session.flush()
    make_workspace(allowed, workspace)
    return workflow
