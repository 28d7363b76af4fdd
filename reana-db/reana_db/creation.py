"""Storing a new run: its row (next run number), its retention rules and its empty workspace.

Both reana-server (``POST /api/workflows``, ``/api/launch``) and the workflow
controller's internal API create runs. Each validates a request with its own
rules and messages first; the storing itself is here, once. reana-server
calling it directly saves the HTTP hop to the workflow controller, which was
most of the cost of admitting a run.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reana_db.models import Workflow, WorkspaceRetentionRule
from reana_db.run_numbers import next_run_number

CREATE_ATTEMPTS = 5
"""Run numbers tried when concurrent creations of the same name collide."""


class RunNumberConflict(Exception):
    """No free run number was found in :data:`CREATE_ATTEMPTS` tries (retry later)."""


def build_workspace_path(root: Path, user_id: uuid.UUID, workflow_id: uuid.UUID) -> Path:
    """``<root>/users/<user uuid>/workflows/<workflow uuid>`` (REANA's layout)."""
    return Path(root) / "users" / str(user_id) / "workflows" / str(workflow_id)


def store_new_run(
    session: Session,
    owner_id: uuid.UUID,
    name: str,
    type_: str,
    specification: dict,
    operational_options: dict,
    retention_rules: list[dict],
    workspace_root: Path,
    git_data: dict | None = None,
    launcher_url: str | None = None,
) -> Workflow:
    """Insert a run (status ``created``, next run number of ``name``) and make its workspace.

    Arguments are already validated; ``retention_rules`` are
    :func:`reana_db.retention.rules_for_new_workflow` dicts. Creation must be
    the only write of the session's transaction: a run-number collision with a
    concurrent request rolls it back and takes the next number. Raises
    :class:`RunNumberConflict` when every try collides.
    """
    git_data = git_data or {}
    for _attempt in range(CREATE_ATTEMPTS):
        workflow_id = uuid.uuid4()
        workspace = build_workspace_path(workspace_root, owner_id, workflow_id)
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
        rules = [WorkspaceRetentionRule(workflow_id=workflow_id, **values)
                 for values in retention_rules]
        try:
            session.add(workflow)
            session.flush()
            session.add_all(rules)
            session.flush()
        except IntegrityError:
            # Another request took this run number at the same time: take the next one.
            session.rollback()
            continue
        workspace.mkdir(parents=True, exist_ok=True)
        return workflow
    raise RunNumberConflict(f"Could not allocate a run number for {name}, please retry.")
