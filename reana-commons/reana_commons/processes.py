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


def start_time(pid: int) -> float | None:
    """The start time of process ``pid`` (seconds since the epoch), None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def recorded_process(pid, create_time=None) -> psutil.Process | None:
    """The process ``pid`` if it is still the one recorded with ``create_time`` (any process
    with that pid when no start time was recorded), else None."""
    try:
        process = psutil.Process(int(pid))
        if create_time is not None and \
                abs(process.create_time() - float(create_time)) > START_TOLERANCE:
            return None
        return process
    except (psutil.Error, ValueError, TypeError):
        return None


def record_of(pid: int) -> dict:
    """``{"pid", "create_time"}``: what :func:`recorded_process` recognises the process by."""
    return {"pid": pid, "create_time": start_time(pid)}
