"""Stop what ``scripts/up.sh`` started for one ``REANA_HOME``, and nothing else (``make down``).

The platform's processes are known from its own records, never guessed from an environment
variable (a user's shell, or the ``tail`` that ``make down | tail`` pipes into, may carry the same
``REANA_HOME``):

- supervisord (``$REANA_HOME/supervisord.pid``, checked to be supervisord running this home's
  configuration) and every process below it: the services, the zygote and the engines and job
  controllers it forked (still its children, in sessions of their own);
- each run's engine and job controller recorded by the run manager in
  ``$REANA_HOME/runs/<uuid>/handle.json`` (pid and start time, so a reused pid is not hit), the
  processes below them, and the jobs tagged with that run's ``REANA_WORKFLOW_UUID``;
- each interactive session's Jupyter server recorded by the local session manager in
  ``$REANA_HOME/sessions/<id>/handle.json`` (pid, start time, process group) and its socket
  folder; the session is closed ("its Jupyter server ended") when the platform is up again.

The tree is read before anything is signalled (once supervisord is gone, the zygote's children
are reparented). Each run that was running gets a ``platform-stopped`` note in its run folder:
when the platform comes up again, its run manager reports that the platform was stopped under the
run, and the run is failed with that reason (runs do not survive ``make down``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
from reana_commons.processes import START_TOLERANCE, recorded

HOME = Path(os.environ["REANA_HOME"]).resolve()
PLATFORM_STOPPED = "platform-stopped"
"""Name of the note in a run folder; ``LocalRunManager`` reads it (same name there)."""
SUPERVISOR_GRACE = 30.0
RUN_GRACE = 3.0


def supervisord() -> psutil.Process | None:
    """This home's supervisord, when its pid file names one that runs this home's config."""
    try:
        process = psutil.Process(int((HOME / "supervisord.pid").read_text().strip()))
        argv = process.cmdline()
    except (OSError, ValueError, psutil.Error):
        return None
    if not any("supervisord" in arg for arg in argv[:2]):
        return None
    for arg in argv:
        try:
            if arg.endswith(".conf") and os.path.samefile(arg, HOME / "supervisord.conf"):
                return process
        except OSError:
            continue
    return None


def _with_descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return [process]


def runs() -> dict[str, tuple[Path, list[psutil.Process]]]:
    """Run uuid -> (run folder, its live engine and job controller) from the run records."""
    found = {}
    for handle_file in (HOME / "runs").glob("*/handle.json"):
        try:
            handle = json.loads(handle_file.read_text())
        except (OSError, ValueError):
            continue
        alive = [p for key in ("engine", "job_controller") if (p := recorded(handle.get(key)))]
        if handle.get("workflow_uuid"):
            found[str(handle["workflow_uuid"])] = (handle_file.parent, alive)
    return found


def sessions() -> list[tuple[Path, dict, list[psutil.Process]]]:
    """Session records -> (record file, handle, the live processes of its process group)."""
    found = []
    for handle_file in (HOME / "sessions").glob("*/handle.json"):
        try:
            handle = json.loads(handle_file.read_text())
        except (OSError, ValueError):
            continue
        if recorded(handle) is None and not handle.get("pgid"):
            continue
        since = float(handle.get("create_time") or 0) - START_TOLERANCE
        members = []
        for process in psutil.process_iter(["create_time"]):
            try:
                if os.getpgid(process.pid) == handle.get("pgid") and \
                        process.info["create_time"] >= since:
                    members.append(process)
            except (OSError, psutil.Error):
                continue
        found.append((handle_file, handle, members))
    return found


def _tagged(run_ids: set[str]) -> list[psutil.Process]:
    """Jobs of those runs (their job controller tags them; one that died left them behind)."""
    if not run_ids:
        return []
    me, found = os.getpid(), []
    for process in psutil.process_iter(["pid"]):
        if process.pid == me:
            continue
        try:
            if process.environ().get("REANA_WORKFLOW_UUID") in run_ids:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def _signal(processes, sig) -> None:
    for process in processes:
        try:
            if process.is_running():  # same pid *and* start time
                process.send_signal(sig)
        except psutil.Error:
            pass


def main() -> int:
    """Stop supervisord (it stops the services), then the runs' processes; report what ended."""
    daemon = supervisord()
    run_records = runs()
    targets: dict[int, psutil.Process] = {}
    if daemon is not None:
        targets.update((p.pid, p) for p in _with_descendants(daemon))
    for _folder, processes in run_records.values():
        for process in processes:
            targets.update((p.pid, p) for p in _with_descendants(process))
    targets.update((p.pid, p) for p in _tagged(set(run_records)))
    session_records = sessions()
    for _file, _handle, processes in session_records:
        targets.update((p.pid, p) for p in processes)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for folder, processes in run_records.values():
        if processes:
            (folder / PLATFORM_STOPPED).write_text(stamp + "\n")
    if daemon is not None:
        # SIGTERM: supervisord stops every program (their process groups), then exits.
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(SUPERVISOR_GRACE)
        except psutil.TimeoutExpired:
            daemon.kill()
        except psutil.Error:
            pass
    (HOME / "supervisord.pid").unlink(missing_ok=True)
    rest = [p for pid, p in targets.items() if daemon is None or pid != daemon.pid]
    _signal(rest, signal.SIGTERM)
    _, alive = psutil.wait_procs(rest, timeout=RUN_GRACE)
    _signal(alive, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=RUN_GRACE)
    for handle_file, handle, _processes in session_records:
        folder = str(handle.get("socket_dir") or "")
        if os.path.basename(folder).startswith("reana-session-"):
            shutil.rmtree(folder, ignore_errors=True)
        handle_file.unlink(missing_ok=True)
    stopped_runs = sum(1 for _folder, processes in run_records.values() if processes)
    if stopped_runs:
        print(f"stopped {stopped_runs} running run(s); they will be failed with the reason "
              "'the platform was stopped' when it comes up again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
