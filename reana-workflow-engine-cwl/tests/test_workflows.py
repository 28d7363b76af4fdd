"""CWL features through the engine: scatter, JavaScript, ExpressionTool, InitialWorkDir, TARGET."""

from __future__ import annotations

import json

ECHO_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: docker.io/library/busybox:1.36}
  InlineJavascriptRequirement: {}
hints:
  reana:
    compute_backend: local
$namespaces: {reana: http://reana.io}
baseCommand: echo
inputs:
  word: {type: string, inputBinding: {position: 1}}
stdout: $(inputs.word.toUpperCase()).txt
outputs:
  out: {type: stdout}
"""

SCATTER = """
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  InlineJavascriptRequirement: {}
inputs:
  words: string[]
outputs:
  shouted: {type: "File[]", outputSource: shout/out}
  joined: {type: string, outputSource: join/joined}
steps:
  shout:
    run: echo.cwl
    scatter: word
    in: {word: words}
    out: [out]
  join:
    run:
      class: ExpressionTool
      inputs: {files: "File[]"}
      outputs: {joined: string}
      expression: '$({"joined": inputs.files.map(function(f) { return f.basename; }).join(",")})'
    in: {files: shout/out}
    out: [joined]
"""


def _progress(message, key):
    return ((message.get("message") or {}).get("progress") or {}).get(key) or {}


def _ids(messages, key):
    return {j for m in messages for j in _progress(m, key).get("job_ids", [])}


def test_scatter_expression_tool_and_javascript(platform, pack):
    spec = pack({"main.cwl": SCATTER, "echo.cwl": ECHO_TOOL})
    code, err = platform.run_engine(spec, {"words": ["a", "b", "c"]}, {"--parallel": "2"})
    assert code == 0, err
    outputs = json.loads((platform.workspace / "cwl" / "outputs.json").read_text())
    assert outputs["joined"] == "A.txt,B.txt,C.txt"
    assert sorted(p.name for p in (platform.workspace / "outputs").iterdir()) == \
        ["A.txt", "B.txt", "C.txt"]
    messages = platform.messages()
    totals = [_progress(m, "total")["total"] for m in messages if _progress(m, "total")]
    assert totals == sorted(totals) and totals[-1] == 3  # grows as the scatter unfolds
    assert len(_ids(messages, "finished")) == 3 and not _ids(messages, "failed")
    jobs = platform.jobs()
    assert sorted(j["job_name"] for j in jobs.values()) == ["shout", "shout_2", "shout_3"]
    assert {j["compute_backend"] for j in jobs.values()} == {"local"}


CHAIN = """
cwlVersion: v1.2
class: Workflow
inputs:
  word: string
outputs:
  final: {type: File, outputSource: second/out}
steps:
  first:
    run: echo.cwl
    in: {word: word}
    out: [out]
  second:
    run:
      class: CommandLineTool
      baseCommand: [wc, -c]
      inputs: {text: {type: File, inputBinding: {position: 1}}}
      stdout: count.txt
      outputs: {out: stdout}
    in: {text: first/out}
    out: [out]
"""


def test_target_step_runs_the_steps_up_to_it(platform, pack):
    spec = pack({"main.cwl": CHAIN, "echo.cwl": ECHO_TOOL})
    code, err = platform.run_engine(spec, {"word": "hi"}, {"--target": "first"})
    assert code == 0, err
    assert [j["job_name"] for j in platform.jobs().values()] == ["first"]
    assert (platform.workspace / "outputs" / "HI.txt").read_text() == "hi\n"
    messages = platform.messages()
    assert _progress(messages[0], "total")["total"] == 1
    assert len(_ids(messages, "finished")) == 1


def test_unknown_target_fails_the_run_with_a_clear_message(platform, pack):
    spec = pack({"main.cwl": CHAIN, "echo.cwl": ECHO_TOOL})
    code, _err = platform.run_engine(spec, {"word": "hi"}, {"TARGET": "nope"})
    assert code == 1
    messages = platform.messages()
    assert messages[-1]["status"] == 3
    assert "TARGET=nope is neither a step nor an output of the workflow " \
           "(steps: first, second; outputs: final)" in messages[-1]["logs"]
    assert not platform.jobs()


IWD_TOOL = """
cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: sub/dir/input.txt
        entry: $(inputs.text)
        writable: true  # the tool appends to it (jobs do not run as root: no bypass)
  InlineJavascriptRequirement: {}
  EnvVarRequirement:
    envDef: {GREETING: "hello there"}
  ShellCommandRequirement: {}
inputs:
  text: string
arguments:
  - {valueFrom: 'echo "$GREETING" >> sub/dir/input.txt && mkdir -p sub/made', shellQuote: false}
  - {valueFrom: '&& cp sub/dir/input.txt sub/made/copy.txt', shellQuote: false}
outputs:
  folder: {type: Directory, outputBinding: {glob: sub}}
  copy: {type: File, outputBinding: {glob: sub/made/copy.txt}}
"""


def test_initial_work_dir_subdirectories_and_environment(platform, pack):
    spec = pack({"main.cwl": IWD_TOOL})
    code, err = platform.run_engine(spec, {"text": "line one\n"})
    assert code == 0, err
    outputs = json.loads((platform.workspace / "cwl" / "outputs.json").read_text())
    assert outputs["copy"] is not None and outputs["folder"] is not None
    # The copy lies inside the folder output: both are relocated as one tree.
    assert outputs["copy"]["path"].endswith("/outputs/sub/made/copy.txt")
    copy = platform.workspace / "outputs" / "sub" / "made" / "copy.txt"
    assert copy.read_text() == "line one\nhello there\n"
    assert (platform.workspace / "outputs" / "sub" / "dir" / "input.txt").exists()
