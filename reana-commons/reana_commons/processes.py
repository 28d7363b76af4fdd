"""Recognising a recorded process again: its pid and its start.

A pid alone may have been reused by another process; the start tells the recorded process from a
newcomer. A record (:func:`record_of`) keeps the start in clock ticks since boot
(``/proc/<pid>/stat``), which no clock adjustment moves, and compares it exactly. psutil's
``create_time`` (kept for people to read) adds ``/proc/stat``'s boot time, a whole second derived
from the wall clock that moves when the clock is adjusted or stepped (a virtual machine under
load); a record that has only it (written by an older version) matches within
:data:`START_TOLERANCE`. A record of a process already gone when it was made matches nothing.
"""

from __future__ import annotations

import psutil

START_TOLERANCE = 1.5
"""Seconds two readings of one process's start time may differ by (the boot time's jitter)."""


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat``'s
    ``starttime``): fixed for the process's life, whatever the wall clock does (a virtual
    machine's clock may be stepped by seconds under load). None when unknown."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22; the fields after the command name start at 3
    except (OSError, ValueError, IndexError):
        return None


def start_time(pid: int) -> float | None:
    """The start time of process ``pid`` (seconds since the epoch), None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def recorded_process(pid, create_time=None, ticks=None) -> psutil.Process | None:
    """The process ``pid`` if it is still the one started at ``ticks`` (exactly) or, without
    them, at ``create_time`` (within :data:`START_TOLERANCE`); None otherwise, and when
    neither is known."""
    if ticks is None and create_time is None:
        return None
    try:
        process = psutil.Process(int(pid))
        if ticks is not None:
            return process if start_ticks(process.pid) == int(ticks) else None
        if abs(process.create_time() - float(create_time)) > START_TOLERANCE:
            return None
        return process
    except (psutil.Error, ValueError, TypeError):
        return None


def record_of(pid: int) -> dict:
    """``{"pid", "create_time", "start_ticks"}``: what :func:`recorded` recognises the process
    by (``create_time`` is also what people read)."""
    return {"pid": pid, "create_time": start_time(pid), "start_ticks": start_ticks(pid)}


def recorded(record: dict | None) -> psutil.Process | None:
    """The live process a record of :func:`record_of` (or an older one) names, or None."""
    if not record or not record.get("pid"):
        return None
    return recorded_process(record["pid"], record.get("create_time"),
                            record.get("start_ticks"))
