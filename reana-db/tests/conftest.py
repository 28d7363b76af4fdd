"""Fixtures of the reana-db tests (the shared chain comes from reana_testing.pytest_plugin)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from reana_commons.config import get_config
from reana_db.enums import RunStatus
from reana_db.models import Workflow
from reana_db.run_numbers import next_run_number


@pytest.fixture
def make_workflow(db):
    """Factory of runs: new ones get a fresh workspace, restarts share their original's."""

    def make(
        owner,
        name: str = "workflow",
        restart_of: Workflow | None = None,
        status: RunStatus | None = None,
        spec: dict | None = None,
    ) -> Workflow:
        major, minor = next_run_number(db, owner.id_, name, restart_of)
        workflow = Workflow(
            id_=uuid.uuid4(),
            name=name,
            owner_id=owner.id_,
            type_="serial",
            run_number_major=major,
            run_number_minor=minor,
            restart=restart_of is not None,
            reana_specification=spec or {"workflow": {"type": "serial"}},
        )
        if restart_of is not None:
            workflow.workspace_path = restart_of.workspace_path
        else:
            path = get_config().shared_volume_path / "users" / str(owner.id_) / "workflows"
            path = path / str(workflow.id_)
            path.mkdir(parents=True)
            workflow.workspace_path = str(path)
        if status is not None:
            workflow.status = status  # test setup only; real writers use set_workflow_status
        db.add(workflow)
        db.flush()
        return workflow

    return make


@pytest.fixture
def write_file():
    """``write_file(workflow, relative, size)`` creates a file of ``size`` bytes in a workspace."""

    def write(workflow: Workflow, relative: str, size: int) -> Path:
        path = Path(workflow.workspace_path) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        return path

    return write
