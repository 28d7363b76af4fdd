"""Steps that go to the real test Slurm, end to end through reana-client 0.9.6.

Two live platforms (``scripts/up.sh``): one submitting with ``sbatch`` on this host
(PostgreSQL + RabbitMQ profile), one reaching the login node 127.0.0.1:2222 over
SSH with the user's own secrets and staging the workspace over SFTP (embedded
profile). Serial steps use REANA's backend name ``slurmcern``; a yadage stage, a
CWL step (the ``reana`` hint) and a Snakemake rule (``resources:``) ask for it in
their engine's way; steps without one run on the default ``local`` backend.
Needs ``make slurm-up`` (skipped with the reason otherwise, failing in CI).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
from reana_testing.slurm import require_slurm, require_ssh_login, slurm_jobs, slurm_states

from tests.conftest import start_platform, stop_platform, yadage_stage

# generous limits: the first test also starts the platform, and CI machines may be loaded
pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(900)]
RUN_SECONDS = 300
UBUNTU = "docker.io/library/ubuntu:20.04"

PLATFORM_ENV = {
    "REANA_COMPUTE_BACKENDS": '["local","slurm","slurmcern"]',
    "REANA_DEFAULT_COMPUTE_BACKEND": "local",
    "REANA_SLURM_MONITOR_INTERVAL": "0.5",
}


@pytest.fixture(scope="module")
def slurm_platform(tmp_path_factory):
    """A live platform whose Slurm steps are submitted on this host."""
    require_slurm()
    platform = start_platform(tmp_path_factory.mktemp("slurm") / "reana-home", "services",
                              dict(PLATFORM_ENV))
    yield platform
    stop_platform(platform)


@pytest.fixture(scope="module")
def ssh_platform(tmp_path_factory):
    """A live platform whose Slurm steps go over SSH to the test login node."""
    login = require_ssh_login()
    extra = dict(PLATFORM_ENV, SLURM_HOSTNAME=login.host, SLURM_CLUSTER_PORT=str(login.port))
    platform = start_platform(tmp_path_factory.mktemp("ssh") / "reana-home", "embedded", extra)
    platform.login = login
    yield platform
    stop_platform(platform)


def _analysis(tmp_path: Path, steps: list[dict], outputs: list[str]) -> Path:
    """A folder with ``reana.yaml`` (serial) and one input file."""
    folder = tmp_path / f"analysis-{uuid.uuid4().hex[:6]}"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "numbers.txt").write_text("3\n1\n2\n")
    spec = {
        "version": "0.9.0",
        "inputs": {"files": ["data/numbers.txt"]},
        "workflow": {"type": "serial", "specification": {"steps": steps}},
        "outputs": {"files": outputs},
    }
    (folder / "reana.yaml").write_text(json.dumps(spec, indent=2))  # JSON is valid YAML
    return folder


def _step(name: str, command: str, slurm: bool = True, **extra) -> dict:
    step = {"name": name, "environment": UBUNTU,
            "commands": [command], **extra}
    if slurm:
        step["compute_backend"] = "slurmcern"
    return step


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _job_logs(platform, workflow: str) -> dict:
    body = platform.api("GET", f"/api/workflows/{workflow}/logs").json()
    return json.loads(body["logs"])["job_logs"]


def _run(platform, client_python, folder: Path, name: str, seconds: float = RUN_SECONDS) -> dict:
    platform.client(client_python, "run", "-w", name, cwd=folder)
    return platform.wait_status(name, seconds=seconds)


def test_serial_run_on_slurm_finishes_with_outputs(slurm_platform, client_python, tmp_path):
    sort, total = _unique("sort"), _unique("total")
    folder = _analysis(tmp_path, [
        _step(sort, "mkdir -p results && sort -n data/numbers.txt > results/sorted.txt",
              slurm_partition="short", slurm_time="10"),
        _step(total, "paste -sd+ results/sorted.txt | bc > results/total.txt"),
    ], ["results/sorted.txt", "results/total.txt"])
    name = _unique("slurmrun")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "finished", body
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=folder)
    assert (out / "results" / "sorted.txt").read_text() == "1\n2\n3\n"
    assert (out / "results" / "total.txt").read_text() == "6\n"
    for step in (sort, total):
        assert slurm_states(step, ["COMPLETED"]) == ["COMPLETED"], step
    logs = _job_logs(slurm_platform, name)
    assert len(logs) == 2
    for job in logs.values():
        assert job["status"] == "finished"
        assert job["compute_backend"].lower().startswith("slurm")
        assert job["logs"].startswith("[reana] running directly on node")


def test_run_mixing_local_and_slurm_steps(slurm_platform, client_python, tmp_path):
    first, second, third = _unique("loc"), _unique("slu"), _unique("loc")
    folder = _analysis(tmp_path, [
        # '$$' is a literal '$' in serial commands (REANA's parameter expansion)
        _step(first, "mkdir -p results && echo local-$$(whoami) > results/a.txt", slurm=False),
        _step(second, "cat results/a.txt > results/b.txt && echo $$SLURM_JOB_ID >> results/b.txt"),
        _step(third, "wc -l < results/b.txt > results/c.txt", slurm=False),
    ], ["results/c.txt"])
    name = _unique("mixed")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "finished", body
    assert slurm_states(second, ["COMPLETED"]) == ["COMPLETED"]
    slurm_id = slurm_jobs(second)[0][0]
    assert slurm_jobs(first) == [] and slurm_jobs(third) == []
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=folder)
    assert (out / "results" / "c.txt").read_text().strip() == "2"
    files = slurm_platform.client(client_python, "ls", "-w", name, cwd=folder).stdout
    assert "results/b.txt" in files
    (job_b,) = [job for job in _job_logs(slurm_platform, name).values()
                if job["job_name"] == second]
    assert job_b["logs"].startswith("[reana] running directly on node")
    assert slurm_id


def test_failing_slurm_step_fails_the_run_with_its_exit_code(slurm_platform, client_python,
                                                             tmp_path):
    broken, never = _unique("broken"), _unique("never")
    folder = _analysis(tmp_path, [
        _step(broken, "echo about-to-fail >&2; exit 3"),
        _step(never, "touch never.txt"),
    ], [])
    name = _unique("failing")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "failed", body
    assert slurm_states(broken, ["FAILED"]) == ["FAILED"]
    assert slurm_jobs(never) == []
    (job,) = _job_logs(slurm_platform, name).values()
    assert job["status"] == "failed"
    assert "about-to-fail" in job["logs"]
    assert "exit code 3" in job["logs"]


def test_stop_cancels_the_slurm_jobs(slurm_platform, client_python, tmp_path):
    sleeper = _unique("sleeper")
    folder = _analysis(tmp_path, [_step(sleeper, "echo sleeping; sleep 300")], [])
    name = _unique("stopme")
    slurm_platform.client(client_python, "run", "-w", name, cwd=folder)
    deadline = time.monotonic() + RUN_SECONDS
    while [state for _, state in slurm_jobs(sleeper)] != ["RUNNING"]:
        assert time.monotonic() < deadline, slurm_jobs(sleeper)
        time.sleep(0.2)
    slurm_platform.client(client_python, "stop", "-w", name, "--force", cwd=folder)
    assert slurm_platform.wait_status(name, seconds=RUN_SECONDS)["status"] == "stopped"
    assert slurm_states(sleeper, ["CANCELLED"]) == ["CANCELLED"]


def test_ssh_mode_run_with_staging_mixing_local_and_slurm(ssh_platform, client_python,
                                                          tmp_path):
    login = ssh_platform.login
    key = tmp_path / "SLURM_SSH_PRIVATE_KEY"
    key.write_text(login.private_key)
    ssh_platform.client(client_python, "secrets-add", "--env", f"SLURM_USER={login.user}",
                        "--file", str(key), "--overwrite")
    first, second, broken = _unique("prep"), _unique("remote"), _unique("rbroken")
    folder = _analysis(tmp_path, [
        _step(first, "mkdir -p results && sort -n data/numbers.txt > results/sorted.txt",
              slurm=False),
        _step(second, "whoami > results/who.txt && tac results/sorted.txt > results/rev.txt"),
    ], ["results/rev.txt"])
    name = _unique("sshrun")
    try:
        body = _run(ssh_platform, client_python, folder, name)
        assert body["status"] == "finished", body
        out = tmp_path / "out"
        ssh_platform.client(client_python, "download", "-w", name, "results/who.txt",
                            "results/rev.txt", "-o", str(out), cwd=folder)
        assert (out / "results" / "who.txt").read_text().strip() == login.user
        assert (out / "results" / "rev.txt").read_text() == "3\n2\n1\n"
        assert slurm_states(second, ["COMPLETED"]) == ["COMPLETED"]

        failing = _analysis(tmp_path, [_step(broken, "exit 4")], [])
        failed_name = _unique("sshfail")
        assert _run(ssh_platform, client_python, failing, failed_name)["status"] == "failed"
        (job,) = _job_logs(ssh_platform, failed_name).values()
        assert "exit code 4" in job["logs"]
    finally:
        shutil.rmtree(Path(login.home) / "reana", ignore_errors=True)


def test_yadage_stage_with_compute_backend_slurmcern(slurm_platform, client_python, tmp_path):
    """A yadage stage's ``environment.resources`` sends its job to Slurm; the others stay local."""
    local, remote = _unique("ysort"), _unique("yslurm")
    command = {"process_type": "string-interpolated-cmd"}
    stages = [
        yadage_stage(local, "init", {"inputfile": {"step": "init", "output": "numbers"},
                                     "outputfile": "{workdir}/out.txt"},
                     dict(command, cmd='sort -n "{inputfile}" > "{outputfile}"'), UBUNTU),
        yadage_stage(remote, local, {"inputfile": {"step": local, "output": "outputfile"},
                                     "outputfile": "{workdir}/out.txt"},
                     dict(command, cmd='(cat "{inputfile}"; echo slurm-$SLURM_JOB_ID) > '
                                       '"{outputfile}"'),
                     UBUNTU, [{"compute_backend": "slurmcern"}, {"slurm_time": "10"}]),
    ]
    folder = tmp_path / "yadage-slurm"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "numbers.txt").write_text("3\n1\n2\n")
    (folder / "workflow.yaml").write_text(json.dumps({"stages": stages}))  # JSON is YAML
    (folder / "reana.yaml").write_text(json.dumps({
        "version": "0.9.0",
        "inputs": {"files": ["data/numbers.txt", "workflow.yaml"],
                   "parameters": {"numbers": "data/numbers.txt"}},
        "workflow": {"type": "yadage", "file": "workflow.yaml"},
        "outputs": {"files": [f"{remote}/out.txt"]},
    }))
    name = _unique("yadageslurm")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "finished", _job_logs(slurm_platform, name)
    assert slurm_states(remote, ["COMPLETED"]) == ["COMPLETED"]
    assert slurm_jobs(local) == []
    slurm_id = slurm_jobs(remote)[0][0]
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=folder)
    assert (out / remote / "out.txt").read_text() == f"1\n2\n3\nslurm-{slurm_id}\n"
    backends = {job["job_name"]: job["compute_backend"]
                for job in _job_logs(slurm_platform, name).values()}
    assert backends[remote].lower().startswith("slurm") and backends[local] == "local"


# -- CWL and Snakemake steps on Slurm (yadage: above) ------------------------

CWL_WORKFLOW = """\
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

CWL_SORT = """\
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

CWL_ADD = """\
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

CWL_REANA_YAML = """\
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


def test_a_cwl_step_with_the_slurmcern_hint_runs_on_slurm(slurm_platform, client_python,
                                                          tmp_path, monkeypatch):
    """reana-client 0.9.6 packs CWL workflows with the `cwltool` it finds on PATH."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    sort = _unique("sort_")
    folder = tmp_path / "analysis"
    (folder / "data").mkdir(parents=True)
    (folder / "workflow").mkdir()
    (folder / "data/numbers.txt").write_text("3\n1\n2\n")
    (folder / "workflow/main.cwl").write_text(CWL_WORKFLOW.replace("{sort}", sort))
    (folder / "workflow/sort.cwl").write_text(CWL_SORT)
    (folder / "workflow/add.cwl").write_text(CWL_ADD)
    (folder / "workflow/job.yml").write_text("numbers: {class: File, path: data/numbers.txt}\n")
    (folder / "reana.yaml").write_text(CWL_REANA_YAML)
    name = _unique("cwlslurm")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "finished", _job_logs(slurm_platform, name)
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "outputs/total.txt",
                          "-o", str(out), cwd=folder)
    assert (out / "outputs/total.txt").read_text() == "6\n"
    assert slurm_states(sort, ["COMPLETED"]) == ["COMPLETED"]
    jobs = {job["job_name"]: job for job in _job_logs(slurm_platform, name).values()}
    assert jobs[sort]["compute_backend"].lower().startswith("slurm")
    assert "slurm-job=" in jobs[sort]["logs"]
    assert jobs["add"]["compute_backend"].lower() == "local"


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

SNAKEMAKE_REANA_YAML = """\
version: 0.9.0
inputs:
  files: [Snakefile, data/numbers.txt]
workflow:
  type: snakemake
  file: Snakefile
outputs:
  files: [results/total.txt]
"""


def test_a_snakemake_rule_with_compute_backend_slurmcern_runs_on_slurm(slurm_platform,
                                                                        client_python, tmp_path):
    sort, total = _unique("sort_"), _unique("total_")
    folder = tmp_path / "analysis"
    (folder / "data").mkdir(parents=True)
    (folder / "data/numbers.txt").write_text("3\n1\n2\n")
    (folder / "Snakefile").write_text(SNAKEFILE.format(sort=sort, total=total))
    (folder / "reana.yaml").write_text(SNAKEMAKE_REANA_YAML)
    name = _unique("smkslurm")
    body = _run(slurm_platform, client_python, folder, name)
    assert body["status"] == "finished", _job_logs(slurm_platform, name)
    out = tmp_path / "out"
    slurm_platform.client(client_python, "download", "-w", name, "-o", str(out), cwd=folder)
    assert (out / "results/total.txt").read_text() == "6\n"
    assert slurm_states(sort, ["COMPLETED"]) == ["COMPLETED"]
    assert slurm_states(total, [], seconds=0) == []
    jobs = {job["job_name"]: job for job in _job_logs(slurm_platform, name).values()}
    assert jobs[sort]["compute_backend"].lower().startswith("slurm")
    assert jobs[sort]["logs"].startswith("[reana] running directly on node")
    assert "slurm-job=" in jobs[sort]["logs"]
    assert jobs[total]["compute_backend"].lower() == "local"
