"""Bad input fails the run with the tool's message in its logs, never a traceback or a hang."""

from __future__ import annotations

import pytest

FAILING_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "something went wrong" >&2; exit 4']
inputs: []
outputs: []
"""

FILE_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  data: {type: File, inputBinding: {position: 1}}
stdout: copy.txt
outputs:
  out: {type: stdout}
"""

DOCKER_OUTDIR_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim, dockerOutputDirectory: /other}
baseCommand: touch
arguments: [/other/x]
inputs: []
outputs: []
"""

ENTRYPOINT_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: docker.io/bash:4.4}
baseCommand: ["-c", "echo moo > cow"]
inputs: []
outputs: []
"""


def _end(platform):
    messages = platform.messages()
    assert [m["status"] for m in messages].count(3) == 1, messages
    return messages[-1], "".join(m.get("logs") or "" for m in messages)


def test_a_failing_job_fails_the_run_with_its_logs(platform, pack):
    code, _ = platform.run_engine(pack({"main.cwl": FAILING_TOOL}))
    assert code == 1
    end, logs = _end(platform)
    (job_id,) = platform.jobs()
    assert end["message"]["progress"]["failed"]["job_ids"] == [job_id]
    assert "exited with status: 4" in logs or "exit code 4" in logs
    assert "something went wrong" in logs
    assert "Final process status is permanentFail" in logs


def test_a_missing_input_file_fails_the_run(platform, pack):
    code, _ = platform.run_engine(pack({"main.cwl": FILE_TOOL}),
                                  {"data": {"class": "File", "location": "data/none.txt"}})
    assert code == 1
    _end_message, logs = _end(platform)
    assert "none.txt" in logs and "Traceback" not in logs
    assert not platform.jobs()


def test_relative_input_locations_are_workspace_relative(platform, pack):
    platform.write("data/names.txt", "Jane\n")
    code, err = platform.run_engine(pack({"main.cwl": FILE_TOOL}), {"data": "data/names.txt"})
    assert code == 0, err
    assert (platform.workspace / "outputs" / "copy.txt").read_text() == "Jane\n"


@pytest.mark.parametrize("spec, message", [
    ({"cwlVersion": "v1.2", "$graph": [{"id": "#main", "class": "Workflow", "inputs": [],
                                         "outputs": [], "steps": [{"id": "#main/s",
                                                                   "run": "#missing.cwl",
                                                                   "in": [], "out": []}]}]},
     "missing.cwl"),
    ({"cwlVersion": "v1.2", "id": "#main", "class": "CommandLineTool", "inputs": [],
      "outputs": [], "baseCommand": "true", "bogusField": 1}, "bogusField"),
    ({}, "The CWL specification is empty"),
])
def test_an_invalid_document_fails_the_run_with_the_validation_message(platform, spec,
                                                                      message):
    code, _ = platform.run_engine(spec)
    assert code == 1
    _end_message, logs = _end(platform)
    assert message in logs and "Traceback" not in logs


@pytest.mark.parametrize(("tool", "message"), [
    (DOCKER_OUTDIR_TOOL, "DockerRequirement.dockerOutputDirectory is not supported"),
    (ENTRYPOINT_TOOL, "it relies on the ENTRYPOINT of the DockerRequirement's image"),
])
def test_an_unsupported_docker_feature_is_reported_as_such(platform, pack, tool, message):
    code, _ = platform.run_engine(pack({"main.cwl": tool}))
    assert code == 1
    _end_message, logs = _end(platform)
    assert message in logs
    assert "uses a CWL feature this platform does not support" in logs
    assert not platform.jobs()
