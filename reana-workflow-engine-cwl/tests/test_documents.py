"""The run's documents: packed spec, input object, TARGET, expected jobs (no processes)."""

from __future__ import annotations

from collections import Counter

import pytest
from reana_workflow_engine_cwl.documents import (
    DocumentError,
    absolute_locations,
    expected_jobs,
    input_object,
    target_outputs,
)

TOOL = {"id": "#tool.cwl", "class": "CommandLineTool", "inputs": [], "outputs": []}
EXPR = {"id": "#expr.cwl", "class": "ExpressionTool", "inputs": [], "outputs": [],
        "expression": "$({})"}


def workflow(*steps, outputs=()):
    main = {"id": "#main", "class": "Workflow",
            "inputs": [{"id": "#main/n", "type": "int"}, {"id": "#main/f", "type": "File"},
                       {"id": "#main/flag", "type": ["null", "boolean"]}],
            "outputs": list(outputs), "steps": list(steps)}
    return {"cwlVersion": "v1.2", "$graph": [main, TOOL, EXPR]}


def step(name, run="#tool.cwl", sources=(), **extra):
    return {"id": f"#main/{name}", "run": run, "out": [f"#main/{name}/out"],
            "in": [{"id": f"#main/{name}/i{k}", "source": s} for k, s in enumerate(sources)],
            **extra}


def test_relative_locations_become_workspace_paths(tmp_path):
    node = {"a": {"class": "File", "location": "data/x.txt"},
            "b": [{"class": "Directory", "path": "dir"}],
            "c": {"class": "File", "location": "file:///abs/y"},
            "d": {"class": "File", "location": "/abs/z"},
            "e": {"location": "not/a/file"}}
    out = absolute_locations(node, tmp_path)
    assert out["a"]["location"] == str(tmp_path / "data/x.txt")
    assert out["b"][0]["path"] == str(tmp_path / "dir")
    assert out["c"]["location"] == "file:///abs/y" and out["d"]["location"] == "/abs/z"
    assert out["e"] == {"location": "not/a/file"}


def test_input_object_from_an_input_file_and_string_parameters(tmp_path):
    (tmp_path / "job.yml").write_text("n: 1\nf: {class: File, location: data/a.txt}\n")
    job = input_object({"input": "job.yml", "n": "7", "flag": "true"}, workflow(), tmp_path)
    assert job == {"n": 7, "flag": True,
                   "f": {"class": "File", "location": str(tmp_path / "data/a.txt")}}
    job = input_object({"f": "data/b.txt", "n": "x"}, workflow(), tmp_path)
    assert job["f"] == {"class": "File", "location": str(tmp_path / "data/b.txt")}
    assert job["n"] == "x"  # cwltool's validation says what is wrong with it
    with pytest.raises(DocumentError, match="Cannot read the CWL input file nope.yml"):
        input_object({"input": "nope.yml"}, workflow(), tmp_path)


def test_target_an_output_or_a_step():
    spec = workflow(step("a"), step("b", sources=["#main/a/out"]),
                    outputs=[{"id": "#main/result", "type": "File",
                              "outputSource": "#main/b/out"}])
    assert target_outputs(spec, "result") == (spec, ["result"])
    new, names = target_outputs(spec, "a")
    assert names == ["a_out"]
    (main,) = [p for p in new["$graph"] if p["id"] == "#main"]
    assert main["outputs"] == [{"id": "#main/a_out", "type": ["null", "Any"],
                                "outputSource": "#main/a/out"}]
    assert expected_jobs(new, names) == Counter({"step a": 1})
    assert expected_jobs(spec, ["result"]) == Counter({"step a": 1, "step b": 1})
    with pytest.raises(DocumentError, match=r"TARGET=c is neither a step nor an output"):
        target_outputs(spec, "c")
    with pytest.raises(DocumentError, match="only a CWL Workflow has steps"):
        target_outputs(dict(TOOL, id="#main"), "a")


def test_expected_jobs_count_plain_tool_steps_only():
    sub = {"id": "#sub.cwl", "class": "Workflow", "inputs": [], "outputs": [],
           "steps": [{"id": "#sub.cwl/inner", "run": "#tool.cwl", "in": [], "out": []}]}
    spec = workflow(step("a"), step("b", scatter="#main/b/i0", sources=["#main/n"]),
                    step("c", when="$(false)"), step("d", run="#expr.cwl"),
                    step("e", run="#sub.cwl"), step("f", run=dict(TOOL, id="#main/f/run")))
    spec["$graph"].append(sub)
    assert expected_jobs(spec) == Counter({"step a": 1, "step inner": 1, "step f": 1})
    assert expected_jobs(dict(TOOL, id="#main")) == Counter({"": 1})


def test_unpacked_or_empty_specifications_are_refused():
    with pytest.raises(DocumentError, match="empty"):
        expected_jobs({})
    with pytest.raises(DocumentError, match="no #main"):
        expected_jobs({"$graph": [TOOL]})


def test_floats_are_written_positionally_as_cwltool_renders_the_written_form():
    """very_big_and_very_floats_nojs: ``default: 0.00001`` must reach the command line as
    0.00001, not as the 1e-05 that JSON (the packed specification's transport) writes."""
    import json

    from reana_workflow_engine_cwl.documents import dumps

    document = {"a": [1e-05, 1.23e-05, 123000.0, 1230000, 1e20, "1e-05", 0.5, True, None]}
    text = dumps(document)
    assert "0.00001," in text and "0.0000123," in text and "123000.0," in text
    assert "100000000000000000000.0," in text and '"1e-05"' in text
    assert json.loads(text) == document


def test_preload_leaves_every_cwl_schema_loaded_for_the_runs_the_zygote_forks():
    import subprocess
    import sys

    check = ("from cwltool.process import SCHEMA_CACHE\n"
             "from reana_workflow_engine_cwl.cli import SCHEMA_VERSIONS, preload\n"
             "assert not SCHEMA_CACHE, sorted(SCHEMA_CACHE)\n"
             "preload()\n"
             "assert set(SCHEMA_VERSIONS) <= set(SCHEMA_CACHE), sorted(SCHEMA_CACHE)\n")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


def test_a_run_keeps_the_schemas_the_zygote_loaded():
    """cwltool.main drops its schema cache unless given a schema callback; the engine
    gives one, so that a forked run parses no schema again."""
    from cwltool.main import setup_schema
    from cwltool.process import SCHEMA_CACHE
    from reana_workflow_engine_cwl.engine import keep_loaded_schemas

    SCHEMA_CACHE.setdefault("v1.0", "loaded")  # a stand-in: only its presence matters
    try:
        setup_schema(None, keep_loaded_schemas)
        assert SCHEMA_CACHE.get("v1.0") is not None
    finally:
        if SCHEMA_CACHE.get("v1.0") == "loaded":
            del SCHEMA_CACHE["v1.0"]
