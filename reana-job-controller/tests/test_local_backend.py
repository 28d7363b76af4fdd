"""The local backend through the REST API: process trees, secrets, memory, restarts."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from reana_db.crypto import encrypt
from reana_db.enums import SecretType
from reana_db.models import UserSecret

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def _job_processes(workflow, argv: list[str]) -> list[int]:
    """Host pids of the run's processes running ``argv`` (a sandboxed job only knows the pids
    of its own pid namespace)."""
    pids = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        environ = process.info["environ"] or {}
        if (process.info["cmdline"] == argv
                and environ.get("REANA_WORKFLOW_UUID") == str(workflow.id_)):
            pids.append(process.pid)
    return pids


def test_stop_kills_the_whole_process_tree(jc, job_fields, workflow):
    cmd = (
        "cd $REANA_WORKSPACE && "
        "(sleep 301 & wait) & "
        "(setsid sleep 302 & wait) & "
        "trap '' TERM; sleep 300"  # the job ignores SIGTERM: SIGKILL must follow
    )
    job_id = jc.submit(cmd, **job_fields)
    pids: list[int] = []

    def all_started() -> bool:
        pids[:] = (_job_processes(workflow, ["sleep", "301"])
                   + _job_processes(workflow, ["sleep", "302"])
                   + _job_processes(workflow, ["sleep", "300"]))
        return len(pids) == 3

    assert _wait_for(all_started)
    assert all(_alive(pid) for pid in pids)
    jc.stop(job_id)
    assert jc.get(job_id)["status"] == "stopped"
    assert _wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=10)


def test_job_environment_and_secrets(db, user, reana_env, job_fields, workflow, job_controller, jc):
    db.add(UserSecret(user_id=user.id_, name="MY_TOKEN", type_=SecretType.env,
                      value_encrypted=encrypt("s3cr3t")))
    db.add(UserSecret(user_id=user.id_, name="cert.pem", type_=SecretType.file,
                      value_encrypted=encrypt(b"-----CERT-----\n")))
    db.commit()
    cmd = (
        'cd $REANA_WORKSPACE && env > env.out && '
        'cat "$REANA_USER_SECRET_MOUNT_PATH/cert.pem" > file.out && '
        'stat -c %a "$REANA_USER_SECRET_MOUNT_PATH/cert.pem" > mode.out && pwd > pwd.out'
    )
    job_id = jc.submit(cmd, env_vars={"FOO": "bar"}, **job_fields)
    assert jc.wait(job_id, timeout=20)["status"] == "finished", jc.logs(job_id)
    workspace = Path(workflow.workspace_path)
    env = dict(line.split("=", 1) for line in (workspace / "env.out").read_text().splitlines()
               if "=" in line)
    assert env["MY_TOKEN"] == "s3cr3t"
    assert env["FOO"] == "bar"
    assert env["REANA_WORKSPACE"] == workflow.workspace_path
    assert env["REANA_WORKFLOW_UUID"] == str(workflow.id_)
    assert "REANA_SECRET_KEY" not in env and "REANA_SQLALCHEMY_DATABASE_URI" not in env
    secrets_dir = job_controller.run_dir / "secrets"  # the host's copy, outside the workspace
    assert env["REANA_USER_SECRET_MOUNT_PATH"] in ("/etc/reana/secrets", str(secrets_dir))
    assert not secrets_dir.is_relative_to(workspace)
    assert (workspace / "file.out").read_text() == "-----CERT-----\n"
    assert (workspace / "mode.out").read_text().strip() == "600"
    assert (workspace / "pwd.out").read_text().strip() == workflow.workspace_path
    assert oct(secrets_dir.stat().st_mode & 0o777) == "0o700"


def test_memory_limit_kills_a_hog(jc, job_fields):
    hog = 'python3 -c "b = bytearray(800 * 1024 * 1024); print(len(b))"'
    job_id = jc.submit(hog, kubernetes_memory_limit="200Mi", **job_fields)
    job = jc.wait(job_id, timeout=30)
    assert job["status"] == "failed"
    assert job["exit_code"] != 0
    assert "MemoryError" in jc.logs(job_id)
    # The same program without a limit succeeds: the limit, not the program, failed it.
    job_id = jc.submit(hog.replace("800", "20"), **job_fields)
    assert jc.wait(job_id, timeout=30)["status"] == "finished"


def test_restarted_job_controller_follows_running_jobs(job_controller, jc, job_fields):
    running = jc.submit("echo before; sleep 1.5; echo after; exit 3", **job_fields)
    quick = jc.submit("sleep 0.2; echo quick", **job_fields)
    time.sleep(0.1)
    job_controller.kill()  # SIGKILL: no chance to clean up
    time.sleep(0.5)  # `quick` ends while no job controller runs
    job_controller.start()
    from reana_commons.engine.job_controller_client import JobControllerClient

    client = JobControllerClient(job_controller.url, token=job_controller.token)
    job = client.wait(quick, timeout=10)
    assert job["status"] == "finished" and job["exit_code"] == 0
    assert "quick" in client.logs(quick)
    job = client.wait(running, timeout=10)
    assert job["status"] == "failed" and job["exit_code"] == 3
    logs = client.logs(running)
    assert "before" in logs and "after" in logs


def test_sigterm_leaves_jobs_running(job_controller, jc, job_fields, workflow):
    job_id = jc.submit("sleep 0.8; echo survived > survived.txt", **job_fields)
    job_controller.stop()
    assert _wait_for(lambda: (Path(workflow.workspace_path) / "survived.txt").exists())
    job_controller.start()
    from reana_commons.engine.job_controller_client import JobControllerClient

    client = JobControllerClient(job_controller.url, token=job_controller.token)
    assert client.wait(job_id, timeout=10)["status"] == "finished"



def test_a_stopped_job_ignoring_sigterm_dies_with_its_job_controller(job_controller, jc,
                                                                     job_fields, workflow):
    """The run's stop ends its job controller at once: the SIGKILL after the grace still comes."""
    job_id = jc.submit("trap '' TERM; sleep 304", **job_fields)
    assert _wait_for(lambda: _job_processes(workflow, ["sleep", "304"]))
    pids = _job_processes(workflow, ["sleep", "304"])
    jc.stop(job_id)
    job_controller.stop()  # SIGTERM, well within the 2 s grace
    assert _wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=1.5)
