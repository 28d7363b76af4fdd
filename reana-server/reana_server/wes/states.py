"""REANA run statuses as WES states (docs/adr/0027, the reference's NOTES.md mapping)."""

from __future__ import annotations

from reana_db.enums import RunStatus

STATES = ("UNKNOWN", "QUEUED", "INITIALIZING", "RUNNING", "PAUSED", "COMPLETE",
          "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "CANCELING", "PREEMPTED")
"""WES 1.1's ``State`` enumeration."""

_BY_STATUS = {
    RunStatus.created: "QUEUED",  # a WES run is started at once; a REANA one waits to be
    RunStatus.queued: "QUEUED",
    RunStatus.pending: "INITIALIZING",
    RunStatus.running: "RUNNING",
    RunStatus.finished: "COMPLETE",
    RunStatus.stopped: "CANCELED",
    RunStatus.deleted: "UNKNOWN",
}


def wes_state(status: RunStatus, a_job_failed: bool) -> str:
    """The WES state of a run: a failed run is an EXECUTOR_ERROR when one of its jobs
    failed, a SYSTEM_ERROR otherwise (the engine failed, the start failed...)."""
    status = RunStatus(status)
    if status == RunStatus.failed:
        return "EXECUTOR_ERROR" if a_job_failed else "SYSTEM_ERROR"
    return _BY_STATUS[status]
