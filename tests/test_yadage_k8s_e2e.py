"""Yadage runs on Kubernetes: the batch pod's engine sends each stage's job to a pod, or to Slurm.

Against the Kubernetes double (see tests/test_k8s_e2e.py): the kubernetes run manager
starts the run's batch Job (the yadage engine, from the engines' venv, and the job
controller); a stage's job becomes a pod with the limits of its ``environment.resources``;
a stage with ``compute_backend: slurmcern`` goes to the real test Slurm from the batch
pod's job controller.
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

WORKFLOW = """\
stages:
  - name: count
    dependencies: [init]
    scheduler:
      scheduler_type: singlestep-stage
      parameters:
        inputfile: {step: init, output: inputfile}
        outputfile: "{workdir}/count.txt"
      step:
        process:
          process_type: string-interpolated-cmd
          cmd: 'wc -l < "{inputfile}" > "{outputfile}" && echo counted'
        publisher:
          publisher_type: frompar-pub
          outputmap:
            outputfile: outputfile
        environment:
          environment_type: docker-encapsulated
          image: docker.io/library/python
          imagetag: "3.11"
          resources:
            - kubernetes_memory_limit: 256Mi
  - name: double
    dependencies: [count]
    scheduler:
      scheduler_type: singlestep-stage
      parameters:
        inputfile: {step: count, output: outputfile}
        outputfile: "{workdir}/double.txt"
      step:
        process:
          process_type: interpolated-script-cmd
          interpreter: sh
          script: |
            echo $(( $(cat "{inputfile}") * 2 )) > "{outputfile}"
            echo "double-on-${{SLURM_JOB_PARTITION:-pod}}"
        publisher:
          publisher_type: frompar-pub
          outputmap:
            outputfile: outputfile
        environment:
          environment_type: docker-encapsulated
          image: docker.io/library/python
          imagetag: "3.11"
          resources:
            - compute_backend: SECOND_BACKEND
"""


def _finished_run(db, user, second_backend: str):
    spec = {"version": "0.9.0", "inputs": {"parameters": {"inputfile": "data/names.txt"}},
            "workflow": {"type": "yadage", "file": "workflow.yaml", "specification": None}}
    workflow = Workflow(name="k8s-yadage", owner_id=user.id_, type_="yadage",
                        run_number_major=1, reana_specification=spec)
    db.add(workflow)
    db.flush()
    workspace = get_config().shared_volume_path / "users" / str(user.id_) / "workflows" / str(
        workflow.id_)
    (workspace / "data").mkdir(parents=True)
    (workspace / "data" / "names.txt").write_text("a\nb\nc\n")
    (workspace / "workflow.yaml").write_text(WORKFLOW.replace("SECOND_BACKEND", second_backend))
    workflow.workspace_path = str(workspace)
    db.commit()
    runs.start_run(db, workflow, {}, {})
    run = wait_status(db, workflow, {RunStatus.finished, RunStatus.failed}, seconds=180)
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    assert (Path(workspace) / "double" / "double.txt").read_text() == "6\n"
    assert "| adage | MainThread | INFO | workflow completed successfully." in run.logs
    assert run.job_progress["finished"]["total"] == run.job_progress["total"]["total"] == 2
    jobs = jobs_of(db, workflow)
    assert [j.job_name for j in jobs] == ["count", "double"]
    assert all(JobStatus(j.status) == JobStatus.finished for j in jobs)
    return jobs


def test_every_stage_runs_in_a_pod_with_its_resources(db, user, platform):  # noqa: F811
    jobs = _finished_run(db, user, "kubernetes")
    assert {j.compute_backend for j in jobs} == {"kubernetes"}
    sent = platform.sent("Job")
    assert sent[0]["metadata"]["name"].startswith("reana-run-batch-")
    count = sent[1]["spec"]["template"]["spec"]["containers"][0]
    assert count["resources"] == {"limits": {"memory": "256Mi"}}
    assert count["image"] == "docker.io/library/python:3.11"


@pytest.mark.slurm
def test_a_slurmcern_stage_goes_to_slurm_from_the_batch_pod(db, user, platform,  # noqa: F811
                                                             monkeypatch):
    require_slurm()
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": '["kubernetes","slurmcern"]'})
    count, double = _finished_run(db, user, "slurmcern")
    assert count.compute_backend == "kubernetes"
    assert double.compute_backend.lower().startswith("slurm")
    assert "double-on-" in (double.logs or "") and "double-on-pod" not in (double.logs or "")
