"""End every per-run process of a REANA_HOME (used by scripts/down.sh).

Run processes live in sessions of their own, outside honcho's process group:
the engine and job controller of each run (listed in ``runs/*/handle.json``),
their jobs, and anything else that carries the home in its environment.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil

HOME = Path(os.environ["REANA_HOME"]).resolve()


def _targets() -> list[psutil.Process]:
    run_ids = set()
    pids = set()
    for handle_file in (HOME / "runs").glob("*/handle.json"):
        try:
            handle = json.loads(handle_file.read_text())
        except (OSError, ValueError):
            continue
        run_ids.add(handle.get("workflow_uuid"))
        for key in ("engine", "job_controller"):
            if (handle.get(key) or {}).get("pid"):
                pids.add(int(handle[key]["pid"]))
    # Never this script or the shells and make that called it (they may carry REANA_HOME too).
    spared = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for process in psutil.process_iter(["pid"]):
        if process.pid in spared:
            continue
        try:
            env = process.environ()
        except (psutil.Error, OSError):
            continue
        tagged = env.get("REANA_WORKFLOW_UUID") in run_ids or env.get("REANA_HOME") == str(HOME)
        if tagged or process.pid in pids and env.get("REANA_HOME") == str(HOME):
            found.append(process)
    return found


def main() -> None:
    """SIGTERM the processes, then SIGKILL what is still there after 3 s."""
    targets = _targets()
    for process in targets:
        try:
            process.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(targets, timeout=3)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    if targets:
        time.sleep(0.1)
        print(f"stopped {len(targets)} run process(es)")


if __name__ == "__main__":
    main()
