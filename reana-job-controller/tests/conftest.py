"""Fixtures of the job controller tests: a workflow row and a real job controller process."""

from __future__ import annotations

import pytest
from reana_commons.engine.job_controller_client import JobControllerClient
from reana_testing.job_controller import JobControllerProcess, create_workflow


@pytest.fixture
def workflow(db, user, reana_env):
    """A running workflow of ``user`` with an empty workspace."""
    return create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"])


@pytest.fixture
def job_controller(workflow, reana_home):
    """A started job controller process for ``workflow`` (killed at the end)."""
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield process
    process.kill()


@pytest.fixture
def jc(job_controller):
    """A client of ``job_controller``."""
    return JobControllerClient(job_controller.url, token=job_controller.token)


@pytest.fixture
def job_fields(workflow):
    """The fields every job request of ``workflow`` carries."""
    return {
        "workflow_uuid": str(workflow.id_),
        "workflow_workspace": workflow.workspace_path,
        "docker_img": "docker.io/library/ubuntu:20.04",
        "job_name": "step",
    }
