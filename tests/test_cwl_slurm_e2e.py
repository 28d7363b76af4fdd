"""A CWL step with the hint ``compute_backend: slurmcern`` runs on the real test Slurm.

reana-client 0.9.6 runs a two-step CWL workflow whose first step asks for Slurm
through REANA's ``reana`` hint (with ``slurm_partition``) and whose second step runs
on the default ``local`` backend, against a live platform submitting with ``sbatch``
on this host. Needs ``make slurm-up`` (skipped with the reason otherwise, failing in CI).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import pytest
from reana_testing.slurm import require_slurm

from tests.conftest import start_platform, stop_platform
from tests.test_slurm_e2e import PLATFORM_ENV, _states

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(600)]

WORKFLOW = """\
cwlVersion: v1.2
class: Workflow
$namespaces: {reana: http://reana.io}
inputs:
  numbers: File
outputs:
  total: {type: File, outputSource: add/out}
steps:
  {sort}:
    hints:
      reana: {compute_backend: slurmcern, slurm_partition: short, slurm_time: "10"}
    run: sort.cwl
    in: {numbers: numbers}
    out: [out]
  add:
    run: add.cwl
    in: {sorted: {sort}/out}
    out: [out]
"""

SORT = """\
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: docker.io/library/ubuntu:24.04}
  ShellCommandRequirement: {}
inputs:
  numbers: File
arguments:
  - {valueFrom: 'sort -n $(inputs.numbers.path) > sorted.txt; echo slurm-job=$SLURM_JOB_ID >&2',
     shellQuote: false}
outputs:
  out: {type: File, outputBinding: {glob: sorted.txt}}
"""

ADD = """\
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ShellCommandRequirement: {}
inputs:
  sorted: File
arguments:
  - {valueFrom: 'paste -sd+ $(inputs.sorted.path) | bc > total.txt', shellQuote: false}
outputs:
  out: {type: File, outputBinding: {glob: total.txt}}
"""

REANA_YAML = """\
version: 0.9.0
inputs:
  files: [data/numbers.txt]
  directories: [workflow]
  parameters:
    input: workflow/job.yml
workflow:
  type: cwl
  file: workflow/main.cwl
outputs:
  files: [outputs/total.txt]
"""


@pytest.fixture(scope="module")
def slurm_platform(tmp_path_factory):
    require_slurm()
    # reana-client 0.9.6 packs CWL workflows with the `cwltool` it finds on PATH.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        platform = start_platform(tmp_path_factory.mktemp("cwlslurm") / "reana-home",
                                  "embedded", dict(PLATFORM_ENV))
        yield platform
        stop_platform(platform)


def test_a_step_with_the_slurmcern_hint_runs_on_slurm(slurm_platform, client_python, tmp_path):
    sort = f"sort_{uuid.uuid4().hex[:6]}"
    folder = tmp_path / "analysis"
    (folder / "data").mkdir(parents=True)
    (folder / "workflow").mkdir()
    (folder / "data/numbers.txt").write_text("3\n1\n2\n")
    (folder / "workflow/main.cwl").write_text(WORKFLOW.replace("{sort}", sort))
    (folder / "workflow/sort.cwl").write_text(SORT)
    (folder / "workflow/add.cwl").write_text(ADD)
    (folder / "workflow/job.yml").write_text("numbers: {class: File, path: data/numbers.txt}\n")
    (folder / "reana.yaml").write_text(REANA_YAML)
    name = f"cwlslurm{uuid.uuid4().hex[:6]}"
    slurm_platform.client(client_python, "run", "-w", name, cwd=folder)
    body = slurm_platform.wait_status(name, seconds=300)
    assert body["status"] == "finished", slurm_platform.client(
        client_python, "logs", "-w", name, cwd=folder).stdout
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "outputs/total.txt",
                          "-o", str(out), cwd=folder)
    assert (out / "outputs/total.txt").read_text() == "6\n"
    assert _states(sort, ["COMPLETED"]) == ["COMPLETED"]
    logs = slurm_platform.api("GET", f"/api/workflows/{name}/logs").json()
    jobs = {job["job_name"]: job for job in json.loads(logs["logs"])["job_logs"].values()}
    assert jobs[sort]["compute_backend"].lower().startswith("slurm")
    assert "slurm-job=" in jobs[sort]["logs"]
    assert jobs["add"]["compute_backend"].lower() == "local"
