"""The ``local`` backend: each job is a ``bash -c`` process group on this machine.

A job runs in its own session (so stop kills the whole tree) with a clean
environment: a few host variables, the job's ``env_vars``, ``REANA_WORKSPACE``,
``REANA_WORKFLOW_UUID`` and the user's secrets. Output goes straight to the job's
live log file (:mod:`reana_commons.live_logs`, outside the workspace), read by the
logs answers while the job runs. A tiny bash
wrapper (or bubblewrap's JSON status) writes the exit status to ``<job_id>.exit`` so
a restarted job controller, which is no longer the parent, still learns how the job
ended. Jobs are isolated by :mod:`~reana_job_controller.job_managers.sandbox`: a
bubblewrap sandbox by default, or, with ``REANA_CONTAINER_RUNTIME`` set (e.g.
``podman``), the step's image with the workspace bind-mounted at the same path.

The backend id is ``<pid>:<start ticks>:<job id>``: the start time tells a
re-used pid from the job's own process.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
from reana_commons.config import get_config
from reana_commons.live_logs import create_live_log, live_log_path, remove_live_log
from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState, JobManager, JobRecord
from reana_job_controller.job_managers.sandbox import SECRETS_VARIABLE, Sandbox
from reana_job_controller.quantities import memory_bytes

STOP_GRACE_SECONDS = 2.0
MAX_LOG_BYTES = 32 * 1024 * 1024
"""Logs kept per job (the end of the output when it is longer)."""
HOST_ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
                 "TMPDIR", "SHELL", "XDG_RUNTIME_DIR", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF")

# $1 exit file, $2 memory limit in KiB ("" = none), $3 the command. The EXIT trap also runs
# when the command calls `exit`; variables have odd names so the command does not clobber them.
_HOST_WRAPPER = (
    '__reana_exit_file="$1"; __reana_cmd="$3"; [ -n "$2" ] && ulimit -v "$2"; shift 3; '
    "trap 'printf \"%s\" \"$?\" > \"$__reana_exit_file\"' EXIT; eval \"$__reana_cmd\""
)
# $1 exit file, then the container runtime's argv.
_CONTAINER_WRAPPER = (
    '__reana_exit_file="$1"; shift; '
    "trap 'printf \"%s\" \"$?\" > \"$__reana_exit_file\"' EXIT; \"$@\""
)


def _start_ticks(pid: int) -> str | None:
    """The process start time in clock ticks (``/proc/<pid>/stat`` field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == b"Z":
        return None  # a zombie has ended
    return fields[19].decode()


def _read_exit_status(text: str) -> int | None:
    """The exit code in an exit file: the wrapper's number, or bwrap's JSON status lines."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("exit-code"), int):
            return document["exit-code"]
    return None


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_bwrap(process: psutil.Process) -> bool:
    try:
        return process.name() == "bwrap"
    except psutil.Error:
        return True  # gone


def _group_members(pgid: int) -> list[psutil.Process]:
    """Living processes of process group ``pgid``."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and _alive(process):
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def _runtime_version(runtime: str) -> str:
    """``podman 4.3.1``: the container runtime and its version (just its name if unknown)."""
    try:
        version = subprocess.run([runtime, "--version"], capture_output=True, text=True,
                                 timeout=30, check=False).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return runtime
    return f"{runtime} {version[-1]}" if version else runtime


def _image_digest(runtime: str, image: str) -> str | None:
    """The local image's digest (its id when the runtime records no digest), or None."""
    try:
        found = subprocess.run([runtime, "image", "inspect", "--format",
                                "{{.Digest}} {{.Id}}", image], capture_output=True, text=True,
                               timeout=30, check=False).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for value in found:
        if value.startswith("sha256:") and value.strip("sha256:0"):
            return value
    return f"sha256:{found[-1]}" if found and len(found[-1]) == 64 else None


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _state_for(exit_code: int | None, reason: str = "") -> BackendState:
    if exit_code == 0:
        return BackendState(JobStatus.finished, 0, reason)
    return BackendState(JobStatus.failed, exit_code, reason)


class _Reaper:
    """One thread learning process exits through pidfds (no thread per job).

    Works for our children and for processes adopted from a previous job
    controller alike (a pidfd needs no parenthood).
    """

    def __init__(self):
        self.epoll = select.epoll()
        self.watched: dict[int, Callable[[], None]] = {}
        self.wakeup_read, self.wakeup_write = os.pipe()
        self.epoll.register(self.wakeup_read, select.EPOLLIN)
        self.thread = threading.Thread(target=self._run, name="job-reaper", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        os.write(self.wakeup_write, b"x")
        self.thread.join(timeout=5)

    def watch(self, pid: int, on_exit: Callable[[], None]) -> bool:
        """Call ``on_exit()`` (on the reaper thread) once ``pid`` has exited."""
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return False
        self.watched[fd] = on_exit  # before register: the event may come at once
        self.epoll.register(fd, select.EPOLLIN)
        return True

    def _run(self) -> None:
        while True:
            for fd, _events in self.epoll.poll():
                if fd == self.wakeup_read:
                    return
                on_exit = self.watched.pop(fd)
                self.epoll.unregister(fd)
                os.close(fd)
                try:
                    on_exit()
                except Exception:  # noqa: BLE001 - the resync catches what was missed
                    pass


class LocalJobManager(JobManager):
    """Runs jobs as local process groups (in a container when a runtime is configured)."""

    name = "local"
    pushes_completion = True
    logs_while_running = True
    survives_restart = True
    writes_live_log = True

    def __init__(self, context):
        super().__init__(context)
        self.jobs_dir = context.run_dir / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.container_runtime = get_config().container_runtime
        self.default_memory_limit = get_config().kubernetes_memory_limit
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._base_env = {k: v for k, v in os.environ.items() if k in HOST_ENV_KEEP}
        self._sandbox: Sandbox | None = None
        self._reaper: _Reaper | None = None
        self._adopted: set[str] = set()
        self._images: dict[str, tuple[str, str | None]] = {}
        """Image → (runtime and version, digest), asked once per image (provenance)."""
        self._pending_kills: dict[str, threading.Timer] = {}
        """Stopped jobs whose SIGKILL after the grace period is still to come."""

    # --- paths ---------------------------------------------------------------------------
    def log_path(self, job_id: str) -> Path:
        return live_log_path(self.context.workflow_uuid, job_id)

    def exit_path(self, job_id: str) -> Path:
        return self.jobs_dir / f"{job_id}.exit"

    # --- submit --------------------------------------------------------------------------
    def sandbox(self) -> Sandbox:
        """The isolation policy (read once; raises SandboxUnavailable while it cannot hold)."""
        if self._sandbox is None:
            sandbox = Sandbox.from_config()
            if not self.container_runtime:
                sandbox.check()
            self._sandbox = sandbox
        return self._sandbox

    def submit(self, job: JobRecord) -> str:
        sandbox = self.sandbox()
        env = dict(self._base_env)
        env.update({str(k): str(v) for k, v in (job.env_vars or {}).items()})
        env.update(self.context.job_env())
        env["REANA_WORKSPACE"] = str(self.context.workspace)
        env["REANA_WORKFLOW_UUID"] = self.context.workflow_uuid
        limit = memory_bytes(job.spec.get("kubernetes_memory_limit") or self.default_memory_limit)
        limit_kib = str(max(limit // 1024, 1)) if limit else ""
        exit_file = str(self.exit_path(job.id))
        status_fd = None
        if self.container_runtime:
            sandbox.prepare(self.context.workspace, self.context.secret_files_dir())
            argv = ["bash", "-c", _CONTAINER_WRAPPER, "reana-job", exit_file,
                    *self._container_argv(job, env, limit_kib, sandbox)]
            banner = ""
        elif sandbox.enabled:
            secrets_dir = self.context.secret_files_dir()
            sandbox.prepare(self.context.workspace, secrets_dir)
            inner = f"ulimit -v {limit_kib}\n{job.cmd}" if limit_kib else job.cmd
            status_fd = os.open(exit_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                                0o600)
            argv = sandbox.argv(self.context.workspace, secrets_dir, status_fd,
                                ["bash", "-c", inner])
            env = sandbox.job_env(env)
            banner = sandbox.banner(job.docker_img)
        else:
            argv = ["bash", "-c", _HOST_WRAPPER, "reana-job", exit_file, limit_kib, job.cmd]
            banner = sandbox.banner(job.docker_img)
            if env.get(SECRETS_VARIABLE):
                # Nothing can be mounted at REANA's /etc/reana/secrets on an unsandboxed host.
                banner += (f"[reana] this run's file secrets are in {SECRETS_VARIABLE}="
                           f"{env[SECRETS_VARIABLE]} (not /etc/reana/secrets: no sandbox)\n")
        try:
            with os.fdopen(create_live_log(self.context.workflow_uuid, job.id), "wb") as log:
                if banner:
                    log.write(banner.encode())
                    log.flush()
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.context.workspace, env=env, start_new_session=True, close_fds=True,
                    pass_fds=() if status_fd is None else (status_fd,),
                )
        finally:
            if status_fd is not None:
                os.close(status_fd)
        ticks = _start_ticks(proc.pid) or "0"
        backend_job_id = f"{proc.pid}:{ticks}:{job.id}"
        with self._lock:
            self._procs[backend_job_id] = proc
        return backend_job_id

    def _container_argv(self, job: JobRecord, env: dict, limit_kib: str,
                        sandbox: Sandbox) -> list[str]:
        workspace = str(self.context.workspace)
        config = get_config()
        argv = [self.container_runtime, "run", "--rm", "--name", f"reana-job-{job.id}",
                *sandbox.container_args(), "-v", f"{workspace}:{workspace}", "-w", workspace]
        secrets_dir = self.context.secret_files_dir()
        if secrets_dir is not None:
            argv += ["-v", f"{secrets_dir}:{config.user_secret_mount_path}:ro"]
            env["REANA_USER_SECRET_MOUNT_PATH"] = config.user_secret_mount_path
        for name in sorted(env):
            if name not in HOST_ENV_KEEP:
                argv += ["-e", name]  # value taken from the runtime's own environment
        inner = f'ulimit -v {limit_kib} 2>/dev/null; {job.cmd}' if limit_kib else job.cmd
        return [*argv, job.docker_img, "bash", "-c", inner]

    def environment(self, job: JobRecord) -> dict:
        """The host, and the container runtime with the image's digest, or the sandbox."""
        if not self.container_runtime:
            sandbox = self._sandbox.describe() if self._sandbox is not None else "host"
            return {"node": socket.gethostname(), "runtime": sandbox}
        with self._lock:
            known = self._images.get(job.docker_img)
        if known is None:
            known = (_runtime_version(self.container_runtime),
                     _image_digest(self.container_runtime, job.docker_img))
            with self._lock:
                self._images[job.docker_img] = known
        return {"node": socket.gethostname(), "runtime": known[0], "image_digest": known[1]}

    def follow(self, job: JobRecord) -> None:
        with self._lock:
            proc = self._procs.get(job.backend_job_id)
        if proc is None:
            return
        job_id = job.id

        def on_exit():
            self._ended(job_id, proc.wait())

        if self._reaper is None or not self._reaper.watch(proc.pid, on_exit):
            threading.Thread(target=on_exit, name=f"job-{job_id[:8]}", daemon=True).start()

    def _adopt(self, backend_job_id: str, pid: int) -> None:
        """Follow a running job of a previous job controller through a pidfd."""
        if self._reaper is None or backend_job_id in self._adopted:
            return
        job_id = backend_job_id.split(":", 2)[2]

        def on_exit():
            if self._on_completion is not None:
                self._on_completion(job_id, self._status(backend_job_id))

        if self._reaper.watch(pid, on_exit):
            self._adopted.add(backend_job_id)

    def start(self, on_completion) -> None:
        super().start(on_completion)
        if hasattr(os, "pidfd_open"):
            self._reaper = _Reaper()
            self._reaper.start()

    def close(self) -> None:
        # A stopped job that ignored SIGTERM is killed now: the timer would die with this process.
        with self._lock:
            pending = list(self._pending_kills.values())
        for timer in pending:
            timer.cancel()
            self._kill(*timer.args)
        if self._reaper is not None:
            self._reaper.stop()

    def _ended(self, job_id: str, returncode: int) -> None:
        if self._on_completion is not None:
            self._on_completion(job_id, _state_for(_exit_code(returncode)))

    # --- status --------------------------------------------------------------------------
    def status(self, backend_job_ids: Sequence[str]) -> dict[str, BackendState]:
        return {backend_id: self._status(backend_id) for backend_id in backend_job_ids}

    def _status(self, backend_job_id: str) -> BackendState:
        with self._lock:
            proc = self._procs.get(backend_job_id)
        if proc is not None:
            returncode = proc.poll()
            if returncode is None:
                return BackendState(JobStatus.running)
            return _state_for(_exit_code(returncode))
        try:
            pid, ticks, job_id = backend_job_id.split(":", 2)
        except ValueError:
            return BackendState(JobStatus.failed, reason=f"unknown local job {backend_job_id}")
        if _start_ticks(int(pid)) == ticks:
            self._adopt(backend_job_id, int(pid))
            return BackendState(JobStatus.running)
        try:
            exit_code = _read_exit_status(self.exit_path(job_id).read_text())
        except OSError:
            exit_code = None
        if exit_code is not None:
            return _state_for(exit_code)
        return BackendState(JobStatus.failed,
                            reason="the job's process ended without an exit status")

    # --- logs, stop, cleanup -----------------------------------------------------------
    def logs(self, job: JobRecord) -> str:
        try:
            with open(self.log_path(job.id), "rb") as log:
                size = os.fstat(log.fileno()).st_size
                if size <= MAX_LOG_BYTES:
                    return log.read().decode(errors="replace")
                log.seek(size - MAX_LOG_BYTES)
                tail = log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        return f"[reana] log truncated: first {size - MAX_LOG_BYTES} bytes omitted\n{tail}"

    def stop(self, backend_job_id: str) -> None:
        pid_text, ticks, job_id = (backend_job_id.split(":", 2) + ["", ""])[:3]
        pid = int(pid_text)
        if _start_ticks(pid) != ticks:
            return  # already gone (or the pid now belongs to someone else)
        try:
            tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            tree = []
        self._signal(pid, tree, signal.SIGTERM)
        if tree and all(_is_bwrap(process) for process in tree):
            # A sandbox still setting up: its pid 1 ignores SIGTERM and nothing of the job runs
            # yet, so nothing is lost by killing it now (a timer dies with this process).
            self._signal(pid, tree, signal.SIGKILL)
            return
        timer = threading.Timer(STOP_GRACE_SECONDS, self._kill, args=(pid, ticks, tree, job_id))
        timer.daemon = True
        with self._lock:
            self._pending_kills[backend_job_id] = timer
        timer.start()

    @staticmethod
    def _signal(pgid: int | None, tree: list, signum: int) -> None:
        if pgid is not None:
            try:
                os.killpg(pgid, signum)
            except OSError:
                pass
        for process in tree:  # descendants that left the process group
            try:
                process.send_signal(signum)
            except psutil.Error:
                pass

    def _kill(self, pid: int, ticks: str, tree: list, job_id: str) -> None:
        with self._lock:
            self._pending_kills.pop(f"{pid}:{ticks}:{job_id}", None)
        alive = [process for process in tree if _alive(process)]
        # Members that joined the group after the first signal count too: a sandbox still
        # setting up when SIGTERM came (its pid 1 ignores it) starts the job only afterwards.
        group_is_ours = _start_ticks(pid) in (None, ticks)  # its id not reused meanwhile
        if group_is_ours:
            alive += [process for process in _group_members(pid) if process not in alive]
        if alive:
            self._signal(pid if group_is_ours else None, alive, signal.SIGKILL)
        if self.container_runtime:
            subprocess.run([self.container_runtime, "rm", "-f", f"reana-job-{job_id}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def cleanup(self, job: JobRecord) -> None:
        with self._lock:
            self._procs.pop(job.backend_job_id or "", None)
        self._adopted.discard(job.backend_job_id or "")
        remove_live_log(self.context.workflow_uuid, job.id)
        try:
            self.exit_path(job.id).unlink()
        except FileNotFoundError:
            pass
