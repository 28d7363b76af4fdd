"""Recognising a recorded process again: its pid and its start time.

A pid alone may have been reused by another process; the start time tells the recorded process
from a newcomer. psutil gives a process's start as seconds since the epoch: its start in clock
ticks since boot (fixed) plus the boot time that ``/proc/stat`` reports, a whole second that
moves by one when the wall clock is adjusted (NTP, a virtual machine's clock sync). Two readings
of the same process, by two processes or a second apart, may therefore differ by a second: a
record matches within :data:`START_TOLERANCE`. A pid is not handed out again that soon (the
kernel allocates pids in increasing order up to ``pid_max`` before wrapping around).
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
    """The process ``pid`` if it is still the one recorded with ``ticks`` (exactly) or, in a
    record without them, ``create_time`` (any process with that pid when neither was
    recorded), else None."""
    try:
        process = psutil.Process(int(pid))
        if ticks is not None:
            return process if start_ticks(process.pid) == int(ticks) else None
        if create_time is not None and \
                abs(process.create_time() - float(create_time)) > START_TOLERANCE:
            return None
        return process
    except (psutil.Error, ValueError, TypeError):
        return None


def record_of(pid: int) -> dict:
    """``{"pid", "create_time", "start_ticks"}``: what :func:`recorded_process` recognises the
    process by (``create_time`` is also what people read)."""
    return {"pid": pid, "create_time": start_time(pid), "start_ticks": start_ticks(pid)}


def recorded(record: dict | None, default_time=None) -> psutil.Process | None:
    """:func:`recorded_process` of a record made by :func:`record_of` (or an older one)."""
    if not record or not record.get("pid"):
        return None
    return recorded_process(record["pid"], record.get("create_time", default_time),
                            record.get("start_ticks"))
