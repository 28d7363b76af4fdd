"""``logs --follow``: new lines once, with their step name, until the run ends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from reana_client import log_follow
from reana_client.cli import cli, common

RUN = "7e1a40c2-36a4-4a6e-9f5e-0f7f3c0b4a11"


class FakeAPI:
    """A run whose logs grow with each read (a script of (status, engine, jobs) states)."""

    def __init__(self, states):
        self.states = list(states)
        self.current = self.states[0]
        self.calls = []

    def call(self, operation_id, **kwargs):
        self.calls.append((operation_id, kwargs))
        if operation_id == "get_workflows":
            self.current = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            return {"items": [{"status": self.current[0]}]}
        if operation_id == "get_job_logs":
            return self.current[3][kwargs["job_id"]]
        assert operation_id == "get_workflow_logs"
        status, engine, jobs = self.current[:3]
        return {"workflow_id": RUN, "logs": json.dumps({
            "workflow_logs": engine,
            "job_logs": {job_id: {"job_name": name, "status": job_status, "logs": text,
                                  "compute_backend": "Slurm"}
                         for job_id, (name, job_status, text) in jobs.items()}})}


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setenv("REANA_SERVER_URL", "http://fake")
    monkeypatch.setattr(log_follow.time, "sleep", lambda seconds: None)

    def install(states):
        common._clients.clear()
        common._clients["http://fake"] = FakeAPI(states)
        return common._clients["http://fake"]

    yield install
    common._clients.clear()


def test_new_lines_once_with_the_step_name_until_the_run_ends(fake_api):
    cut = "[Only the last 10 bytes of this log are shown ...]\nend\n"
    api = fake_api([
        ("running", "e1\n", {"j1": ("fit", "running", "a\nhal")}),
        ("running", "e1\ne2\n", {"j1": ("fit", "running", "a\nhalf\nb\n"),
                                 "j2": ("plot", "running", "p")}),
        ("finished", "e1\ne2\ne3\n", {"j1": ("fit", "finished", "a\nhalf\nb\n"),
                                      "j2": ("plot", "finished", cut)},
         {"j2": "p1\np2\nend"}),
    ])
    result = CliRunner().invoke(cli, ["logs", "-w", "hw.1", "--follow", "--interval", "0.2",
                                      "-t", "T"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "[engine] e1", "[fit] a",
        "[engine] e2", "[fit] half", "[fit] b",
        "[engine] e3", "[plot] p1", "[plot] p2", "[plot] end",  # whole log when cut; final
        "==> SUCCESS: hw.1 has finished",
    ]
    # The run is asked by its id once known, the status before the logs.
    assert [c[0] for c in api.calls][:3] == ["get_workflow_logs", "get_workflows",
                                             "get_workflow_logs"]
    assert api.calls[1][1]["workflow_id_or_name"] == RUN


def test_filters_and_a_failed_run(fake_api):
    fake_api([("failed", "e\n", {"j1": ("fit", "failed", "x\n"),
                                 "j2": ("plot", "finished", "y\n")})])
    result = CliRunner().invoke(cli, ["logs", "-w", "hw.1", "--follow", "-t", "T",
                                      "--filter", "status=failed"])
    assert result.exit_code == 1
    assert "[fit] x" in result.output and "[plot] y" not in result.output


def test_ctrl_c_stops_following(fake_api, monkeypatch):
    fake_api([("running", "", {})])

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(log_follow.time, "sleep", interrupt)
    result = CliRunner().invoke(cli, ["logs", "-w", "hw.1", "--follow", "-t", "T"])
    assert result.exit_code == 130
    assert "Stopped following the logs of hw.1" in result.output


def test_follow_and_json_do_not_mix(fake_api):
    fake_api([("running", "", {})])
    result = CliRunner().invoke(cli, ["logs", "-w", "hw.1", "--follow", "--json", "-t", "T"])
    assert result.exit_code == 1 and "--json" in result.output
