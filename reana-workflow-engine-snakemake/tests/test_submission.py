"""A Snakemake job as the job controller receives it; a run's inputs (pure functions)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from reana_workflow_engine_snakemake.inputs import InvalidInputs, workflow_inputs
from reana_workflow_engine_snakemake.submission import (
    DEFAULT_IMAGE,
    UnsupportedJob,
    hints_of,
    image_of,
    job_spec,
)


def _job(shellcmd="echo hi > out.txt", name="greet", resources=None, threads=1,
         image="docker://docker.io/library/bash:5.2", **kinds):
    flags = {"is_run": False, "is_script": False, "is_notebook": False, "is_wrapper": False}
    flags.update(kinds)
    return SimpleNamespace(shellcmd=shellcmd, name=name, rule=SimpleNamespace(name=name),
                           resources=resources or {}, threads=threads,
                           container_img_url=image, is_group=lambda: False, **flags)


def test_job_spec_runs_the_shell_command_in_the_workspace():
    spec = job_spec(_job(), "/ws/my run")
    assert spec.cmd == "cd '/ws/my run' && echo hi > out.txt"
    assert (spec.image, spec.name, spec.command_for_display) == \
        ("docker.io/library/bash:5.2", "greet", "echo hi > out.txt")
    assert image_of(_job(image=None)) == DEFAULT_IMAGE


def test_reana_resources_become_job_fields():
    job = _job(resources={"compute_backend": "slurmcern", "slurm_partition": "short",
                          "kubernetes_memory_limit": "1Gi", "kubernetes_uid": "1001",
                          "kubernetes_job_timeout": 60, "unpacked_image": True,
                          "mem_mb": 100, "tmpdir": "<TBD>", "_cores": 4},
               threads=4)
    assert hints_of(job) == {
        "compute_backend": "slurmcern", "slurm_partition": "short",
        "kubernetes_memory_limit": "1Gi", "kubernetes_uid": 1001,
        "kubernetes_job_timeout": 60, "unpacked_img": True, "kubernetes_cpu_request": "4"}
    assert hints_of(_job(resources={"kubernetes_cpu_request": "500m"}, threads=8)) == \
        {"kubernetes_cpu_request": "500m"}


@pytest.mark.parametrize(("kind", "word"), [("is_run", "run:"), ("is_script", "script:")])
def test_rules_without_a_shell_command_run_snakemake_in_the_job(kind, word):
    job = _job(shellcmd=None, **{kind: True})
    spec = job_spec(job, "/ws", lambda j: "python -m snakemake --target-jobs 'greet:' ")
    assert spec.cmd == "cd /ws && python -m snakemake --target-jobs 'greet:'"
    assert spec.command_for_display.startswith(f"greet: {word} rule run by Snakemake in the job")
    assert spec.image == "docker.io/library/bash:5.2"
    with pytest.raises(UnsupportedJob, match=f"Rule greet: {word} rules need Snakemake"):
        job_spec(job, "/ws")


def _run(tmp_path, workflow_file="Snakefile", parameters=None, **options):
    (tmp_path / "Snakefile").write_text("rule all:\n    shell: 'true'\n")
    return SimpleNamespace(workspace=str(tmp_path), workflow_file=workflow_file,
                           parameters=parameters or {},
                           option=lambda name, default=None: options.get(name, default))


def test_inputs_config_targets_jobs_and_report(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/inputs.yaml").write_text("a: 1\n")
    inputs = workflow_inputs(_run(tmp_path, parameters={"input": "conf/inputs.yaml", "x": "2"},
                                  targets="results/a.txt, all", jobs="4", report="true"))
    assert inputs.snakefile == tmp_path / "Snakefile"
    assert inputs.configfiles == (tmp_path / "conf/inputs.yaml",)
    assert inputs.config == {"x": "2"}
    assert inputs.targets == {"results/a.txt", "all"}
    assert inputs.jobs == 4
    assert inputs.report == tmp_path / "report.html"
    plain = workflow_inputs(_run(tmp_path, parameters={"input": "not a file", "y": 1}))
    assert plain.config == {"input": "not a file", "y": 1} and plain.configfiles == ()
    assert plain.targets == frozenset() and plain.jobs == 300
    assert plain.report == tmp_path / "report.html"  # always, as REANA does
    assert workflow_inputs(_run(tmp_path, report="off")).report is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"workflow_file": "../Snakefile"}, "must not contain '..'"),
    ({"workflow_file": "nope/Snakefile"}, "does not exist in the workspace"),
    ({"jobs": "0"}, "jobs must be a positive integer"),
    ({"report": "report.pdf"}, "report must name an .html or .zip file"),
    ({"report": "/etc/report.html"}, "must be relative to the workspace"),
])
def test_unusable_inputs_are_refused(tmp_path, kwargs, message):
    with pytest.raises(InvalidInputs, match=message):
        workflow_inputs(_run(tmp_path, **kwargs))
