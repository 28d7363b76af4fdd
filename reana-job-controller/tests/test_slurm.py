"""The ``slurm`` backend through a real job controller process, on the real test Slurm.

Local mode (``sbatch`` on this host, shared file system) and SSH mode (paramiko
to the test login node 127.0.0.1:2222 as ``reanaslurm``, workspace staged over
SFTP). Needs ``make slurm-up``; skipped with the reason without it (failing in
CI, where ``REANA_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from reana_commons.engine.job_controller_client import JobControllerClient, JobControllerUnavailable
from reana_testing.job_controller import JobControllerProcess, create_workflow
from reana_testing.slurm import (
    require_slurm,
    require_ssh_login,
    slurm_job_state,
)

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
]

FIRST_JOB_TIMEOUT = 60  # the first job after a cold start takes a few seconds


@pytest.fixture
def slurm_env(reana_env, monkeypatch):
    """Local Slurm mode for job controllers started after this fixture."""
    require_slurm()
    values = {"REANA_COMPUTE_BACKENDS": '["local","slurm","slurmcern"]',
              "REANA_SLURM_MONITOR_INTERVAL": "0.5"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SLURM_HOSTNAME", raising=False)
    return values


@pytest.fixture
def ssh_login(slurm_env, db, user, monkeypatch):
    """SSH mode: the login node's address in the config, the key in the user's secrets."""
    from reana_db.user_secrets import add_secrets

    login = require_ssh_login()
    add_secrets(db, user, {"SLURM_USER": (login.user, "env"),
                           "SLURM_SSH_PRIVATE_KEY": (login.private_key, "file")})
    db.commit()
    monkeypatch.setenv("SLURM_HOSTNAME", login.host)
    monkeypatch.setenv("SLURM_CLUSTER_PORT", str(login.port))
    yield login


@pytest.fixture
def remote_cleanup(ssh_login, workflow):
    yield
    shutil.rmtree(Path(ssh_login.home) / "reana" / str(workflow.id_), ignore_errors=True)


def _running_in_slurm(slurm_id: str, timeout: float = FIRST_JOB_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while slurm_job_state(slurm_id) != "RUNNING":
        assert time.monotonic() < deadline, f"Slurm job {slurm_id} never ran"
        time.sleep(0.1)


def _backend_id(db, job_id: str) -> str:
    import uuid

    from reana_db.models import Job

    db.expire_all()
    return db.get(Job, uuid.UUID(job_id)).backend_job_id


# --- local mode ---------------------------------------------------------------------------------
def test_job_finishes_with_output(slurm_env, jc, job_fields, workflow, db):
    Path(workflow.workspace_path, "input.txt").write_text("42\n")
    job_id = jc.submit(f"cd {workflow.workspace_path} && cat input.txt > out.txt && echo done",
                       compute_backend="slurm", **job_fields)
    job = jc.wait(job_id, timeout=FIRST_JOB_TIMEOUT)
    assert job["status"] == "finished", jc.logs(job_id)
    assert job["exit_code"] == 0
    assert Path(workflow.workspace_path, "out.txt").read_text() == "42\n"
    logs = jc.logs(job_id)
    assert logs.splitlines()[0].startswith("[reana] running directly on node")
    assert "done" in logs
    slurm_id = _backend_id(db, job_id)
    assert slurm_id.isdigit()
    assert slurm_job_state(slurm_id) == "COMPLETED"


def test_failing_step_reports_exit_code(slurm_env, jc, job_fields):
    job_id = jc.submit("echo broken >&2; exit 3", compute_backend="slurmcern", **job_fields)
    job = jc.wait(job_id, timeout=FIRST_JOB_TIMEOUT)
    assert job["status"] == "failed"
    assert job["exit_code"] == 3
    logs = jc.logs(job_id)
    assert "broken" in logs
    assert "FAILED" not in logs or "exit code 3" in logs


def test_partition_and_unknown_partition(slurm_env, jc, job_fields, db):
    job_id = jc.submit("echo $SLURM_JOB_PARTITION", compute_backend="slurm",
                       slurm_partition="short", **job_fields)
    assert jc.wait(job_id, timeout=FIRST_JOB_TIMEOUT)["status"] == "finished"
    assert "short" in jc.logs(job_id)
    with pytest.raises(JobControllerUnavailable, match="partition"):
        jc.submit("true", compute_backend="slurm", slurm_partition="nosuchpartition",
                  **job_fields)


def test_stop_cancels_the_slurm_job(slurm_env, jc, job_fields, db):
    job_id = jc.submit("echo started; sleep 120", compute_backend="slurm", **job_fields)
    slurm_id = _backend_id(db, job_id)
    _running_in_slurm(slurm_id)
    jc.stop(job_id)
    job = jc.wait(job_id, timeout=10)
    assert job["status"] == "stopped"
    deadline = time.monotonic() + 15
    while slurm_job_state(slurm_id) != "CANCELLED":
        assert time.monotonic() < deadline, slurm_job_state(slurm_id)
        time.sleep(0.2)


def test_backend_not_enabled_is_refused(reana_env, monkeypatch, jc_factory_default, job_fields):
    with pytest.raises(JobControllerUnavailable, match="not supported"):
        jc_factory_default.submit("true", compute_backend="slurm", **job_fields)


@pytest.fixture
def jc_factory_default(reana_env, workflow, reana_home, monkeypatch):
    """A job controller with the default backends only (local)."""
    monkeypatch.setenv("REANA_COMPUTE_BACKENDS", '["local"]')
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield JobControllerClient(process.url, token=process.token)
    process.kill()


# --- SSH mode (login node over paramiko, workspace staged over SFTP) ----------------------------
def test_ssh_job_stages_inputs_and_outputs(ssh_login, remote_cleanup, jc, job_fields, workflow,
                                           db):
    workspace = Path(workflow.workspace_path)
    (workspace / "data").mkdir()
    (workspace / "data" / "input.txt").write_text("from the workspace\n")
    job_id = jc.submit(f"cd {workspace} && whoami > who.txt && pwd > where.txt && "
                       "cat data/input.txt > data/copy.txt && echo $REANA_WORKSPACE",
                       compute_backend="slurmcern", **job_fields)
    job = jc.wait(job_id, timeout=FIRST_JOB_TIMEOUT)
    assert job["status"] == "finished", jc.logs(job_id)
    assert (workspace / "who.txt").read_text().strip() == ssh_login.user
    remote_workspace = f"{ssh_login.home}/reana/{workflow.id_}/workspace"
    assert (workspace / "where.txt").read_text().strip() == remote_workspace
    assert (workspace / "data" / "copy.txt").read_text() == "from the workspace\n"
    logs = jc.logs(job_id)
    assert logs.splitlines()[0].startswith("[reana] running directly on node")
    assert remote_workspace in logs
    # a second step sees the first step's outputs (already on the remote side, not re-sent)
    second = jc.submit(f"cd {workspace} && cat who.txt data/copy.txt > both.txt",
                       compute_backend="slurmcern", **job_fields)
    assert jc.wait(second, timeout=30)["status"] == "finished", jc.logs(second)
    assert (workspace / "both.txt").read_text() == f"{ssh_login.user}\nfrom the workspace\n"


def test_ssh_failing_step_and_stop(ssh_login, remote_cleanup, jc, job_fields, db):
    failing = jc.submit("echo over-ssh >&2; exit 5", compute_backend="slurm", **job_fields)
    sleeping = jc.submit("sleep 120", compute_backend="slurm", **job_fields)
    job = jc.wait(failing, timeout=FIRST_JOB_TIMEOUT)
    assert job["status"] == "failed"
    assert job["exit_code"] == 5
    assert "over-ssh" in jc.logs(failing)
    slurm_id = _backend_id(db, sleeping)
    _running_in_slurm(slurm_id)
    jc.stop(sleeping)
    assert jc.wait(sleeping, timeout=15)["status"] == "stopped"
    deadline = time.monotonic() + 15
    while slurm_job_state(slurm_id) != "CANCELLED":
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_ssh_without_credentials_fails_clearly(slurm_env, jc_ssh_no_secrets, job_fields):
    with pytest.raises(JobControllerUnavailable, match="SLURM_USER"):
        jc_ssh_no_secrets.submit("true", compute_backend="slurm", **job_fields)


@pytest.fixture
def jc_ssh_no_secrets(slurm_env, workflow, reana_home, monkeypatch):
    """A job controller in SSH mode for a user who stored no Slurm credentials."""
    monkeypatch.setenv("SLURM_HOSTNAME", "127.0.0.1")
    monkeypatch.setenv("SLURM_CLUSTER_PORT", "2222")
    process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                   reana_home / "run" / str(workflow.id_))
    process.start()
    yield JobControllerClient(process.url, token=process.token)
    process.kill()


# --- time limit: local and SSH mode at once (Slurm enforces limits in whole minutes) ----------
@pytest.mark.slow
def test_step_over_its_slurm_time_reports_timeout(slurm_env, db, user, reana_env, reana_home,
                                                   monkeypatch):
    from reana_db.user_secrets import add_secrets

    login = require_ssh_login()
    add_secrets(db, user, {"SLURM_USER": (login.user, "env"),
                           "SLURM_SSH_PRIVATE_KEY": (login.private_key, "file")})
    db.commit()
    clients, processes, workflows = {}, [], []
    for mode in ("local", "ssh"):
        if mode == "ssh":
            monkeypatch.setenv("SLURM_HOSTNAME", login.host)
            monkeypatch.setenv("SLURM_CLUSTER_PORT", str(login.port))
        workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"], name=f"to-{mode}")
        workflows.append(workflow)
        process = JobControllerProcess(workflow.id_, workflow.workspace_path,
                                       reana_home / "run" / str(workflow.id_))
        process.start()
        processes.append(process)
        client = JobControllerClient(process.url, token=process.token)
        fields = {"workflow_uuid": str(workflow.id_), "workflow_workspace": workflow.workspace_path,
                  "docker_img": "docker.io/library/ubuntu:20.04", "job_name": "slow"}
        clients[mode] = (client, client.submit("echo started; sleep 300", compute_backend="slurm",
                                               slurm_time="0:10", **fields))
    try:
        for mode, (client, job_id) in clients.items():
            job = client.wait(job_id, timeout=200)
            assert job["status"] == "failed", (mode, job)
            logs = client.logs(job_id)
            assert "TIMEOUT" in logs, (mode, logs)
            assert "started" in logs
    finally:
        for process in processes:
            process.kill()
        shutil.rmtree(Path(login.home) / "reana" / str(workflows[1].id_), ignore_errors=True)
