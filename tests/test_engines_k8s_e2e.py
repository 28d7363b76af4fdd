"""Runs of every workflow engine on Kubernetes: each job goes to a pod, or to Slurm.

Against the Kubernetes double (see tests/test_k8s_e2e.py): the kubernetes run manager
starts the run's batch Job (engine + job controller); each job of a two-step run
becomes a pod in its step's image with its step's resources (CWL: the tool's
DockerRequirement, ResourceRequirement and ``reana`` hints; Snakemake: the rule's
``container:``, ``resources:`` and ``threads``; yadage: the stage's
``environment.resources``, the engine from the engines' venv). A second step whose
engine-specific hint says ``compute_backend: slurmcern`` goes to the real test Slurm
from the batch pod's job controller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reana_db.enums import JobStatus, RunStatus
from reana_testing.pytest_plugin import apply_env
from reana_testing.slurm import require_slurm
from reana_workflow_controller import runs

from tests.conftest import SQLITE, jobs_of, new_run_row, wait_run_status, yadage_stage

pytestmark = [pytest.mark.slow, SQLITE]
IMAGE = "docker.io/library/python:3.11"


# -- CWL ---------------------------------------------------------------------

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


def cwl_run(db, user, second_backend: str):
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
    spec = {"version": "0.9.0",
            "inputs": {"parameters": {"text": {"class": "File", "location": "data/hi.txt"}}},
            "workflow": {"type": "cwl", "file": "main.cwl",
                         "specification": {"cwlVersion": "v1.2",
                                           "$graph": [main, first, second]}}}
    return new_run_row(db, user, "k8s-cwl", "cwl", spec, {"data/hi.txt": "hello\n"})


# -- Snakemake ---------------------------------------------------------------

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


def snakemake_run(db, user, second_backend: str):
    spec = {"version": "0.9.0", "inputs": {"parameters": {"greeting": "hello"}},
            "workflow": {"type": "snakemake", "file": "Snakefile"}}
    return new_run_row(db, user, "k8s-snakemake", "snakemake", spec,
                       {"Snakefile": SNAKEFILE.replace("SECOND_BACKEND", second_backend)})


# -- yadage ------------------------------------------------------------------


def yadage_run(db, user, second_backend: str):
    stages = [
        yadage_stage("count", "init", {"inputfile": {"step": "init", "output": "inputfile"},
                                       "outputfile": "{workdir}/count.txt"},
                     {"process_type": "string-interpolated-cmd",
                      "cmd": 'wc -l < "{inputfile}" > "{outputfile}" && echo counted'},
                     IMAGE, [{"kubernetes_memory_limit": "256Mi"}]),
        yadage_stage("double", "count", {"inputfile": {"step": "count", "output": "outputfile"},
                                         "outputfile": "{workdir}/double.txt"},
                     {"process_type": "interpolated-script-cmd", "interpreter": "sh",
                      "script": 'echo $(( $(cat "{inputfile}") * 2 )) > "{outputfile}"\n'
                                'echo "double-on-${{SLURM_JOB_PARTITION:-pod}}"\n'},
                     IMAGE, [{"compute_backend": second_backend}]),
    ]
    spec = {"version": "0.9.0", "inputs": {"parameters": {"inputfile": "data/names.txt"}},
            "workflow": {"type": "yadage", "file": "workflow.yaml", "specification": None}}
    return new_run_row(db, user, "k8s-yadage", "yadage", spec, {
        "data/names.txt": "a\nb\nc\n", "workflow.yaml": json.dumps({"stages": stages})})


# -- the scenario, for every engine ------------------------------------------


@dataclass
class Engine:
    make_run: Callable
    parameters: dict
    output: tuple[str, str]
    """A file the run writes and its content."""
    log_line: str
    """A line of the engine's own log."""
    job_names: list[str]
    first_resources: dict
    """The resources of the first job's pod."""
    slurm_marker: str
    """What the second job prints, followed by its Slurm partition."""
    checks: list[Callable] = field(default_factory=list)


def _all_reported_finished(run):
    assert run.job_progress["finished"]["total"] == 2


ENGINES = {
    "cwl": Engine(cwl_run, {}, ("outputs/second.txt", "HELLO\n"),
                  "cwltool | MainThread | INFO | [step second] start", ["first", "second"],
                  {"limits": {"memory": "512Mi"}, "requests": {"cpu": "2", "memory": "256Mi"}},
                  "second-on-"),
    "snakemake": Engine(snakemake_run, {"greeting": "bonjour"}, ("results/b.txt", "BONJOUR\n"),
                        "| snakemake.logging | MainThread | INFO | 3 of 3 steps (100%) done",
                        ["first", "second"],
                        {"limits": {"memory": "256Mi"}, "requests": {"cpu": "2"}}, "second-on-"),
    "yadage": Engine(yadage_run, {}, ("double/double.txt", "6\n"),
                     "| adage | MainThread | INFO | workflow completed successfully.",
                     ["count", "double"], {"limits": {"memory": "256Mi"}}, "double-on-",
                     [_all_reported_finished]),
}


@pytest.fixture(params=sorted(ENGINES))
def engine(request) -> Engine:
    return ENGINES[request.param]


def _finished_run(db, user, engine: Engine, second_backend: str):
    workflow = engine.make_run(db, user, second_backend)
    runs.start_run(db, workflow, engine.parameters, {})
    run = wait_run_status(db, workflow, {RunStatus.finished, RunStatus.failed}, seconds=180)
    assert RunStatus(run.status) == RunStatus.finished, run.logs
    relative, content = engine.output
    assert (Path(workflow.workspace_path) / relative).read_text() == content
    assert engine.log_line in run.logs
    assert run.job_progress["total"]["total"] == 2
    for check in engine.checks:
        check(run)
    jobs = jobs_of(db, workflow)
    assert [j.job_name for j in jobs] == engine.job_names
    assert all(JobStatus(j.status) == JobStatus.finished for j in jobs)
    return jobs


def test_every_job_runs_in_a_pod_with_its_resources(db, user, k8s_platform, engine):
    jobs = _finished_run(db, user, engine, "kubernetes")
    assert {j.compute_backend for j in jobs} == {"kubernetes"}
    sent = k8s_platform.sent("Job")
    assert sent[0]["metadata"]["name"].startswith("reana-run-batch-")
    pods = [job for job in sent if not job["metadata"]["name"].startswith("reana-run-batch-")]
    assert len(pods) == 2
    first = pods[0]["spec"]["template"]["spec"]["containers"][0]
    assert first["resources"] == engine.first_resources
    assert first["image"] == IMAGE


@pytest.mark.slurm
def test_a_slurmcern_job_goes_to_slurm_from_the_batch_pod(db, user, k8s_platform, engine,
                                                           monkeypatch):
    require_slurm()
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": '["kubernetes","slurmcern"]'})
    first, second = _finished_run(db, user, engine, "slurmcern")
    assert first.compute_backend == "kubernetes"
    assert second.compute_backend.lower().startswith("slurm")
    logs = second.logs or ""
    assert engine.slurm_marker in logs and f"{engine.slurm_marker}pod" not in logs
