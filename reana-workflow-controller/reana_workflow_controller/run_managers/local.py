"""Local-process runtime: each run is a job controller and an engine process.

This is REANA's batch pod on one machine: the run's job controller (REST on an
ephemeral port of 127.0.0.1 it binds itself) and its engine run as two OS processes, each in a
session of its own (so a stop ends their whole process trees). Processes are
forked from a pre-imported zygote when one is running (milliseconds), else
started cold. Their output goes to ``$REANA_HOME/runs/<uuid>/``, where
``handle.json`` also records the process ids for ``make down``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import time
from importlib.metadata import entry_points
from pathlib import Path

import psutil
import requests
from reana_commons.config import JOB_SECRETS_FOLDER, get_config, job_controller_dir
from reana_commons.processes import recorded
from reana_commons.service_auth import TOKEN_VARIABLE, bearer, run_token
from reana_commons.workflow_types import engine_executable
from reana_db.models import Workflow

from reana_workflow_controller.run_managers import spawner
from reana_workflow_controller.run_managers.base import (
    ENGINE_ENDED_CLEANLY,
    RunManager,
    RunManagerError,
    engine_command,
    engine_environment,
)

log = logging.getLogger(__name__)

STOP_GRACE = 3.0
START_ATTEMPTS = 2
"""A job controller that exits before it listens is started once more; one that is alive but
slow (a loaded machine: a cold start costs seconds of CPU) is waited for, never replaced."""
PLATFORM_STOPPED = "platform-stopped"
"""Note ``make down`` (scripts/stop_platform.py) leaves in the folder of a run it ended."""

_nothing_left: set[str] = set()
"""Runs whose job controller answered the shutdown with no job running (so none can outlive
it): their cleanup skips the scan of every process on the machine for the run's tag."""


def run_dir(workflow_id) -> Path:
    """Scratch folder of one run (process logs, handle file)."""
    return get_config().home / "runs" / str(workflow_id)


class LocalRunManager(RunManager):
    """Runs the engine and the job controller as local processes."""

    name = "local"

    def start(self, workflow: Workflow, begin_attempt=None) -> dict:
        """Start the job controller and the engine side by side; wait until it listens.

        The job controller binds a free port itself (port 0: no other process
        can take it between a choice and the bind) and writes its URL to a file
        of this attempt, which the engine reads (``REANA_JOB_CONTROLLER_URL_FILE``)
        and this method waits for, as long as it runs, up to
        ``REANA_JOB_CONTROLLER_START_TIMEOUT`` (300 s; then the start fails). One that exits
        before it listens is started again once: ``begin_attempt(n)`` records attempt ``n``
        *before* the previous attempt's processes are ended, so what their engine reports
        when terminated (``REANA_RUN_ATTEMPT`` rides on its messages) is ignored. A slow one
        is never replaced: its engine may already be sending it jobs.
        """
        if not workflow.workspace_path:
            raise RunManagerError(f"Workflow {workflow.id_} has no workspace.")
        engine_argv = engine_command(workflow)
        executable = _engine_script(engine_argv[0])
        if not executable:
            raise RunManagerError(
                f"No {workflow.type_} workflow engine is installed in this deployment "
                f"({engine_argv[0]} not found): install the engine's package next to the "
                "workflow controller (or into $REANA_WORKFLOW_ENGINES_BIN_DIR's venv), or "
                "run the workflow where one is installed.")
        engine_argv[0] = executable
        folder = run_dir(workflow.id_)
        folder.mkdir(parents=True, exist_ok=True)
        previous: list[dict] = []
        for attempt in range(1, START_ATTEMPTS + 1):
            if begin_attempt is not None:
                begin_attempt(attempt)
            _terminate(previous)  # after the new attempt is recorded: its reports are stale
            handle = self._spawn(workflow, engine_argv, folder, attempt)
            processes = [handle["engine"], handle["job_controller"]]
            try:
                handle["job_controller_url"] = _wait_for_url(
                    folder / handle["job_controller_url_file"], handle["job_controller"],
                    folder / "job-controller.log")
            except JobControllerExited:
                if attempt == START_ATTEMPTS:
                    _terminate(processes)
                    raise
                previous = processes
                continue
            except BaseException:
                _terminate(processes)
                raise
            _write_handle(folder, handle)
            return handle
        raise RunManagerError("unreachable")

    def _spawn(self, workflow: Workflow, engine_argv: list[str], folder: Path,
               attempt: int) -> dict:
        """Start one attempt's job controller and engine; the handle without the URL yet."""
        url_file = folder / f"job-controller.{attempt}.url"
        url_file.unlink(missing_ok=True)
        for name in ("engine.exit", "job-controller.exit", PLATFORM_STOPPED):
            (folder / name).unlink(missing_ok=True)
        env = {
            "REANA_WORKFLOW_UUID": str(workflow.id_),
            "REANA_USER_ID": str(workflow.owner_id),
            "REANA_JOB_CONTROLLER_URL_FILE": str(url_file),
            "REANA_RUN_ATTEMPT": str(attempt),
            # The run token: only this run's engine (and this manager) may call its job
            # controller; the job controller keeps it out of its jobs' environment.
            TOKEN_VARIABLE: run_token(workflow.id_),
            **engine_environment(workflow),
        }
        jc_argv = [
            "reana-job-controller",
            "--workflow-uuid",
            str(workflow.id_),
            "--workspace",
            str(workflow.workspace_path),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--url-file",
            str(url_file),
        ]
        jc = spawner.spawn(jc_argv, env, folder / "job-controller.log", folder)
        engine = spawner.spawn(engine_argv, env, folder / "engine.log", folder)
        handle = {
            "workflow_uuid": str(workflow.id_),
            "run_dir": str(folder),
            "job_controller": jc,
            "engine": engine,
            "job_controller_url": None,
            "job_controller_url_file": url_file.name,
            "attempt": attempt,
        }
        _write_handle(folder, handle)  # the pids, for make down, while it starts
        return handle

    def stop(self, workflow: Workflow | None, handle: dict | None) -> None:
        """Ask the job controller to stop the jobs, then end both process groups."""
        if not handle:
            return
        url = handle.get("job_controller_url")
        if url and _process_alive(handle.get("job_controller")):
            try:
                token = run_token(handle.get("workflow_uuid"))
                response = requests.delete(f"{url}/shutdown", headers=bearer(token), timeout=30)
                if response.status_code != 200:
                    log.warning("job controller at %s refused the shutdown: %s %s", url,
                                response.status_code, response.text[:200])
                elif response.json().get("stopped") == 0:
                    _nothing_left.add(str(handle.get("workflow_uuid")))
            except (requests.RequestException, ValueError) as error:
                log.warning("job controller at %s did not shut down: %s", url, error)
        _terminate([handle.get("engine"), handle.get("job_controller")])

    def starting(self, workflow_id) -> bool:
        """Whether the run's processes are being started: their pids are written (before the
        job controller listens, which may take long on a loaded machine; the handle is stored
        only then), the job controller runs, and this began within the start timeout."""
        handle_file = run_dir(workflow_id) / "handle.json"
        try:
            age = time.time() - handle_file.stat().st_mtime
            handle = json.loads(handle_file.read_text())
        except (OSError, ValueError):
            return False
        return (age < get_config().job_controller_start_timeout + STOP_GRACE
                and _process_alive(handle.get("job_controller")))

    def is_alive(self, handle: dict | None) -> bool:
        """Both processes exist (same pid and start time) and are not zombies."""
        if not handle:
            return False
        return _process_alive(handle.get("engine")) and _process_alive(
            handle.get("job_controller")
        )

    def cleanup(self, handle: dict | None) -> None:
        """End what is left of the run's processes; keep their logs in the run folder."""
        if not handle:
            return
        quiet = str(handle.get("workflow_uuid")) in _nothing_left
        _nothing_left.discard(str(handle.get("workflow_uuid")))
        orphans_possible = not quiet and not _process_alive(handle.get("job_controller"))
        _terminate([handle.get("engine"), handle.get("job_controller")])
        if orphans_possible and handle.get("workflow_uuid"):
            # The job controller died (or was ended by stop() right after signalling jobs
            # whose grace period it no longer watches): find them by their tag.
            _terminate(_leftovers(handle["workflow_uuid"]))
        if handle.get("workflow_uuid"):
            remove_secrets(handle["workflow_uuid"])
        folder = handle.get("run_dir")
        if folder and Path(folder).parent == get_config().home / "runs":
            # The process logs stay for diagnosis; the pid list goes (nothing left to stop).
            (Path(folder) / "handle.json").unlink(missing_ok=True)

    def end_cause(self, handle: dict | None) -> str | None:
        """The job controller process gone while the engine reports failure, or None.

        The job controller never exits on its own before its run has ended, so
        an engine failing because its job controller vanished (killed, or
        crashed) gets that said in the run's logs. A gone engine is no cause:
        it exits right after reporting.
        """
        if not handle or not handle.get("job_controller"):
            return None
        stopped = _platform_stopped(handle)
        if stopped:
            return stopped
        process = handle["job_controller"]
        if _process_alive(process):
            return None
        code = _exit_code(handle, "job-controller")  # none when killed
        ended = f"exited with code {code}" if code else "is gone"
        return f"its job controller process (pid {process.get('pid')}) {ended}"

    def problem(self, handle: dict | None) -> str | None:
        """As the base class says, but a run ended by ``make down`` gets that reason."""
        found = super().problem(handle)
        if found is None or found == ENGINE_ENDED_CLEANLY:  # its final status is on the way
            return found
        return _platform_stopped(handle) or found

    def engine_exited_cleanly(self, handle: dict | None) -> bool:
        """The engine wrote exit code 0 (a kill -9 leaves no exit file)."""
        return _exit_code(handle, "engine") == "0"

    def engine_logs(self, handle: dict | None) -> str:
        """The engine's stdout/stderr so far."""
        if not handle or not handle.get("run_dir"):
            return ""
        try:
            return (Path(handle["run_dir"]) / "engine.log").read_text(errors="replace")
        except OSError:
            return ""


def remove_secrets(workflow_uuid: str) -> None:
    """Delete the owner's decrypted file secrets the run's job controller wrote (run ended)."""
    folder = job_controller_dir(workflow_uuid) / JOB_SECRETS_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        log.error("the secrets of run %s could not be removed from %s", workflow_uuid, folder)


def _leftovers(workflow_uuid: str) -> list[dict]:
    """Processes still tagged with the run (jobs of a job controller that died)."""
    found = []
    me = os.getpid()
    for process in psutil.process_iter(["pid", "create_time"]):
        if process.pid == me:
            continue
        try:
            if process.environ().get("REANA_WORKFLOW_UUID") == workflow_uuid:
                found.append({"pid": process.pid, "create_time": process.info["create_time"]})
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def _platform_stopped(handle: dict | None) -> str | None:
    """The reason for a run whose processes ``make down`` ended, or None."""
    if not handle or not handle.get("run_dir"):
        return None
    try:
        when = (Path(handle["run_dir"]) / PLATFORM_STOPPED).read_text().strip()
    except OSError:
        return None
    return (f"the platform was stopped (make down, {when}) while the run was running, "
            "which ends its engine, job controller and jobs; run it again")


def _exit_code(handle: dict | None, process: str) -> str:
    """The exit code ``process`` recorded in the run folder ("" if it has not ended by itself:
    running, or killed)."""
    if not handle or not handle.get("run_dir"):
        return ""
    try:
        return spawner.exit_file_of(Path(handle["run_dir"]) / f"{process}.log").read_text().strip()
    except OSError:
        return ""


@functools.cache
def _engine_script(script: str) -> str | None:
    """How to start engine console script ``script``: its name when this environment has it
    (so the zygote can fork it), else its path (an engine venv's bin, PATH), else None."""
    if entry_points(group="console_scripts", name=script):
        return script
    return engine_executable(script)


def _write_handle(folder: Path, handle: dict) -> None:
    tmp = folder / "handle.json.tmp"
    tmp.write_text(json.dumps(handle))
    os.replace(tmp, folder / "handle.json")


class JobControllerExited(RunManagerError):
    """The job controller ended before it listened (a crash: worth one more attempt)."""


def _wait_for_url(url_file: Path, process: dict, log_file: Path) -> str:
    """The URL the job controller published, waiting while it runs (up to the start timeout)."""
    timeout = get_config().job_controller_start_timeout
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            url = url_file.read_text().strip()
        except FileNotFoundError:
            url = ""
        if url:
            return url
        if not _process_alive(process):
            raise JobControllerExited(
                "The job controller exited before listening: " + _tail(log_file)
            )
        if time.monotonic() >= deadline:
            raise RunManagerError(
                f"The job controller did not listen within {timeout:g} s "
                "(REANA_JOB_CONTROLLER_START_TIMEOUT)."
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no output)"


def _proc(info: dict | None) -> psutil.Process | None:
    return recorded(info)


def _process_alive(info: dict | None) -> bool:
    process = _proc(info)
    if process is None:
        return False
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _terminate(infos: list[dict | None]) -> None:
    """SIGTERM the process groups, SIGKILL what is left after a grace period."""
    groups = []
    for info in infos:
        if _proc(info) is not None:
            groups.append(int(info["pid"]))
            _signal_group(int(info["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while groups and time.monotonic() < deadline:
        groups = [pid for pid, info in _pairs(groups, infos) if _process_alive(info)]
        if groups:
            time.sleep(0.02)
    for pid in groups:
        _signal_group(pid, signal.SIGKILL)
    spawner.reap()


def _pairs(pids, infos):
    by_pid = {int(i["pid"]): i for i in infos if i and i.get("pid")}
    return [(pid, by_pid[pid]) for pid in pids]


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
