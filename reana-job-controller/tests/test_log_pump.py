"""The live-log pump (ADR 0026): copies what a backend reports, from where it stopped."""

from __future__ import annotations

import uuid

import pytest
from reana_commons.config import reset_config
from reana_commons.live_logs import live_log_path, read_live_log
from reana_db.enums import JobStatus
from reana_job_controller.job_managers.base import JobRecord
from reana_job_controller.log_pump import LogPump


@pytest.fixture(autouse=True)
def shared(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARED_VOLUME_PATH", str(tmp_path / "shared"))
    monkeypatch.setenv("REANA_HOME", str(tmp_path / "home"))
    reset_config()
    yield
    reset_config()


class Backend:
    """A backend whose jobs' output is what the test says (read from any offset)."""

    writes_live_log = False

    def __init__(self):
        self.output: dict[str, bytes] = {}
        self.reads: list[tuple[str, int]] = []

    def output_since(self, job, offset, limit):
        self.reads.append((job.id, offset))
        if getattr(job, "broken", False):
            raise RuntimeError("pod gone")
        return self.output.get(job.id, b"")[offset:offset + limit]


class Direct(Backend):
    writes_live_log = True


RUN = str(uuid.uuid4())


def _job(backend="pumped", status=JobStatus.running, backend_id="b-1"):
    return JobRecord(id=str(uuid.uuid4()), workflow_uuid=RUN, status=status,
                     compute_backend=backend, backend_job_id=backend_id)


def test_the_pump_copies_new_output_only_and_goes_on_after_a_restart():
    backend, direct = Backend(), Direct()
    job, local, unsubmitted, ended = (_job(), _job("local"), _job(backend_id=None),
                                      _job(status=JobStatus.finished))
    jobs = [job, local, unsubmitted, ended]
    managers = {"pumped": backend, "local": direct}
    pump = LogPump(RUN, lambda: jobs, managers.__getitem__, interval=0.05)
    backend.output[job.id] = b"line 1\n"
    pump.pump_once()
    backend.output[job.id] += b"line 2\nline"
    pump.pump_once()
    assert read_live_log(RUN, job.id).text == "line 1\nline 2\nline"
    assert backend.reads == [(job.id, 0), (job.id, 7)]  # only running jobs of pumped backends
    # A new job controller (a new pump) goes on from the file's end.
    backend.output[job.id] += b" 3\n"
    again = LogPump(RUN, lambda: jobs, managers.__getitem__, interval=0.05)
    again.pump_once()
    assert read_live_log(RUN, job.id).text == "line 1\nline 2\nline 3\n"
    assert backend.reads[-1] == (job.id, 18)
    # The end is stored: the file goes and a late copy does not make it again.
    again.forget(job.id)
    assert not live_log_path(RUN, job.id).exists()
    backend.output[job.id] += b"late\n"
    again.pump_once()
    again._append(job.id, 0, b"late\n")
    assert not live_log_path(RUN, job.id).exists()


def test_a_backend_failing_for_one_job_does_not_stop_the_others():
    backend = Backend()
    broken, fine = _job(), _job()
    broken.broken = True
    backend.output[fine.id] = b"ok\n"
    pump = LogPump(RUN, lambda: [broken, fine], lambda name: backend, interval=0.05)
    pump.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while read_live_log(RUN, fine.id) is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        pump.close()
    assert read_live_log(RUN, fine.id).text == "ok\n"
