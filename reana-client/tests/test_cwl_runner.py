"""reana-cwl-runner without a platform: bad input, the files it uploads, the output it prints.

The runs themselves (create, upload, start, wait, download) are exercised against a
live platform by tests/test_cwl_conformance_subset.py (stock cwltest over 50
conformance tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from reana_client.cwl_runner.documents import RunnerError, prepare
from reana_client.cwl_runner.platform import relocate

RUNNER = Path(sys.executable).parent / "reana-cwl-runner"

TOOL = """\
cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  reads:
    type: File
    secondaryFiles: [.bai]
    inputBinding: {position: 1}
  refs: Directory
  extra:
    type: File
    default: {class: File, path: data/extra.txt}
outputs: {out: stdout}
"""


def runner(*args, env=None, cwd=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    environment.update(env if env is not None else
                       {"REANA_SERVER_URL": "http://127.0.0.1:9", "REANA_ACCESS_TOKEN": "x"})
    return subprocess.run([str(RUNNER), *args], capture_output=True, text=True, env=environment,
                          cwd=cwd, timeout=120)


@pytest.fixture
def analysis(tmp_path):
    (tmp_path / "data" / "refs" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "reads #1.bam").write_text("reads")
    (tmp_path / "data" / "reads #1.bam.bai").write_text("index")
    (tmp_path / "data" / "unrelated.txt").write_text("not needed")
    (tmp_path / "data" / "extra.txt").write_text("extra")
    (tmp_path / "data" / "refs" / "sub" / "ref.fa").write_text(">x")
    (tmp_path / "tool.cwl").write_text(TOOL)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "job.yml").write_text(
        "reads: {class: File, location: '../data/reads %231.bam'}\n"
        "refs: {class: Directory, path: ../data/refs}\n")
    return tmp_path


def test_the_tool_job_and_their_files_are_mapped_into_the_workspace(analysis):
    prepared = prepare(str(analysis / "tool.cwl"), str(analysis / "jobs" / "job.yml"))
    data = analysis / "data"
    assert prepared.uploads == {
        "inputs/reads #1.bam": data / "reads #1.bam",
        "inputs/reads #1.bam.bai": data / "reads #1.bam.bai",
        "inputs/extra.txt": data / "extra.txt",
        "inputs/refs/sub/ref.fa": data / "refs" / "sub" / "ref.fa",
    }
    assert prepared.job == {
        "reads": {"class": "File", "location": quote("inputs/reads #1.bam")},
        "refs": {"class": "Directory", "location": "inputs/refs"},
    }
    assert prepared.specification["id"] == "#main"
    extra = next(i for i in prepared.specification["inputs"] if i["id"].endswith("extra"))
    assert extra["default"] == {"class": "File", "location": "inputs/extra.txt"}


def test_floats_keep_how_cwltool_renders_what_was_written(tmp_path):
    """JSON keeps a float's value, not its form: a float cwltool renders as an integer
    (``1.23e5`` → ``123000``) travels as that integer, the others as floats (the engine
    writes them positionally); what the job file says too (very_big_and_very_floats_nojs)."""
    (tmp_path / "tool.cwl").write_text(
        "cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: echo\noutputs: []\n"
        "inputs:\n  a: {type: float, default: 0.00001}\n  b: {type: float, default: 1.23e5}\n"
        "  c: {type: float, default: 123000.0}\n  d: {type: float, default: -2E+3}\n"
        "  e: {type: 'float[]', default: [1.5e-7, 4e2]}\n")
    (tmp_path / "job.yml").write_text("c: 2.5e3\nd: 7.0\nwhen: 2024-01-01\n")
    prepared = prepare(str(tmp_path / "tool.cwl"), str(tmp_path / "job.yml"))
    defaults = {i["id"].rsplit("/", 1)[-1]: i["default"]
                for i in prepared.specification["inputs"]}
    assert defaults == {"a": 1e-05, "b": 123000, "c": 123000.0, "d": -2000,
                        "e": [1.5e-07, 400]}
    assert [type(defaults[k]) for k in "abcd"] == [float, int, float, int]
    assert type(defaults["e"][1]) is int
    assert prepared.job == {"c": 2500, "d": 7.0, "when": "2024-01-01"}  # no timestamps
    assert type(prepared.job["c"]) is int and isinstance(prepared.job["d"], float)


def test_a_lone_directory_keeps_its_name_and_an_output_named_as_an_input_stays_an_output(
        tmp_path):
    """iwd-subdir: the tool stages ``testdir`` and globs ``testdir/c``; its output has
    the input's id, which cwltool's ``pack`` turned into ``$import`` of the input."""
    (tmp_path / "testdir" / "c").mkdir(parents=True)
    (tmp_path / "testdir" / "c" / "d").write_text("")
    (tmp_path / "z-tool.cwl").write_text(
        "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: 'true'\n"
        "requirements: {InitialWorkDirRequirement: {listing: [$(inputs.testdir)]}}\n"
        "inputs: {testdir: Directory}\n"
        "outputs: {testdir: {type: Directory, outputBinding: {glob: testdir/c}}}\n")
    (tmp_path / "wf.cwl").write_text(
        "cwlVersion: v1.2\nclass: Workflow\ninputs: {testdir: Directory}\n"
        "outputs: {out: {type: Directory, outputSource: step/testdir}}\n"
        "steps: {step: {run: z-tool.cwl, in: {testdir: testdir}, out: [testdir]}}\n")
    (tmp_path / "job.yml").write_text("testdir: {class: Directory, path: testdir}\n")
    prepared = prepare(str(tmp_path / "wf.cwl"), str(tmp_path / "job.yml"))
    assert prepared.uploads == {"inputs/testdir/c/d": tmp_path / "testdir" / "c" / "d"}
    assert prepared.job == {"testdir": {"class": "Directory", "location": "inputs/testdir"}}
    tool = next(p for p in prepared.specification["$graph"] if p["id"] == "#z-tool.cwl")
    assert tool["outputs"] == [{"id": "#z-tool.cwl/testdir", "type": "Directory",
                                "outputBinding": {"glob": "testdir/c"}}]


def test_a_missing_input_file_is_named(analysis):
    (analysis / "data" / "extra.txt").unlink()
    with pytest.raises(RunnerError, match=r"Input File .*extra\.txt not found"):
        prepare(str(analysis / "tool.cwl"), str(analysis / "jobs" / "job.yml"))


def test_output_locations_move_to_the_outdir(tmp_path):
    workspace = "/shared/users/u/workflows/0b5e/outputs"
    output = {"out": {"class": "File", "location": f"file://{workspace}/a%20b.txt",
                      "path": f"{workspace}/a b.txt", "size": 3, "checksum": "sha1$x"},
              "dir": {"class": "Directory", "location": f"file://{workspace}/d",
                      "listing": [{"class": "File", "location": f"file://{workspace}/d/f"}]},
              "n": 3}
    moved = relocate(output, "/0b5e/outputs/", tmp_path)
    assert moved["out"] == {"class": "File", "location": f"file://{quote(str(tmp_path))}/a%20b.txt",
                            "path": str(tmp_path / "a b.txt"), "size": 3, "checksum": "sha1$x"}
    assert moved["dir"]["location"] == f"file://{tmp_path}/d"
    assert moved["dir"]["listing"][0]["location"] == f"file://{tmp_path}/d/f"
    assert (tmp_path / "d").is_dir() and moved["n"] == 3


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["nowhere.cwl"], None, "Tool file nowhere.cwl not found."),
        (["tool.cwl", "nojob.yml"], None, "Job file nojob.yml not found."),
        (["tool.cwl", "jobs/bad.yml"], None, "must hold a mapping"),
        (["tool.cwl", "jobs/job.yml"], {}, "REANA_SERVER_URL and REANA_ACCESS_TOKEN must be set"),
        (["invalid.cwl"], None, "Cannot load the CWL document invalid.cwl"),
        (["tool.cwl", "jobs/job.yml"], None, "reana-cwl-runner:"),  # platform unreachable
    ],
)
def test_bad_input_is_a_message_and_exit_1_never_a_traceback(analysis, args, env, expected):
    (analysis / "jobs" / "bad.yml").write_text("- a list\n")
    (analysis / "invalid.cwl").write_text("cwlVersion: v1.2\nclass: CommandLineTool\n"
                                          "inputs: []\noutputs: []\nbogusField: 1\n")
    result = runner(*args, env=env, cwd=analysis)
    assert result.returncode == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_runner_recognises_the_engines_unsupported_reason():
    from reana_client.cwl_runner.platform import UNSUPPORTED_MARKER

    engine = pytest.importorskip("reana_workflow_engine_cwl.engine")
    assert UNSUPPORTED_MARKER in engine.UNSUPPORTED_REASON


def test_usage_errors_exit_non_zero_with_usage():
    result = runner("--no-such-flag", "tool.cwl")
    assert result.returncode == 2 and "usage: reana-cwl-runner" in result.stderr
