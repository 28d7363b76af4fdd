"""Job isolation of the local backend: the bubblewrap argv, the policy checks, real jobs."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from reana_commons.config import load_config
from reana_job_controller.job_managers import sandbox as sandbox_module
from reana_job_controller.job_managers.local import _read_exit_status
from reana_job_controller.job_managers.ownership import TreeOwner
from reana_job_controller.job_managers.sandbox import Sandbox, SandboxUnavailable
from reana_testing.pytest_plugin import apply_env

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def _sandbox(monkeypatch, root: bool = True, **env) -> Sandbox:
    monkeypatch.setattr(sandbox_module.os, "geteuid", lambda: 0 if root else 1000)
    environ = {"REANA_HOME": "/srv/reana", "SHARED_VOLUME_PATH": "/srv/reana/shared", **env}
    return Sandbox.from_config(load_config(environ))


def _pairs(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == option]


WORKSPACE = Path("/srv/reana/shared/users/u/workflows/w")


def test_default_policy_as_root(monkeypatch):
    sandbox = _sandbox(monkeypatch)
    assert (sandbox.isolation, sandbox.network, sandbox.uid, sandbox.gid) == (
        "bwrap", "none", 65530, 65530)
    argv = sandbox.argv(WORKSPACE, Path("/srv/reana/run/w/secrets"), 7, ["bash", "-c", "true"])
    separator = argv.index("--")
    options, command = argv[:separator], argv[separator + 1:]
    assert "--unshare-net" in options and "--unshare-pid" in options
    assert "--ro-bind" in options and "/usr" in _pairs(options, "--ro-bind")
    assert _pairs(options, "--bind") == [str(WORKSPACE)]  # the only writable host path
    assert "/srv/reana/run/w/secrets" in _pairs(options, "--ro-bind")
    at = options.index("/srv/reana/run/w/secrets")  # mounted where REANA's jobs look
    assert options[at - 1:at + 2] == ["--ro-bind", "/srv/reana/run/w/secrets",
                                      "/etc/reana/secrets"]
    assert "/srv/reana" not in _pairs(options, "--ro-bind") + _pairs(options, "--bind")
    assert _pairs(options, "--chdir") == [str(WORKSPACE)]
    assert _pairs(options, "--json-status-fd") == ["7"]
    assert "/tmp" in _pairs(options, "--tmpfs")
    assert _pairs(options, "--cap-add") == ["CAP_SETUID", "CAP_SETGID"]
    assert "--die-with-parent" not in options  # jobs outlive a restarted job controller
    assert command[1:6] == ["--reuid=65530", "--regid=65530", "--clear-groups", "--inh-caps=-all",
                            "--no-new-privs"]
    assert command[-3:] == ["bash", "-c", "true"]
    # The parents of the workspace are created world-searchable in the sandbox's own root.
    dirs = _pairs(options, "--dir")
    assert dirs[:3] == ["/srv", "/srv/reana", "/srv/reana/shared"]
    assert str(WORKSPACE) not in dirs
    assert options[options.index("--dir") - 2:options.index("--dir")] == ["--perms", "0755"]


def test_host_network_and_an_unprivileged_platform(monkeypatch):
    sandbox = _sandbox(monkeypatch, root=False, REANA_LOCAL_JOB_NETWORK="host")
    assert sandbox.uid is None
    argv = sandbox.argv(WORKSPACE, None, 3, ["true"])
    assert "--unshare-net" not in argv
    assert argv[argv.index("--") - 3:argv.index("--")] == [
        "3", "--unshare-user", "--disable-userns"]
    assert "setpriv" not in " ".join(argv) and "--cap-add" not in argv
    assert "network host, the platform's uid" in sandbox.banner("img")


def test_operator_paths_and_masks(monkeypatch, tmp_path):
    allowed = tmp_path / "cvmfs"
    allowed.mkdir()
    home = tmp_path / "reana"
    (home / "shared").mkdir(parents=True)
    monkeypatch.setattr(sandbox_module.os, "geteuid", lambda: 0)
    config = load_config({"REANA_HOME": str(home),
                          "REANA_LOCAL_JOB_READONLY_PATHS": f"{allowed}:{tmp_path}"})
    sandbox = Sandbox.from_config(config)
    workspace = home / "shared" / "users" / "u" / "workflows" / "w"
    argv = sandbox.argv(workspace, None, 3, ["true"])
    assert _pairs(argv, "--ro-bind")[-2:] == [str(allowed), str(tmp_path)]
    # REANA_HOME lies below an allowed path: masked by an empty tmpfs before the workspace's
    # parents are created inside that tmpfs.
    assert str(home) in _pairs(argv, "--tmpfs")
    assert argv.index(str(home)) < argv.index("--bind")
    dirs = _pairs(argv, "--dir")
    assert str(home / "shared") in dirs and str(tmp_path) not in dirs and str(home) not in dirs


@pytest.mark.parametrize("env, message", [
    ({"REANA_LOCAL_JOB_ISOLATION": "chroot"}, "not one of bwrap, none"),
    ({"REANA_LOCAL_JOB_NETWORK": "bridge"}, "not one of none, host"),
    ({"REANA_LOCAL_JOB_READONLY_PATHS": "cvmfs"}, "is not absolute"),
    ({"REANA_LOCAL_JOB_READONLY_PATHS": "/srv/reana/shared/users"}, "inside REANA_HOME"),
    ({"REANA_LOCAL_JOB_UID": "0"}, "must not be 0"),
])
def test_a_policy_that_cannot_hold_is_refused(monkeypatch, env, message):
    with pytest.raises(SandboxUnavailable, match=message):
        _sandbox(monkeypatch, **env)


def test_missing_bubblewrap_is_a_clear_refusal(monkeypatch):
    sandbox = _sandbox(monkeypatch)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox(**{**sandbox.__dict__, "bwrap": ""}).check()
    Sandbox(**{**sandbox.__dict__, "bwrap": "", "isolation": "none"}).check()


def test_containers_are_hardened(monkeypatch):
    args = _sandbox(monkeypatch).container_args()
    assert args[:2] == ["--network", "none"] and "--cap-drop" in args
    assert _pairs(args, "--user") == ["65530:65530"]
    off = _sandbox(monkeypatch, REANA_LOCAL_JOB_ISOLATION="none")
    assert off.container_args() == ["--network", "host"]
    assert "isolation is OFF" in off.banner("img")


def test_exit_status_of_the_wrapper_and_of_bwrap():
    assert _read_exit_status("3") == 3
    assert _read_exit_status('{ "child-pid": 12 }\n{ "exit-code": 137 }\n') == 137
    assert _read_exit_status('{ "child-pid": 12 }\n') is None
    assert _read_exit_status("") is None


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_hand_over_never_follows_links_and_sees_new_files(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "sub" / "file").write_text("f")
    (workspace / "link-dir").symlink_to(outside)
    (workspace / "link-file").symlink_to(outside / "secret")
    owner = TreeOwner(65530, 65531)
    owner.hand_over(workspace)
    for path in (workspace, workspace / "sub", workspace / "sub" / "file"):
        assert (path.stat().st_uid, path.stat().st_gid) == (65530, 65531)
    assert (workspace / "link-dir").lstat().st_uid == 65530
    assert outside.stat().st_uid == 0 and (outside / "secret").stat().st_uid == 0
    # Between two jobs the engine (root) adds files and folders: the next pass finds them,
    # also in a directory it had seen before (its mtime changed).
    (workspace / "sub" / "staged").write_text("new")
    (workspace / "sub" / "deeper" / "more").mkdir(parents=True)
    owner.hand_over(workspace)
    for path in (workspace / "sub" / "staged", workspace / "sub" / "deeper" / "more"):
        assert path.stat().st_uid == 65530
    # A directory unchanged for over a second is not read again; one changed is.
    old = time.time() - 5
    os.utime(workspace / "sub", (old, old))
    owner.hand_over(workspace)
    os.chown(workspace / "sub" / "file", 0, 0)  # (nobody does this: it shows what is skipped)
    owner.hand_over(workspace)
    assert (workspace / "sub" / "file").stat().st_uid == 0
    (workspace / "sub" / "another").write_text("x")  # changes the directory's mtime
    owner.hand_over(workspace)
    assert (workspace / "sub" / "file").stat().st_uid == 65530


# --- real jobs through a job controller ---------------------------------------------------
@pytest.fixture
def readonly_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cvmfs")
    directory.chmod(0o755)  # world-readable, as CVMFS is (the job's uid is not the owner)
    (directory / "calib.txt").write_text("calibration\n")
    return directory


@pytest.fixture
def listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def policy_env(monkeypatch, reana_env, readonly_dir, request):
    values = {"REANA_LOCAL_JOB_READONLY_PATHS": str(readonly_dir)}
    values.update(getattr(request, "param", {}))
    apply_env(monkeypatch, values)
    return values


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@needs_bwrap
def test_allowed_paths_are_read_only_and_network_is_off(policy_env, readonly_dir, listener,
                                                        jc, job_fields):
    cmd = (f"cat {readonly_dir}/calib.txt && ! touch {readonly_dir}/x 2> /dev/null && "
           f"! (exec 3<> /dev/tcp/127.0.0.1/{listener}) 2> /dev/null && echo contained")
    job_id = jc.submit(cmd, **job_fields)
    job = jc.wait(job_id, timeout=30)
    logs = jc.logs(job_id)
    assert job["status"] == "finished", logs
    assert "calibration\ncontained" in logs and "network none" in logs
    assert not (readonly_dir / "x").exists()


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("policy_env", [{"REANA_LOCAL_JOB_NETWORK": "host"}], indirect=True)
@needs_bwrap
def test_host_network_when_the_operator_allows_it(policy_env, listener, jc, job_fields):
    job_id = jc.submit(f"(exec 3<> /dev/tcp/127.0.0.1/{listener}) && echo reached", **job_fields)
    assert jc.wait(job_id, timeout=30)["status"] == "finished", jc.logs(job_id)
    assert "reached" in jc.logs(job_id) and "network host" in jc.logs(job_id)


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("policy_env", [{"REANA_LOCAL_JOB_ISOLATION": "none"}], indirect=True)
def test_isolation_off_is_explicit_and_said_in_every_log(policy_env, reana_home, jc, job_fields):
    (reana_home / "platform-file").write_text("platform\n")
    job_id = jc.submit(f"cat {reana_home}/platform-file", **job_fields)
    assert jc.wait(job_id, timeout=30)["status"] == "finished"
    logs = jc.logs(job_id)
    assert logs.startswith("[reana] job isolation is OFF (REANA_LOCAL_JOB_ISOLATION=none)")
    assert "platform\n" in logs


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@needs_bwrap
def test_a_sandbox_stopped_while_it_sets_up_never_starts_the_job(reana_env, tmp_path):
    """Its pid 1 ignores SIGTERM, and the grace timer dies with a job controller that exits."""
    import subprocess
    import time

    import psutil
    from reana_job_controller.job_managers import BackendContext
    from reana_job_controller.job_managers.local import LocalJobManager, _start_ticks

    workspace = tmp_path / "ws"
    workspace.mkdir()
    manager = LocalJobManager(BackendContext("00000000-0000-0000-0000-000000000001", workspace,
                                             tmp_path / "run", dict, lambda: None))
    sandbox = manager.sandbox()
    sandbox.prepare(workspace)
    block_read, block_write = os.pipe()  # bwrap waits on it after setting up, before the job
    argv = sandbox.argv(workspace, None, 2, ["bash", "-c", "touch started; sleep 300"])
    separator = argv.index("--")
    argv[separator:separator] = ["--block-fd", str(block_read)]
    process = subprocess.Popen(argv, pass_fds=(block_read,), start_new_session=True,
                               stderr=subprocess.DEVNULL)
    os.close(block_read)
    deadline = time.monotonic() + 10
    while len(psutil.Process(process.pid).children()) == 0:  # the sandbox's pid 1 exists
        assert time.monotonic() < deadline
        time.sleep(0.01)
    group = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    manager.stop(f"{process.pid}:{_start_ticks(process.pid)}:job")
    try:
        os.write(block_write, b"x")  # had anything survived, the job would start now
    except BrokenPipeError:
        pass  # nothing reads it any more: the sandbox is gone
    os.close(block_write)
    process.wait(timeout=5)
    time.sleep(0.3)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in group)
    assert not (workspace / "started").exists()


def _add_secrets(db, user):
    from reana_db.crypto import encrypt
    from reana_db.enums import SecretType
    from reana_db.models import UserSecret

    db.add(UserSecret(user_id=user.id_, name="cert.pem", type_=SecretType.file,
                      value_encrypted=encrypt(b"-----CERT-----\n")))
    db.commit()


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@needs_bwrap
def test_file_secrets_are_where_reana_jobs_look_in_the_sandbox(policy_env, db, user, jc,
                                                               job_fields):
    _add_secrets(db, user)
    cmd = ('echo "at $REANA_USER_SECRET_MOUNT_PATH"; cat /etc/reana/secrets/cert.pem; '
           'head -c 4 /etc/passwd; echo; ! cat /etc/shadow 2> /dev/null | grep -q root && '
           '! touch /etc/reana/secrets/x 2> /dev/null && echo sealed')
    job_id = jc.submit(cmd, **job_fields)
    job = jc.wait(job_id, timeout=30)
    logs = jc.logs(job_id)
    assert job["status"] == "finished", logs
    assert "at /etc/reana/secrets\n-----CERT-----\nroot\nsealed" in logs


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("policy_env", [{"REANA_LOCAL_JOB_ISOLATION": "none"}], indirect=True)
def test_unsandboxed_jobs_are_told_where_the_file_secrets_are(policy_env, db, user, jc,
                                                              job_fields):
    _add_secrets(db, user)
    job_id = jc.submit('cat "$REANA_USER_SECRET_MOUNT_PATH/cert.pem"', **job_fields)
    assert jc.wait(job_id, timeout=30)["status"] == "finished", jc.logs(job_id)
    logs = jc.logs(job_id)
    line = next(ln for ln in logs.splitlines() if "file secrets" in ln)
    path = line.split("REANA_USER_SECRET_MOUNT_PATH=")[1].split(" ")[0]
    assert line.startswith("[reana] this run's file secrets are in") and path.endswith("/secrets")
    assert "-----CERT-----" in logs
