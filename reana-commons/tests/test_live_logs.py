"""Live log files (ADR 0026): where they are, and how the API reads them safely."""

from __future__ import annotations

import os
import uuid

import pytest
from reana_commons.config import reset_config
from reana_commons.live_logs import (
    create_live_log,
    live_log_path,
    read_live_log,
    remove_live_log,
    remove_run_live_dir,
    run_live_dir,
)


@pytest.fixture
def shared(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARED_VOLUME_PATH", str(tmp_path / "shared"))
    monkeypatch.setenv("REANA_HOME", str(tmp_path / "home"))
    reset_config()
    yield tmp_path / "shared"
    reset_config()


RUN, JOB = str(uuid.uuid4()), str(uuid.uuid4())


def _write(data: bytes, run=RUN, job=JOB) -> None:
    fd = create_live_log(run, job)
    os.write(fd, data)
    os.close(fd)


def test_a_job_s_live_log_lies_outside_every_workspace(shared):
    path = live_log_path(RUN, JOB)
    assert path == shared / ".reana" / "live-logs" / RUN / f"{JOB}.log"
    with pytest.raises(ValueError):
        live_log_path(RUN, "../../users/x")  # ids are UUIDs, never paths


def test_reading_whole_tail_and_half_written_characters(shared):
    assert read_live_log(RUN, JOB) is None  # nothing yet
    _write("héllo\n".encode() + "€".encode()[:2])  # a character still being written
    live = read_live_log(RUN, JOB)
    assert (live.text, live.start, live.size, live.truncated) == ("héllo\n", 0, 9, False)
    fd = os.open(live_log_path(RUN, JOB), os.O_WRONLY | os.O_APPEND)
    os.write(fd, "€".encode()[2:] + b"\n")
    os.close(fd)
    assert read_live_log(RUN, JOB).text == "héllo\n€\n"  # the read only adds to the text
    tail = read_live_log(RUN, JOB, tail=5)  # cuts "€" in its middle: the rest is dropped
    assert tail.truncated and tail.text == "\n€\n" and tail.size == 11


def test_links_and_odd_files_are_not_read(shared, tmp_path):
    secret = tmp_path / "secret-key"
    secret.write_text("the platform's key")
    folder = run_live_dir(RUN)
    folder.mkdir(parents=True)
    os.symlink(secret, folder / f"{JOB}.log")
    assert read_live_log(RUN, JOB) is None
    os.unlink(folder / f"{JOB}.log")
    os.link(secret, folder / f"{JOB}.log")
    assert read_live_log(RUN, JOB) is None  # a hard link has two links
    os.unlink(folder / f"{JOB}.log")
    os.mkfifo(folder / f"{JOB}.log")
    assert read_live_log(RUN, JOB) is None  # and a FIFO cannot hang the reader
    os.unlink(folder / f"{JOB}.log")
    os.rmdir(folder)
    os.symlink(tmp_path, folder)  # the run's folder swapped for a link
    (tmp_path / f"{JOB}.log").write_text("forged")
    assert read_live_log(RUN, JOB) is None


def test_removal(shared):
    _write(b"x\n")
    remove_run_live_dir(RUN)
    assert run_live_dir(RUN).exists()  # a live log is left: kept
    remove_live_log(RUN, JOB)
    remove_live_log(RUN, JOB)
    remove_run_live_dir(RUN)
    assert not run_live_dir(RUN).exists()
