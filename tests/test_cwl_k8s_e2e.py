"""CWL runs on Kubernetes: the batch pod's engine sends each tool job to a pod, or to Slurm.

Against the Kubernetes double (see tests/test_k8s_e2e.py): the kubernetes run manager
starts the run's batch Job (engine + job controller); each CommandLineTool job becomes
a pod in the image of its DockerRequirement, with its ResourceRequirement as requests
and its ``reana`` hints (``kubernetes_memory_limit``); a step whose hint says
``compute_backend: slurmcern`` goes to the real test Slurm from the batch pod.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_double.pytest_plugin import k8s_cluster, reana_on_k8s  # noqa: F401 - fixtures
from reana_commons.config import get_config
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Workflow
from reana_testing.pytest_plugin import apply_env
from reana_testing.slurm import require_slurm
from reana_workflow_controller import runs

from tests.test_k8s_e2e import (  # noqa: F401 - fixtures
    SQLITE,
    jobs_of,
    platform,
    reconcile_grace,
    wait_status,
)

pytestmark = [pytest.mark.slow, SQLITE]


def _tool(name: str, script: str, requirements: list, hints: list) -> dict:
    return {"id": f"#{name}.cwl", "class": "CommandLineTool",
            "requirements": [{"class": "ShellCommandRequirement"},
                             {"class": "DockerRequirement",
                              "dockerPull": "docker.io/library/python:3.11"}, *requirements],
            "hints": hints,
            "inputs": [{"id": f"#{name}.cwl/text", "type": "File",
                        "inputBinding": {"position": 1}}],
            "arguments": [{"valueFrom": script, "shellQuote": False, "position": 0}],
            "stdout": f"{name}.txt",
            "outputs": [{"id": f"#{name}.cwl/out", "type": "stdout"}]}


def packed(second_backend: str) -> dict:
    main = {"id": "#main", "class": "Workflow",
            "inputs": [{"id": "#main/text", "type": "File"}],
            "outputs": [{"id": "#main/result", "type": "File",
                         "outputSource": "#main/second/out"}],
            "steps": [{"id": "#main/first", "run": "#first.cwl",
                       "in": [{"id": "#main/first/text", "source": "#main/text"}],
                       "out": ["#main/first/out"]},
                      {"id": "#main/second", "run": "#second.cwl",
                       "in": [{"id": "#main/second/text", "source": "#main/first/out"}],
                       "out": ["#main/second/out"]}]}
    first = _tool("first", "cat", [{"class": "ResourceRequirement", "coresMin": 2,
                                    "ramMin": 256}],
                  [{"class": "reana", "kubernetes_memory_limit": "512Mi"}])
    second = _tool("second", "echo second-on-$SLURM_JOB_PARTITION >&2; tr a-z A-Z <", [],
                   [{"class": "reana", "compute_backend": second_backend}])
    return {"cwlVersion": "v1.2", "$graph": [main, first, second]}


def make_cwl_run(db, user, second_backend: str) -> Workflow:
    spec = {"version": "0.9.0",
            "inputs": {"parameters": {"text": {"class": "File", "location": "data/hi.txt"}}},
            "workflow": {"type": "cwl", "file": "main.cwl",
                         "specification": packed(second_backend)}}
    workflow = Workflow(name="k8s-cwl", owner_id=user.id_, type_="cwl",
                        run_number_major=1, reana_specification=spec)
    db.add(workflow)
    db.flush()
    path = get_config().shared_volume_path / "users" / str(user.id_) / "workflows" / str(
        workflow.id_)
    (path / "data").mkdir(parents=True)
    (path / "data" / "hi.txt").write_text("hello\n")
    workflow.workspace_path = str(path)
    db.commit()
    return workflow


def _finished_run(db, user, platform, second_backend):  # noqa: F811
    workflow = make_cwl_run(db, user, second_backend)
    runs.start_run(db, workflow, {}, {})
    run = wait_status(db, workflow, {RunStatus.finished, RunStatus.failed}, seconds=180)
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    assert (Path(workflow.workspace_path) / "outputs/second.txt").read_text() == "HELLO\n"
    assert "cwltool | MainThread | INFO | [step second] start" in run.logs
    assert run.job_progress["total"]["total"] == 2
    jobs = jobs_of(db, workflow)
    assert [j.job_name for j in jobs] == ["first", "second"]
    assert all(JobStatus(j.status) == JobStatus.finished for j in jobs)
    return jobs


def test_every_tool_job_runs_in_a_pod_with_its_resources(db, user, platform):  # noqa: F811
    jobs = _finished_run(db, user, platform, "kubernetes")
    assert {j.compute_backend for j in jobs} == {"kubernetes"}
    pods = [job for job in platform.sent("Job")
            if not job["metadata"]["name"].startswith("reana-run-batch-")]
    assert len(pods) == 2
    first = pods[0]["spec"]["template"]["spec"]["containers"][0]
    assert first["resources"] == {"limits": {"memory": "512Mi"},
                                  "requests": {"cpu": "2", "memory": "256Mi"}}
    assert first["image"] == "docker.io/library/python:3.11"


@pytest.mark.slurm
def test_a_slurmcern_step_goes_to_slurm_from_the_batch_pod(db, user, platform,  # noqa: F811
                                                            monkeypatch):
    require_slurm()
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": '["kubernetes","slurmcern"]'})
    first, second = _finished_run(db, user, platform, "slurmcern")
    assert first.compute_backend == "kubernetes"
    assert second.compute_backend.lower().startswith("slurm")
    assert "second-on-" in (second.logs or "")
