"""How a cwltool job becomes a job-controller request (no processes)."""

from __future__ import annotations

import shlex
import subprocess
from types import SimpleNamespace

import pytest
from cwltool.job import CommandLineJob
from reana_workflow_engine_cwl.executor import parallel_jobs
from reana_workflow_engine_cwl.job_runner import (
    DEFAULT_IMAGE,
    exit_status,
    is_reana_hint,
    job_script,
    job_spec,
)


def make_job(requirements=(), hints=(), resources=None, command=("echo", "a b")):
    builder = SimpleNamespace(resources=resources or {"cores": 1, "ram": 256})
    job = CommandLineJob(builder, {}, None, list(requirements), list(hints), "step1")
    job.command_line = list(command)
    return job


def test_the_script_runs_the_command_line_as_cwltool_would(tmp_path):
    (tmp_path / "in.txt").write_text("x y\n")
    script = job_script(["sh", "-c", 'echo "$GREETING" $HOME; cat; echo err >&2', "it's"],
                        str(tmp_path), {"GREETING": "hi there", "HOME": str(tmp_path),
                                        "PATH": "/engine/bin"},
                        str(tmp_path / "in.txt"), str(tmp_path / "o u t"),
                        str(tmp_path / "err.txt"))
    assert "/engine/bin" not in script
    subprocess.run(["sh", "-c", script], check=True, cwd="/")
    assert (tmp_path / "o u t").read_text() == f"hi there {tmp_path}\nx y\n"
    assert (tmp_path / "err.txt").read_text() == "err\n"
    assert script.startswith(f"cd {shlex.quote(str(tmp_path))} && ")


def test_image_hints_and_resources_of_a_job():
    job = make_job(
        requirements=[{"class": "DockerRequirement", "dockerPull": "python:3.12"},
                      {"class": "ResourceRequirement", "coresMin": 2, "ramMin": 1000,
                       "ramMax": 2000}],
        hints=[{"class": "reana", "compute_backend": "slurm", "slurm_partition": "short",
                "unpacked_image": True}],
        resources={"cores": 2, "ram": 1000})
    spec = job_spec(job)
    assert spec.image == "python:3.12"
    assert spec.display == "echo 'a b'"
    assert spec.hints == {"kubernetes_cpu_request": "2", "kubernetes_memory_request": "1000Mi",
                          "kubernetes_memory_limit": "1000Mi", "compute_backend": "slurm",
                          "slurm_partition": "short", "unpacked_image": True}
    plain = job_spec(make_job())
    assert plain.image == DEFAULT_IMAGE and plain.hints == {}


def test_reana_hints_with_or_without_their_namespace():
    for class_ in ("reana", "http://reana.io", "http://reana.io#reana",
                   "file:///ws/cwl/workflow.json#reana", "file:///ws/cwl/reana"):
        assert is_reana_hint(class_), class_
    for class_ in ("ResourceRequirement", "file:///ws/reanax", "http://other.org#reana2"):
        assert not is_reana_hint(class_), class_


def test_success_follows_the_tools_codes():
    job = make_job()
    assert exit_status(job, 0) and not exit_status(job, 1)
    job.successCodes, job.permanentFailCodes = [1], [0]
    assert exit_status(job, 1) and not exit_status(job, 0)


def test_parallel_option():
    assert parallel_jobs(None) == 10 and parallel_jobs("3") == 3
    for bad in ("0", "x", "1000"):
        with pytest.raises(ValueError, match="PARALLEL must be"):
            parallel_jobs(bad)
