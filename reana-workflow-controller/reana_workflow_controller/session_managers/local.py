"""Local runtime: a session is a Jupyter server process in the run's job sandbox.

The server (JupyterLab, installed with the workflow controller) runs exactly as the run's
local jobs do (:class:`reana_job_controller.job_managers.sandbox.Sandbox`): in a bubblewrap
sandbox where only the run's workspace is writable, with a private ``/tmp``, no network
but its own loopback (its kernels talk to it there) and, when the platform runs as root,
the jobs' unprivileged uid. The notebook code a user runs therefore reaches exactly what
the run's jobs reach. The interpreter the workflow controller runs on (and the venv
JupyterLab lives in) is visible read-only.

It listens on a Unix socket in a folder of its own (``/tmp/reana-session-<random>``, bound
into the sandbox): no port is allocated, none can collide or be reached from another
sandbox, and reana-server's proxy connects to the socket. Its only accepted token is the
session's secret (``JUPYTER_TOKEN``, never on a command line). The process is started
detached, in a process group of its own, and recorded in
``$REANA_HOME/sessions/<session id>/handle.json`` (pid and start time) with its log, so
``make down`` (``scripts/stop_platform.py``) ends it too.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from reana_commons.config import get_config
from reana_commons.processes import START_TOLERANCE, record_of, recorded

from reana_workflow_controller.session_managers.base import (
    SessionManager,
    SessionManagerError,
    SessionRequest,
)

SOCKET_NAME = "jupyter.sock"
SOCKET_DIR_PREFIX = "reana-session-"
STOP_GRACE = 5.0
"""Seconds Jupyter gets to shut its kernels down after SIGTERM."""
MAX_SOCKET_PATH = 100
"""A Unix socket's path must fit in 108 bytes (``sun_path``)."""
_LAUNCH = 'log=$1; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'
"""Starts the server in the background of a new session and prints its pid: the shell
exits at once, so the server is nobody's child here (no zombie, no waiting)."""


def sessions_dir() -> Path:
    """Where the local sessions' records and logs live (``$REANA_HOME/sessions``)."""
    return get_config().home / "sessions"


class LocalSessionManager(SessionManager):
    """Runs each session's Jupyter server as a sandboxed local process."""

    name = "local"

    def start(self, request: SessionRequest) -> dict:
        if importlib.util.find_spec("jupyterlab") is None:
            raise SessionManagerError(
                "JupyterLab is not installed next to the workflow controller "
                "(make install installs it; pip install jupyterlab).")
        if not request.workspace.is_dir():
            raise SessionManagerError(f"The workspace {request.workspace} does not exist.")
        record = sessions_dir() / str(request.session_id)
        record.mkdir(parents=True, exist_ok=True)
        socket_dir = Path(tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX, dir=_socket_root()))
        try:
            argv, env, banner = self._command(request, socket_dir)
            log = record / "jupyter.log"
            log.write_text(banner)
            pid = _launch(argv, env, log, request.workspace)
        except BaseException:
            shutil.rmtree(socket_dir, ignore_errors=True)
            raise
        handle = {
            "session_id": str(request.session_id),
            "workflow_id": str(request.workflow_id),
            **record_of(pid),
            "pgid": os.getpgid(pid) if psutil.pid_exists(pid) else pid,
            "socket_dir": str(socket_dir),
            "endpoint": f"unix:{socket_dir / SOCKET_NAME}",
            "base_url": request.base_url,
            "log": str(log),
        }
        (record / "handle.json").write_text(json.dumps(handle))
        return handle

    def _command(self, request: SessionRequest, socket_dir: Path) -> tuple[list, dict, str]:
        """argv, environment and first log line of the session's server."""
        from reana_job_controller.job_managers.sandbox import Sandbox, SandboxUnavailable

        socket_path = socket_dir / SOCKET_NAME
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise SessionManagerError(f"The session socket path {socket_path} is too long.")
        workspace = str(request.workspace)
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            f"--ServerApp.sock={socket_path}", "--ServerApp.sock_mode=0600",
            f"--ServerApp.base_url={request.base_url}", f"--ServerApp.root_dir={workspace}",
            # The proxy passes the public Host through; the socket is only the platform's.
            "--ServerApp.allow_remote_access=True",
            "--LabApp.news_url=",  # no network in the sandbox: no news feed to fetch
        ]
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "SHELL": "/bin/bash",
            "PYTHONUNBUFFERED": "1",
            "JUPYTER_TOKEN": request.secret,
            "REANA_WORKSPACE": workspace,
        }
        try:
            sandbox = Sandbox.from_config()
            sandbox.check()
        except SandboxUnavailable as error:
            raise SessionManagerError(str(error)) from error
        if not sandbox.enabled:
            home = socket_dir / "home"
            home.mkdir(mode=0o700)
            env.update(HOME=str(home), TMPDIR=str(home))
            return command, env, (
                "[reana] job isolation is OFF (REANA_LOCAL_JOB_ISOLATION=none): the Jupyter "
                "server runs on the host as the platform's own user\n")
        python = tuple(p for p in dict.fromkeys((sys.prefix, sys.base_prefix))
                       if not p.startswith(("/usr/", "/bin", "/lib")) and p != "/usr")
        sandbox = dataclasses.replace(sandbox, readonly_paths=sandbox.readonly_paths + python)
        if sandbox.owner is not None:
            sandbox.owner.hand_over(socket_dir)
        sandbox.prepare(request.workspace)
        argv = sandbox.argv(request.workspace, None, None, command, binds=(str(socket_dir),))
        env = sandbox.job_env(env)
        return argv, env, ("[reana] the Jupyter server runs in a bubblewrap sandbox (only its "
                           f"workspace writable, network {sandbox.network})\n")

    def stop(self, handle: dict | None) -> None:
        if not handle:
            return
        members = _group_members(handle)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for process in members:
                try:
                    process.send_signal(sig)
                except psutil.Error:
                    pass
            _, members = psutil.wait_procs(members, timeout=STOP_GRACE)
            if not members:
                break
        if handle.get("socket_dir", "").startswith(_socket_root()):
            shutil.rmtree(handle["socket_dir"], ignore_errors=True)
        if handle.get("session_id"):
            (sessions_dir() / handle["session_id"] / "handle.json").unlink(missing_ok=True)

    def is_alive(self, handle: dict | None) -> bool:
        if not handle or not handle.get("pid"):
            return False
        process = recorded(handle)
        try:
            return process is not None and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


def _socket_root() -> str:
    """Short and shared by host and sandbox: ``/tmp`` (socket paths are length-limited)."""
    return "/tmp" if os.access("/tmp", os.W_OK) else tempfile.gettempdir()


def _launch(argv: list[str], env: dict, log: Path, cwd: Path) -> int:
    """Start ``argv`` detached in a new session; its pid."""
    started = subprocess.run(["/bin/sh", "-c", _LAUNCH, "sh", str(log), *argv], env=env,
                             cwd=str(cwd), capture_output=True, text=True, timeout=60,
                             start_new_session=True, check=False)
    try:
        return int(started.stdout.strip())
    except ValueError:
        raise SessionManagerError(f"The Jupyter server could not be started: "
                                  f"{started.stderr.strip()}") from None


def _group_members(handle: dict) -> list[psutil.Process]:
    """The live processes of the session's process group started since the session.

    The group outlives its first process (the sandbox's inner processes stay in it), and
    the start time guards against a recycled group id.
    """
    pgid = handle.get("pgid") or handle.get("pid")
    since = (handle.get("create_time") or time.time()) - START_TOLERANCE
    members = []
    for process in psutil.process_iter(["create_time"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["create_time"] >= since:
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def stop_recorded_sessions() -> int:
    """End every session server recorded under ``$REANA_HOME/sessions`` (tests' teardown;
    ``make down`` does the same from ``scripts/stop_platform.py``); how many there were."""
    manager, stopped = LocalSessionManager(), 0
    for record in sessions_dir().glob("*/handle.json"):
        try:
            handle = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        manager.stop(handle)
        stopped += 1
    return stopped
