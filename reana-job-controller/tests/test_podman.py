"""The local backend inside containers (REANA_CONTAINER_RUNTIME=podman, a locally built image)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from reana_db.crypto import encrypt
from reana_db.enums import SecretType
from reana_db.models import UserSecret
from reana_testing.pytest_plugin import apply_env

IMAGE = "localhost/reana-test-busybox:1"
# This VM lacks CAP_SYS_RESOURCE (podman's default nofile limit cannot be set) and crun
# refuses its hybrid cgroups: runc with cgroupfs works.
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def containers_conf(tmp_path_factory):
    if not shutil.which("podman") or not Path("/bin/busybox").exists():
        pytest.skip("podman and busybox-static are not installed")
    directory = tmp_path_factory.mktemp("podman")
    conf = directory / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    if subprocess.run(["podman", "image", "exists", IMAGE], env=env).returncode != 0:
        root = directory / "rootfs" / "bin"
        root.mkdir(parents=True)
        applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (root / applet).symlink_to("busybox")
        shutil.copy("/bin/busybox", root / "busybox")
        (root / "bash").write_text('#!/bin/sh\nexec /bin/sh "$@"\n')  # jobs run `bash -c`
        (root / "bash").chmod(0o755)
        tar = subprocess.Popen(["tar", "-C", str(root.parent), "-cf", "-", "."],
                               stdout=subprocess.PIPE)
        subprocess.run(["podman", "import", "-q", "-", IMAGE], stdin=tar.stdout, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        tar.wait()
    return conf


@pytest.fixture
def podman_env(containers_conf, monkeypatch, reana_env):
    apply_env(monkeypatch, {"REANA_CONTAINER_RUNTIME": "podman",
                            "CONTAINERS_CONF": str(containers_conf)})


def test_job_runs_in_the_image(podman_env, db, user, workflow, job_controller, jc, job_fields):
    db.add(UserSecret(user_id=user.id_, name="cert.pem", type_=SecretType.file,
                      value_encrypted=encrypt(b"CERT")))
    db.add(UserSecret(user_id=user.id_, name="TOKEN", type_=SecretType.env,
                      value_encrypted=encrypt("tok")))
    db.commit()
    fields = dict(job_fields, docker_img=IMAGE)
    cmd = ('cd $REANA_WORKSPACE && echo "$FOO $TOKEN $(cat $REANA_USER_SECRET_MOUNT_PATH/cert.pem)"'
           ' > out.txt && busybox | head -1 && exit 3')
    job_id = jc.submit(cmd, env_vars={"FOO": "bar"}, **fields)
    job = jc.wait(job_id, timeout=120)
    logs = jc.logs(job_id)
    assert job["status"] == "failed" and job["exit_code"] == 3, logs
    assert "BusyBox" in logs
    assert "running on the host" not in logs
    assert (Path(workflow.workspace_path) / "out.txt").read_text() == "bar tok CERT\n"


def test_stop_removes_the_container(podman_env, containers_conf, job_controller, jc, job_fields):
    import time

    job_id = jc.submit("echo up; sleep 300", **dict(job_fields, docker_img=IMAGE))
    deadline = time.monotonic() + 60
    while "up" not in jc.logs(job_id):
        assert time.monotonic() < deadline, jc.logs(job_id)
        time.sleep(0.1)
    jc.stop(job_id)
    assert jc.get(job_id)["status"] == "stopped"
    env = dict(os.environ, CONTAINERS_CONF=str(containers_conf))
    deadline = time.monotonic() + 30
    while True:
        names = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
        if f"reana-job-{job_id}" not in names:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.3)


def test_the_container_is_hardened(podman_env, workflow, job_controller, jc, job_fields):
    """No network, no capabilities, the unprivileged uid (as root): as a sandboxed host job."""
    cmd = ("cd $REANA_WORKSPACE && id -u > uid.txt && grep -c : /proc/net/dev > nics.txt && "
           "grep CapEff /proc/self/status > caps.txt")
    job_id = jc.submit(cmd, **dict(job_fields, docker_img=IMAGE))
    assert jc.wait(job_id, timeout=120)["status"] == "finished", jc.logs(job_id)
    workspace = Path(workflow.workspace_path)
    if os.geteuid() == 0:
        assert (workspace / "uid.txt").read_text().strip() == "65530"
    assert (workspace / "nics.txt").read_text().strip() == "1"  # lo only
    assert (workspace / "caps.txt").read_text().split() == ["CapEff:", "0000000000000000"]


def test_a_container_s_output_is_live(podman_env, workflow, job_controller, jc, job_fields):
    """Live logs (ADR 0026): podman's output goes straight into the job's live log file,
    which the logs answers read while the job runs."""
    import re
    import time

    from reana_commons.live_logs import read_live_log

    cmd = 'for i in 1 2 3 4 5; do echo "tick $i $(date +%s)"; sleep 1; done'
    job_id = jc.submit(cmd, **dict(job_fields, docker_img=IMAGE))
    seen: dict[int, tuple[float, int, str]] = {}
    deadline = time.monotonic() + 120
    while len(seen) < 5 and time.monotonic() < deadline:
        live = read_live_log(workflow.id_, job_id)
        now, status = time.time(), jc.get(job_id)["status"]
        for number, printed in re.findall(r"tick (\d) (\d+)", live.text if live else ""):
            seen.setdefault(int(number), (now, int(printed), status))
        time.sleep(0.2)
    assert sorted(seen) == [1, 2, 3, 4, 5], seen
    assert sum(status == "running" for _, _, status in seen.values()) >= 3, seen
    lags = [at - printed for at, printed, _ in seen.values()]
    assert max(lags) <= 3.5, lags  # whole seconds printed: up to 1 s of the lag is rounding
    assert jc.wait(job_id, timeout=60)["status"] == "finished"
    assert "tick 5" in jc.logs(job_id)
    assert read_live_log(workflow.id_, job_id) is None  # the database has it now
