"""Serial runs whose steps go to HTCondor (the double), end to end through reana-client 0.9.6.

Two live platforms (``scripts/up.sh``): one submitting with ``condor_submit`` on this host
(the double's file transfer between "submit node" and "execute node"; steps may also go to
the real test Slurm), one reaching the submit node 127.0.0.1:2222 over SSH with the user's
own secrets, staging the workspace over SFTP. Steps use REANA's backend name
``htcondorcern``; the others run on ``local`` (or ``slurmcern``). Needs ``make htcondor-up``
(and ``make slurm-up`` for the SSH login node and the mixed run): skipped with the reason
otherwise, failing in CI.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

import pytest
from reana_testing.htcondor import condor_job, require_htcondor, require_htcondor_ssh_login
from reana_testing.slurm import require_slurm

from tests.conftest import start_platform, stop_platform

pytestmark = [pytest.mark.slow, pytest.mark.htcondor, pytest.mark.timeout(900)]
RUN_SECONDS = 300
IMAGE = "docker.io/library/ubuntu:20.04"

PLATFORM_ENV = {
    "REANA_COMPUTE_BACKENDS": '["local","slurmcern","htcondorcern"]',
    "REANA_DEFAULT_COMPUTE_BACKEND": "local",
    "REANA_HTCONDOR_MONITOR_INTERVAL": "0.5",
    "REANA_SLURM_MONITOR_INTERVAL": "0.5",
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A live platform whose HTCondor steps are submitted on this host."""
    require_htcondor()
    live = start_platform(tmp_path_factory.mktemp("htcondor") / "reana-home", "embedded",
                          dict(PLATFORM_ENV))
    yield live
    stop_platform(live)


@pytest.fixture(scope="module")
def ssh_platform(tmp_path_factory):
    """A live platform whose HTCondor (and Slurm) steps go over SSH to the test login node."""
    login = require_htcondor_ssh_login()
    extra = dict(PLATFORM_ENV, HTCONDOR_HOSTNAME=login.host, HTCONDOR_CLUSTER_PORT=str(login.port),
                 SLURM_HOSTNAME=login.host, SLURM_CLUSTER_PORT=str(login.port))
    live = start_platform(tmp_path_factory.mktemp("htcondor-ssh") / "reana-home", "embedded",
                          extra)
    live.login = login
    yield live
    stop_platform(live)


def _analysis(tmp_path: Path, steps: list[dict], outputs: list[str]) -> Path:
    folder = tmp_path / f"analysis-{uuid.uuid4().hex[:6]}"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "numbers.txt").write_text("3\n1\n2\n")
    (folder / "reana.yaml").write_text(json.dumps({
        "version": "0.9.0",
        "inputs": {"files": ["data/numbers.txt"]},
        "workflow": {"type": "serial", "specification": {"steps": steps}},
        "outputs": {"files": outputs},
    }, indent=2))
    return folder


def _step(name: str, command: str, backend: str = "htcondorcern", **extra) -> dict:
    step = {"name": name, "environment": IMAGE, "commands": [command], **extra}
    if backend != "local":
        step["compute_backend"] = backend
    return step


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _jobs(platform, workflow: str) -> dict:
    """job name → job (status, logs, backend_job_id, compute_backend) from the run's logs."""
    body = platform.api("GET", f"/api/workflows/{workflow}/logs").json()
    return {job["job_name"]: job for job in json.loads(body["logs"])["job_logs"].values()}


def _run(platform, client_python, folder: Path, name: str) -> dict:
    platform.client(client_python, "run", "-w", name, cwd=folder)
    return platform.wait_status(name, seconds=RUN_SECONDS)


def _download(platform, client_python, folder: Path, name: str, out: Path, *files) -> Path:
    platform.client(client_python, "download", "-w", name, *files, "-o", str(out), cwd=folder)
    return out


def test_serial_run_on_htcondor_finishes_with_outputs(platform, client_python, tmp_path):
    sort, total = _unique("sort"), _unique("total")
    folder = _analysis(tmp_path, [
        _step(sort, "mkdir -p results && sort -n data/numbers.txt > results/sorted.txt",
              htcondor_max_runtime="espresso", htcondor_accounting_group="group_u_ATLAS.u1",
              kubernetes_memory_limit="256Mi"),
        _step(total, "paste -sd+ results/sorted.txt | bc > results/total.txt && "
                     "echo batch=$$BATCH_SYSTEM", htcondor_max_runtime="600"),
    ], ["results/sorted.txt", "results/total.txt"])
    name = _unique("condorrun")
    assert _run(platform, client_python, folder, name)["status"] == "finished"
    out = _download(platform, client_python, folder, name, tmp_path / "out")
    assert (out / "results" / "sorted.txt").read_text() == "1\n2\n3\n"
    assert (out / "results" / "total.txt").read_text() == "6\n"
    jobs = _jobs(platform, name)
    assert {job["status"] for job in jobs.values()} == {"finished"}
    assert {job["compute_backend"] for job in jobs.values()} == {"htcondorcern"}
    assert jobs[sort]["logs"].startswith("[reana] HTCondor job on ")
    assert "batch=HTCondor" in jobs[total]["logs"]
    first, second = (condor_job(jobs[step]["backend_job_id"]) for step in (sort, total))
    assert first["JobStatus"] == 4 and first["ExitCode"] == 0
    assert first["JobFlavour"] == "espresso" and first["MaxRuntime"] == 1200
    assert first["AcctGroup"] == "group_u_ATLAS.u1" and first["RequestMemory"] == 256
    assert first["ContainerImage"] == f"docker://{IMAGE}"
    assert second["MaxRuntime"] == 600 and second["ShouldTransferFiles"] == "YES"


def test_failing_step_fails_the_run_with_its_exit_code(platform, client_python, tmp_path):
    broken, never = _unique("broken"), _unique("never")
    folder = _analysis(tmp_path, [_step(broken, "echo about-to-fail >&2; exit 3"),
                                  _step(never, "touch never.txt")], [])
    name = _unique("condorfail")
    assert _run(platform, client_python, folder, name)["status"] == "failed"
    jobs = _jobs(platform, name)
    assert list(jobs) == [broken]
    assert jobs[broken]["status"] == "failed"
    assert "about-to-fail" in jobs[broken]["logs"]
    assert "failed with exit code 3" in jobs[broken]["logs"]
    ad = condor_job(jobs[broken]["backend_job_id"])
    assert ad["JobStatus"] == 4 and ad["ExitCode"] == 3


def test_step_over_its_max_runtime_is_removed_and_reported(platform, client_python, tmp_path):
    slow = _unique("slow")
    folder = _analysis(tmp_path, [_step(slow, "echo started; sleep 120",
                                        htcondor_max_runtime="2")], [])
    name = _unique("condorslow")
    started = time.monotonic()
    assert _run(platform, client_python, folder, name)["status"] == "failed"
    assert time.monotonic() - started < 150  # removed after 2 s, not after its 120 s sleep
    job = _jobs(platform, name)[slow]
    assert job["status"] == "failed"
    assert "started" in job["logs"]
    assert "was removed: The system macro SYSTEM_PERIODIC_REMOVE" in job["logs"]
    assert "MaxRuntime" in job["logs"]
    assert condor_job(job["backend_job_id"])["JobStatus"] == 3


def test_stop_removes_the_htcondor_jobs(platform, client_python, tmp_path):
    sleeper = _unique("sleeper")
    folder = _analysis(tmp_path, [_step(sleeper, "echo sleeping; sleep 300")], [])
    name = _unique("condorstop")
    platform.client(client_python, "run", "-w", name, cwd=folder)
    deadline = time.monotonic() + RUN_SECONDS
    while True:
        job = _jobs(platform, name).get(sleeper, {})
        if job.get("backend_job_id") and condor_job(job["backend_job_id"]).get("JobStatus") == 2:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    platform.client(client_python, "stop", "-w", name, "--force", cwd=folder)
    assert platform.wait_status(name, seconds=RUN_SECONDS)["status"] == "stopped"
    deadline = time.monotonic() + 60
    while (ad := condor_job(job["backend_job_id"])).get("JobStatus") != 3 or "RemoveReason" \
            not in ad or "CompletionDate" not in ad:
        assert time.monotonic() < deadline, ad
        time.sleep(0.2)
    assert ad["RemoveReason"].startswith("via condor_rm")


def test_run_mixing_local_slurm_and_htcondor_steps(platform, client_python, tmp_path):
    require_slurm()
    first, second, third, fourth = (_unique(p) for p in ("loc", "slu", "con", "end"))
    folder = _analysis(tmp_path, [
        _step(first, "mkdir -p results && echo local > results/a.txt", backend="local"),
        _step(second, "cat results/a.txt > results/b.txt && echo slurm-$$SLURM_JOB_ID "
                      ">> results/b.txt", backend="slurmcern"),
        _step(third, "cat results/b.txt > results/c.txt && echo condor-$$BATCH_SYSTEM "
                     ">> results/c.txt"),
        _step(fourth, "wc -l < results/c.txt > results/d.txt", backend="local"),
    ], ["results/c.txt", "results/d.txt"])
    name = _unique("mixed")
    assert _run(platform, client_python, folder, name)["status"] == "finished"
    out = _download(platform, client_python, folder, name, tmp_path / "out")
    lines = (out / "results" / "c.txt").read_text().splitlines()
    assert lines[0] == "local" and lines[1].startswith("slurm-") and lines[2] == "condor-HTCondor"
    assert (out / "results" / "d.txt").read_text().strip() == "3"
    backends = {n: job["compute_backend"] for n, job in _jobs(platform, name).items()}
    assert backends == {first: "local", second: "slurmcern", third: "htcondorcern",
                        fourth: "local"}


@pytest.fixture(scope="module")
def ssh_user(ssh_platform, client_python, tmp_path_factory):
    """The user's secrets: one SSH login for HTCondor's submit node and Slurm's login node."""
    login = ssh_platform.login
    key = tmp_path_factory.mktemp("keys") / "HTCONDOR_SSH_PRIVATE_KEY"
    key.write_text(login.private_key)
    slurm_key = key.with_name("SLURM_SSH_PRIVATE_KEY")
    slurm_key.write_text(login.private_key)
    ssh_platform.client(client_python, "secrets-add", "--env", f"HTCONDOR_USER={login.user}",
                        "--env", f"SLURM_USER={login.user}", "--file", str(key),
                        "--file", str(slurm_key), "--overwrite")
    yield login
    shutil.rmtree(Path(login.home) / "reana", ignore_errors=True)


def test_ssh_mode_mixed_run_with_staging_and_file_transfer(ssh_platform, ssh_user,
                                                           client_python, tmp_path):
    require_slurm()
    prep, slurm, remote = _unique("prep"), _unique("sshslurm"), _unique("remote")
    folder = _analysis(tmp_path, [
        _step(prep, "mkdir -p results && sort -n data/numbers.txt > results/sorted.txt",
              backend="local"),
        _step(slurm, "cp results/sorted.txt results/copy.txt && echo $$SLURM_JOB_ID > "
                     "results/slurm.txt", backend="slurmcern"),
        _step(remote, "whoami > results/who.txt && tac results/copy.txt > results/rev.txt",
              htcondor_max_runtime="microcentury"),
    ], ["results/rev.txt"])
    name = _unique("sshcondor")
    assert _run(ssh_platform, client_python, folder, name)["status"] == "finished"
    out = _download(ssh_platform, client_python, folder, name, tmp_path / "out",
                    "results/who.txt", "results/rev.txt", "results/slurm.txt")
    assert (out / "results" / "who.txt").read_text().strip() == ssh_user.user
    assert (out / "results" / "rev.txt").read_text() == "3\n2\n1\n"
    assert (out / "results" / "slurm.txt").read_text().strip().isdigit()
    jobs = _jobs(ssh_platform, name)
    assert {n: job["compute_backend"] for n, job in jobs.items()} == {
        prep: "local", slurm: "slurmcern", remote: "htcondorcern"}
    ad = condor_job(jobs[remote]["backend_job_id"])
    assert ad["Owner"] == ssh_user.user and ad["JobStatus"] == 4 and ad["MaxRuntime"] == 3600
    assert ad["Iwd"].startswith(ssh_user.home)


def test_ssh_mode_failure_runtime_and_stop(ssh_platform, ssh_user, client_python, tmp_path):
    broken, slow, sleeper = _unique("rbroken"), _unique("rslow"), _unique("rsleeper")
    failing = _analysis(tmp_path, [_step(broken, "echo bad >&2; exit 4")], [])
    failed_name = _unique("sshcondorfail")
    assert _run(ssh_platform, client_python, failing, failed_name)["status"] == "failed"
    assert "failed with exit code 4" in _jobs(ssh_platform, failed_name)[broken]["logs"]

    too_long = _analysis(tmp_path, [_step(slow, "sleep 120", htcondor_max_runtime="2")], [])
    slow_name = _unique("sshcondorslow")
    assert _run(ssh_platform, client_python, too_long, slow_name)["status"] == "failed"
    job = _jobs(ssh_platform, slow_name)[slow]
    assert "was removed: The system macro SYSTEM_PERIODIC_REMOVE" in job["logs"]

    stopping = _analysis(tmp_path, [_step(sleeper, "sleep 300")], [])
    stop_name = _unique("sshcondorstop")
    ssh_platform.client(client_python, "run", "-w", stop_name, cwd=stopping)
    deadline = time.monotonic() + RUN_SECONDS
    while True:
        job = _jobs(ssh_platform, stop_name).get(sleeper, {})
        if job.get("backend_job_id") and condor_job(job["backend_job_id"]).get("JobStatus") == 2:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    ssh_platform.client(client_python, "stop", "-w", stop_name, "--force", cwd=stopping)
    assert ssh_platform.wait_status(stop_name, seconds=RUN_SECONDS)["status"] == "stopped"
    deadline = time.monotonic() + 60
    while (ad := condor_job(job["backend_job_id"])).get("JobStatus") != 3 or \
            "CompletionDate" not in ad:
        assert time.monotonic() < deadline, ad
        time.sleep(0.2)
    assert ad["RemoveReason"] == f"via condor_rm (by user {ssh_user.user})"
