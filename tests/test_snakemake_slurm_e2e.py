"""A Snakemake rule with ``compute_backend: slurmcern`` runs on the real test Slurm.

reana-client 0.9.6 runs a Snakefile whose first rule asks for Slurm through its
``resources:`` (with ``slurm_partition``) and whose second rule runs on the default
``local`` backend, against a live platform submitting with ``sbatch`` on this host.
Needs ``make slurm-up`` (skipped with the reason otherwise, failing in CI).
"""

from __future__ import annotations

import json
import uuid

import pytest
from reana_testing.slurm import require_slurm

from tests.conftest import start_platform, stop_platform
from tests.test_slurm_e2e import PLATFORM_ENV, _states

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(600)]

SNAKEFILE = """\
rule all:
    input: "results/total.txt"

rule {sort}:
    input: "data/numbers.txt"
    output: "results/sorted.txt"
    container: "docker://docker.io/library/ubuntu:24.04"
    resources:
        compute_backend="slurmcern",
        slurm_partition="short",
        slurm_time="10"
    shell: "sort -n {{input}} > {{output}}; echo slurm-job=$SLURM_JOB_ID >&2"

rule {total}:
    input: "results/sorted.txt"
    output: "results/total.txt"
    shell: "paste -sd+ {{input}} | bc > {{output}}"
"""

REANA_YAML = """\
version: 0.9.0
inputs:
  files: [Snakefile, data/numbers.txt]
workflow:
  type: snakemake
  file: Snakefile
outputs:
  files: [results/total.txt]
"""


@pytest.fixture(scope="module")
def slurm_platform(tmp_path_factory):
    require_slurm()
    platform = start_platform(tmp_path_factory.mktemp("smkslurm") / "reana-home", "embedded",
                              dict(PLATFORM_ENV))
    yield platform
    stop_platform(platform)


def test_a_rule_with_compute_backend_slurmcern_runs_on_slurm(slurm_platform, client_python,
                                                              tmp_path):
    sort, total = f"sort_{uuid.uuid4().hex[:6]}", f"total_{uuid.uuid4().hex[:6]}"
    folder = tmp_path / "analysis"
    (folder / "data").mkdir(parents=True)
    (folder / "data/numbers.txt").write_text("3\n1\n2\n")
    (folder / "Snakefile").write_text(SNAKEFILE.format(sort=sort, total=total))
    (folder / "reana.yaml").write_text(REANA_YAML)
    name = f"smkslurm{uuid.uuid4().hex[:6]}"
    slurm_platform.client(client_python, "run", "-w", name, cwd=folder)
    body = slurm_platform.wait_status(name, seconds=300)
    assert body["status"] == "finished", slurm_platform.client(
        client_python, "logs", "-w", name, cwd=folder).stdout
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=folder)
    assert (out / "results/total.txt").read_text() == "6\n"
    assert _states(sort, ["COMPLETED"]) == ["COMPLETED"]
    assert _states(total, [], seconds=0) == []
    logs = slurm_platform.api("GET", f"/api/workflows/{name}/logs").json()
    jobs = {job["job_name"]: job for job in json.loads(logs["logs"])["job_logs"].values()}
    assert jobs[sort]["compute_backend"].lower().startswith("slurm")
    assert jobs[sort]["logs"].startswith("[reana] running directly on node")
    assert "slurm-job=" in jobs[sort]["logs"]
    assert jobs[total]["compute_backend"].lower() == "local"
