"""``--follow``: plain progress lines off a terminal and the run's result as exit code."""

from __future__ import annotations

import pytest
from reana_client import follow
from reana_client.cli import common


class FakeAPI:
    """Answers get_workflow_status with a scripted sequence of statuses."""

    def __init__(self, states):
        self.states = list(states)

    def call(self, operation_id, **kwargs):
        assert operation_id == "get_workflow_status"
        status, finished, failed = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {
            "status": status,
            "progress": {
                "total": {"total": 2},
                "finished": {"total": finished},
                "failed": {"total": failed},
                "current_step_name": "fit" if status == "running" else None,
            },
        }


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setenv("REANA_SERVER_URL", "http://fake")

    def install(states):
        common._clients.clear()
        common._clients["http://fake"] = FakeAPI(states)

    yield install
    common._clients.clear()


def test_finished_run_exits_0_with_progress_lines(fake_api, capsys):
    fake_api([("queued", 0, 0), ("running", 0, 0), ("running", 1, 0), ("finished", 2, 0)])
    assert follow.follow_run("hw.1", "T", poll=0) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "hw.1 queued: 0/2 steps finished",
        "hw.1 running: 0/2 steps finished, current step fit",
        "hw.1 running: 1/2 steps finished, current step fit",
        "hw.1 finished: 2/2 steps finished",
        "==> SUCCESS: hw.1 has finished",
    ]


@pytest.mark.parametrize("final", ["failed", "stopped"])
def test_failed_or_stopped_run_exits_1(fake_api, capsys, final):
    fake_api([("running", 0, 0), (final, 1, 1)])
    assert follow.follow_run("hw.1", "T", poll=0) == 1
    assert f"==> ERROR: hw.1 has{' been' if final == 'stopped' else ''} {final}" in (
        capsys.readouterr().err
    )


def test_transient_server_errors_are_retried(fake_api, capsys, monkeypatch):
    from reana_client.api.client import APIError

    fake_api([("running", 0, 0), ("finished", 2, 0)])
    api = common._clients["http://fake"]
    real_call, failures = api.call, [APIError(502, {"message": "bad gateway"})]

    def flaky(operation_id, **kwargs):
        if failures:
            raise failures.pop()
        return real_call(operation_id, **kwargs)

    monkeypatch.setattr(api, "call", flaky)
    monkeypatch.setattr(follow.time, "sleep", lambda seconds: None)
    assert follow.follow_run("hw.1", "T", poll=0) == 0


def test_permanent_error_ends_follow_with_1(fake_api, capsys, monkeypatch):
    from reana_client.api.client import APIError

    fake_api([("running", 0, 0)])

    def gone(operation_id, **kwargs):
        raise APIError(404, {"message": "REANA_WORKON is set to hw.1, but ..."})

    monkeypatch.setattr(common._clients["http://fake"], "call", gone)
    assert follow.follow_run("hw.1", "T", poll=0) == 1
    assert "Cannot follow workflow hw.1" in capsys.readouterr().err
