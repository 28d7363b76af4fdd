"""The serial engine against a real job controller process and real messaging."""

from __future__ import annotations

import signal
import time

import pytest
import requests
from reana_testing.pytest_plugin import DEPLOYMENT_PROFILES

SPEC = {
    "steps": [
        {"name": "first", "environment": "docker.io/library/python:3.11-slim",
         "commands": ["echo ${greeting} > a.txt"]},
        {"name": "Second", "environment": "docker.io/library/busybox:1.36",
         "kubernetes_memory_limit": "512Mi",
         "commands": ["cat a.txt > b.txt", "echo '$$x-literal' > c.txt"]},
    ]
}
ENGINE_LINE = "| reana-workflow-engine-serial | MainThread | INFO | Publishing step:{}, cmd: {}, " \
              "total steps {} to MQ"


def _progress(message, key):
    return ((message.get("message") or {}).get("progress") or {}).get(key)


@DEPLOYMENT_PROFILES
def test_runs_steps_in_order_and_publishes_progress(platform):
    code, err = platform.run_engine(SPEC, parameters={"greeting": "hello"})
    assert code == 0, err
    assert (platform.workspace / "b.txt").read_text() == "hello\n"
    assert (platform.workspace / "c.txt").read_text() == "$x-literal\n"
    messages = platform.messages()
    assert all(m["workflow_uuid"] == str(platform.workflow.id_) for m in messages)
    # One message per job: a job's end goes out with the next job's start (or the run's end).
    assert [m["status"] for m in messages] == [1, 1, 1, 1, 2]
    # Numbered from 1, so the consumer applies each log chunk once even if redelivered.
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert _progress(messages[0], "total") == {"total": 3, "job_ids": []}
    job_ids = [_progress(m, "running")["job_ids"][0] for m in messages[1:4]]
    assert _progress(messages[1], "finished") is None
    assert [_progress(m, "finished")["job_ids"] for m in messages[2:]] == [[j] for j in job_ids]
    assert ENGINE_LINE.format(0, "echo hello > a.txt", 3) in messages[1]["logs"]
    assert ENGINE_LINE.format(1, "cat a.txt > b.txt", 3) in messages[2]["logs"]
    assert ENGINE_LINE.format(1, "echo '$x-literal' > c.txt", 3) in messages[3]["logs"]
    jobs = requests.get(platform.job_controller.url + "/jobs",
                        headers=platform.job_controller.headers, timeout=5).json()["jobs"]
    assert [jobs[j]["job_name"] for j in job_ids] == ["first", "Second", "Second"]
    assert jobs[job_ids[1]]["docker_img"] == "docker.io/library/busybox:1.36"
    assert jobs[job_ids[0]]["cmd"] == f"cd {platform.workspace} && echo hello > a.txt"


FROM_TARGET_CASES = [
    ({"FROM": "second", "TARGET": "SECOND"}, ["echo 1 > b", "echo 2 > c"]),
    ({"TARGET": "First"}, ["echo 0 > a"]),
    ({"FROM": "third"}, ["echo 3 > d"]),
    ({"FROM": "third", "TARGET": "first"}, ["echo 0 > a", "echo 1 > b", "echo 2 > c",
                                             "echo 3 > d"]),
    ({"FROM": "nope"}, ["echo 0 > a", "echo 1 > b", "echo 2 > c", "echo 3 > d"]),
]


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_from_and_target(platform):
    spec = {"steps": [
        {"name": "first", "environment": "img", "commands": ["echo 0 > a"]},
        {"name": "Second", "environment": "img", "commands": ["echo 1 > b", "echo 2 > c"]},
        {"name": "third", "environment": "img", "commands": ["echo 3 > d"]},
    ]}
    for options, expected in FROM_TARGET_CASES:
        for path in platform.workspace.iterdir():
            path.unlink()
        code, err = platform.run_engine(spec, options=options)
        assert code == 0, err
        messages = platform.messages(timeout=0.3)
        assert _progress(messages[0], "total")["total"] == len(expected), options
        ran = [line.split("cmd: ")[1].split(", total")[0]
               for m in messages for line in m["logs"].splitlines() if "Publishing step" in line]
        assert ran == expected, options
        written = sorted(p.name for p in platform.workspace.iterdir())
        assert written == sorted(cmd.rsplit(" ", 1)[1] for cmd in expected), options


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_failing_command_fails_the_run(platform):
    spec = {"steps": [
        {"name": "ok", "environment": "img", "commands": ["echo fine"]},
        {"name": "bad", "environment": "img", "commands": ["echo last-words; exit 4", "touch x"]},
    ]}
    code, _err = platform.run_engine(spec)
    assert code == 1
    messages = platform.messages(timeout=0.5)
    assert [m["status"] for m in messages] == [1, 1, 1, 3]
    failed = messages[-1]
    ok_id = _progress(messages[1], "running")["job_ids"][0]
    running_id = _progress(messages[-2], "running")["job_ids"][0]
    assert _progress(messages[-2], "finished")["job_ids"] == [ok_id]
    assert _progress(failed, "failed")["job_ids"] == [running_id]
    assert "exit code 4" in failed["logs"] and "last-words" in failed["logs"]
    assert not (platform.workspace / "x").exists()


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_missing_parameter_fails_before_any_job(platform):
    spec = {"steps": [{"name": "s", "environment": "img", "commands": ["echo ${missing}"]}]}
    code, _err = platform.run_engine(spec, parameters={"other": 1})
    assert code == 1
    messages = platform.messages(timeout=0.5)
    assert [m["status"] for m in messages] == [3]
    assert "missing" in messages[0]["logs"]
    assert requests.get(platform.job_controller.url + "/jobs",
                        headers=platform.job_controller.headers, timeout=5).json()["jobs"] == {}


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_sigterm_fails_the_run_and_stops_the_job(platform):
    spec = {"steps": [{"name": "long", "environment": "img", "commands": ["sleep 120"]}]}
    process = platform.start_engine(spec)
    url = platform.job_controller.url + "/jobs"
    deadline = time.monotonic() + 30
    while not requests.get(url, headers=platform.job_controller.headers, timeout=5).json()["jobs"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 1
    messages = platform.messages(timeout=0.5)
    assert messages[-1]["status"] == 3
    assert "Workflow exited unexpectedly." in messages[-1]["logs"]
    listed = requests.get(url, headers=platform.job_controller.headers, timeout=5).json()
    (job,) = listed["jobs"].values()
    assert job["status"] == "stopped"


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_unreachable_job_controller_fails_the_run(platform):
    platform.job_controller.kill()
    code, _err = platform.run_engine({"steps": [{"commands": ["true"]}]},
                                     extra_args=("--job-controller-wait", "0.2"))
    assert code == 1
    # The running status goes out while the job controller is still awaited.
    running, failed = platform.messages(timeout=0.5)
    assert (running["status"], failed["status"]) == (1, 3)
    assert "not reachable" in failed["logs"] or "did not answer" in failed["logs"]


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_job_controller_killed_mid_run_fails_the_run(platform):
    spec = {"steps": [{"name": "long", "environment": "img", "commands": ["sleep 60"]}]}
    process = platform.start_engine(spec)
    url = platform.job_controller.url + "/jobs"
    deadline = time.monotonic() + 30
    while not requests.get(url, headers=platform.job_controller.headers, timeout=5).json()["jobs"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    platform.job_controller.kill()
    started = time.monotonic()
    process.communicate(timeout=60)
    assert process.returncode == 1
    assert time.monotonic() - started < 30  # bounded: ~10 s of retries, then the failure
    messages = platform.messages(timeout=0.5)
    assert messages[-1]["status"] == 3
    assert "not reachable" in messages[-1]["logs"]
