"""Snakemake runs on Kubernetes: the batch pod's engine sends each rule's job to a pod, or to Slurm.

Against the Kubernetes double (see tests/test_k8s_e2e.py): the kubernetes run manager
starts the run's batch Job (engine + job controller); each rule's job becomes a pod
with the rule's ``resources:`` (``kubernetes_memory_limit``, ``threads`` as the CPU
request); a rule with ``compute_backend: slurmcern`` goes to the real test Slurm
from the batch pod's job controller.
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

SNAKEFILE = """\
rule all:
    input: "results/b.txt"

rule first:
    output: "results/a.txt"
    container: "docker://docker.io/library/python:3.11"
    resources: kubernetes_memory_limit="256Mi"
    threads: 2
    shell: "echo {config[greeting]} > {output}; echo first-out"

rule second:
    input: "results/a.txt"
    output: "results/b.txt"
    container: "docker://docker.io/library/python:3.11"
    resources: compute_backend="SECOND_BACKEND"
    shell: "tr a-z A-Z < {input} > {output}; echo second-on-$SLURM_JOB_PARTITION"
"""


def make_snakemake_run(db, user, second_backend: str) -> Workflow:
    spec = {"version": "0.9.0", "inputs": {"parameters": {"greeting": "hello"}},
            "workflow": {"type": "snakemake", "file": "Snakefile"}}
    workflow = Workflow(name="k8s-snakemake", owner_id=user.id_, type_="snakemake",
                        run_number_major=1, reana_specification=spec)
    db.add(workflow)
    db.flush()
    path = get_config().shared_volume_path / "users" / str(user.id_) / "workflows" / str(
        workflow.id_)
    path.mkdir(parents=True)
    (path / "Snakefile").write_text(SNAKEFILE.replace("SECOND_BACKEND", second_backend))
    workflow.workspace_path = str(path)
    db.commit()
    return workflow


def _finished_run(db, user, platform, second_backend):  # noqa: F811
    workflow = make_snakemake_run(db, user, second_backend)
    runs.start_run(db, workflow, {"greeting": "bonjour"}, {})
    run = wait_status(db, workflow, {RunStatus.finished, RunStatus.failed}, seconds=180)
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    assert (Path(workflow.workspace_path) / "results/b.txt").read_text() == "BONJOUR\n"
    assert "| snakemake.logging | MainThread | INFO | 3 of 3 steps (100%) done" in run.logs
    assert run.job_progress["total"]["total"] == 2
    jobs = jobs_of(db, workflow)
    assert [j.job_name for j in jobs] == ["first", "second"]
    assert all(JobStatus(j.status) == JobStatus.finished for j in jobs)
    return jobs


def test_every_rule_runs_in_a_pod_with_its_resources(db, user, platform):  # noqa: F811
    jobs = _finished_run(db, user, platform, "kubernetes")
    assert {j.compute_backend for j in jobs} == {"kubernetes"}
    pods = [job for job in platform.sent("Job")
            if not job["metadata"]["name"].startswith("reana-run-batch-")]
    assert len(pods) == 2
    first = pods[0]["spec"]["template"]["spec"]["containers"][0]
    assert first["resources"] == {"limits": {"memory": "256Mi"}, "requests": {"cpu": "2"}}
    assert first["image"] == "docker.io/library/python:3.11"


@pytest.mark.slurm
def test_a_slurmcern_rule_goes_to_slurm_from_the_batch_pod(db, user, platform,  # noqa: F811
                                                            monkeypatch):
    require_slurm()
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": '["kubernetes","slurmcern"]'})
    first, second = _finished_run(db, user, platform, "slurmcern")
    assert first.compute_backend == "kubernetes"
    assert second.compute_backend.lower().startswith("slurm")
    assert "second-on-" in (second.logs or "")
