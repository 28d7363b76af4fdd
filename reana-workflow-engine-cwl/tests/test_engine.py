"""The CWL engine against a real job controller process and real messaging."""

from __future__ import annotations

import json
from pathlib import Path

HELLOWORLD = json.loads((Path(__file__).parent / "data" / "helloworld-packed.json").read_text())
DEMO = Path(__file__).resolve().parents[3] / "shared" / "demos" / "reana-demo-helloworld"


def _progress(message, key):
    return ((message.get("message") or {}).get("progress") or {}).get(key)


def _logs(messages) -> str:
    return "".join(m.get("logs") or "" for m in messages)


def test_helloworld_runs_to_finished_with_outputs_progress_and_logs(platform):
    for relative in ("code/helloworld.py", "data/names.txt"):
        platform.write(relative, (DEMO / relative).read_text())
    code, err = platform.run_engine(HELLOWORLD["specification"], HELLOWORLD["parameters"])
    assert code == 0, err
    greetings = (platform.workspace / "outputs" / "greetings.txt").read_text()
    assert "Hello Jane Doe!" in greetings and "Hello Joe Bloggs!" in greetings
    messages = platform.messages()
    assert [m["status"] for m in messages][0] == 1 and messages[-1]["status"] == 2
    assert _progress(messages[0], "total") == {"total": 1, "job_ids": []}
    logs = _logs(messages)
    assert "cwltool | MainThread | INFO | [workflow ] start" in logs
    assert "cwltool | MainThread | INFO | [step first] start" in logs
    assert "cwltool | first | INFO | [step first] completed success" in logs
    assert "cwltool | MainThread | INFO | Final process status is success" in logs
    assert "FinalOutput{" in logs and "greetings.txt" in logs
    (job_id, job), = platform.jobs().items()
    assert job["job_name"] == "first"
    assert job["docker_img"] == "docker.io/library/python:2.7-slim"
    finished = {j for m in messages for j in (_progress(m, "finished") or {}).get("job_ids", [])}
    assert finished == {job_id}


def test_a_second_run_in_the_same_workspace_replaces_the_outputs(platform):
    """A restart runs in its run's workspace: the outputs of the first run are replaced."""
    for relative in ("code/helloworld.py", "data/names.txt"):
        platform.write(relative, (DEMO / relative).read_text())
    parameters = dict(HELLOWORLD["parameters"], outputfile="results/greetings.txt")
    assert platform.run_engine(HELLOWORLD["specification"], parameters)[0] == 0
    platform.write("data/names.txt", "Ada Lovelace\n")
    code, err = platform.run_engine(HELLOWORLD["specification"], parameters)
    assert code == 0, err
    greetings = (platform.workspace / "outputs" / "greetings.txt").read_text()
    assert greetings.strip() == "Hello Ada Lovelace!"
