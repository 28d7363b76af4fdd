"""A recorded process is recognised by pid and start time, across the boot time's jitter."""

from __future__ import annotations

import os
import subprocess

from reana_commons.processes import record_of, recorded, recorded_process


def test_the_recorded_process_is_recognised_across_a_one_second_clock_step():
    record = record_of(os.getpid())
    assert recorded(record).pid == os.getpid()
    # /proc/stat's boot time is a whole second that moves when the clock is adjusted: another
    # process reading the same start time may get it one second off.
    for step in (-1.0, 1.0):
        assert recorded_process(record["pid"], record["create_time"] + step) is not None


def test_another_process_with_the_pid_or_a_gone_one_is_not():
    record = record_of(os.getpid())
    assert recorded_process(record["pid"], record["create_time"] - 60) is None
    child = subprocess.Popen(["true"])
    child.wait()
    assert recorded_process(child.pid, record["create_time"]) is None
    gone = record_of(child.pid)
    assert gone["create_time"] is None and gone["start_ticks"] is None
    assert recorded(gone) is None  # a record of a gone process names no later one


def test_start_ticks_decide_when_recorded_whatever_the_wall_clock_did():
    record = record_of(os.getpid())
    assert record["start_ticks"] is not None
    # A clock stepped by minutes changes the wall-clock start time, not the ticks since boot.
    assert recorded_process(record["pid"], record["create_time"] + 300,
                            record["start_ticks"]).pid == os.getpid()
    assert recorded_process(record["pid"], record["create_time"],
                            record["start_ticks"] + 1) is None
