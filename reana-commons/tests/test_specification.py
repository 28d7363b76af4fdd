"""reana.yaml loading and validation, operational options, parameter expansion."""

from __future__ import annotations

import copy
import glob
import os

import pytest
import yaml
from reana_commons.errors import REANAValidationError
from reana_commons.parameters import (
    expand_parameters,
    find_parameters,
    merge_parameters,
    validate_parameters,
)
from reana_commons.specification import load_reana_spec
from reana_commons.validation import validate_operational_options, validate_reana_spec
from reana_testing.pytest_plugin import SHARED_DIR

DEMOS = str(SHARED_DIR / "demos")
DEMO_SPECS = sorted(glob.glob(f"{DEMOS}/*/reana*.yaml"))

SERIAL = {
    "version": "0.9.0",
    "inputs": {"files": ["code/run.py"], "parameters": {"n": 3, "out": "results/out.txt"}},
    "workflow": {
        "type": "serial",
        "specification": {
            "steps": [
                {
                    "name": "run",
                    "environment": "python:3.11-slim",
                    "commands": ["python code/run.py -n ${n} > ${out}"],
                }
            ]
        },
    },
    "outputs": {"files": ["results/out.txt"]},
}


def serial(**changes):
    spec = copy.deepcopy(SERIAL)
    step = spec["workflow"]["specification"]["steps"][0]
    for key, value in changes.items():
        if value is None:
            step.pop(key, None)
        else:
            step[key] = value
    return spec


@pytest.mark.skipif(not DEMO_SPECS, reason=f"no demos under {DEMOS}")
@pytest.mark.parametrize("path", DEMO_SPECS, ids=lambda p: "/".join(p.split("/")[-2:]))
def test_every_demo_spec_loads_and_validates(path):
    spec = load_reana_spec(path)
    assert validate_reana_spec(spec) == []
    workflow = spec["workflow"]
    if workflow["type"] == "serial":
        assert workflow["specification"]["steps"][0]["commands"]
    else:
        assert os.path.exists(os.path.join(os.path.dirname(path), workflow["file"]))
        assert "specification" not in workflow


@pytest.mark.skipif(not DEMO_SPECS, reason=f"no demos under {DEMOS}")
def test_cwl_input_parameters_are_loaded_from_their_file():
    demo = f"{DEMOS}/reana-demo-helloworld"
    spec = load_reana_spec(f"{demo}/reana-cwl.yaml")
    with open(f"{demo}/workflow/cwl/helloworld-job.yml") as handle:
        assert spec["inputs"]["parameters"] == yaml.safe_load(handle)
    yadage = load_reana_spec(f"{demo}/reana-yadage.yaml")
    assert yadage["inputs"]["parameters"]["sleeptime"] == 0  # yadage: kept inline


def test_own_fixtures_load(tmp_path):
    (tmp_path / "params.yaml").write_text("a: 1\nb: text\n")
    (tmp_path / "steps.yaml").write_text(
        "steps:\n  - environment: busybox\n    commands: ['echo ${a}']\n"
    )
    (tmp_path / "reana.yaml").write_text(
        "inputs:\n  parameters:\n    input: params.yaml\n"
        "workflow:\n  type: snakemake\n  file: Snakefile\n"
    )
    spec = load_reana_spec(tmp_path / "reana.yaml")
    assert spec["inputs"]["parameters"] == {"a": 1, "b": "text"}
    assert spec["workflow"] == {"type": "snakemake", "file": "Snakefile"}
    (tmp_path / "serial.yaml").write_text("workflow:\n  type: serial\n  file: steps.yaml\n")
    loaded = load_reana_spec(tmp_path / "serial.yaml")
    assert loaded["workflow"]["specification"]["steps"][0]["environment"] == "busybox"
    (tmp_path / "Snakefile").write_text("rule all:\n    input: []\n")
    custom = load_reana_spec(
        tmp_path / "reana.yaml", loaders={"snakemake": lambda f, d: {"from": f.name}}
    )
    assert custom["workflow"]["specification"] == {"from": "Snakefile"}


@pytest.mark.parametrize(
    "content,match",
    [
        ("workflow: [unclosed", "not valid YAML"),
        ("- a list", "must contain a mapping"),
        ("workflow:\n  type: serial\n", "workflow: one of 'file' or 'specification' is required"),
        ("inputs:\n  parameters:\n    input: ../x.yaml\nworkflow: {type: cwl, file: a}", r"\.\."),
        ("inputs:\n  parameters:\n    input: none.yaml\nworkflow: {type: cwl, file: a}", "none"),
        ("workflow: {type: serial, file: /etc/passwd}", "relative"),
    ],
)
def test_load_errors(tmp_path, content, match):
    (tmp_path / "reana.yaml").write_text(content)
    with pytest.raises(REANAValidationError, match=match):
        load_reana_spec(tmp_path / "reana.yaml")


def test_unknown_properties_are_warnings_with_their_path():
    spec = serial(kubernetes_uid=1000, slurm_partition="gpu")
    spec["extra"] = True
    assert validate_reana_spec(spec) == [
        {
            "additional_properties": [
                {"property": "extra", "path": ""},
                {"property": "kubernetes_uid", "path": "workflow.specification.steps[0]"},
                {"property": "slurm_partition", "path": "workflow.specification.steps[0]"},
            ]
        }
    ]


@pytest.mark.parametrize(
    "spec,message",
    [
        ({}, "'workflow' is a required property"),
        (None, "None is not of type 'object'"),
        (
            serial(environment=None),
            "workflow.specification.steps[0]: 'environment' is a required property",
        ),
        (serial(commands=[]), "workflow.specification.steps[0].commands: [] is too short"),
        (serial(compute_backend="nope"), "workflow.specification.steps[0].compute_backend: 'nope'"),
        (serial(kubernetes_job_timeout="1h"), "kubernetes_job_timeout: '1h' is not of type"),
        ({"workflow": {"type": "bash", "file": "x"}}, "workflow.type: 'bash' is not one of"),
        (
            {"workflow": {"type": "serial", "specification": {"steps": []}}},
            "workflow.specification.steps: [] is too short",
        ),
        (
            {"workflow": {"type": "cwl", "file": "a", "resources": {"cvmfs": ["atlas", "atlas"]}}},
            "workflow.resources.cvmfs: ['atlas', 'atlas'] has non-unique elements",
        ),
        (
            {"workflow": {"type": "cwl", "file": "a"}, "workspace": {"retention_days": {}}},
            "workspace.retention_days: {} ",
        ),
        (
            {"workflow": {"type": "cwl", "file": "a"}, "inputs": {"files": "data.txt"}},
            "inputs.files: 'data.txt' is not of type 'array'",
        ),
    ],
)
def test_errors_raise_one_clear_message(spec, message):
    with pytest.raises(REANAValidationError) as info:
        validate_reana_spec(spec)
    assert message in str(info.value)


def test_our_compute_backends_are_valid():
    for backend in ("local", "kubernetes", "slurm", "htcondor", "slurmcern", "htcondorcern"):
        assert validate_reana_spec(serial(compute_backend=backend)) == []


@pytest.mark.parametrize(
    "workflow_type,options,expected",
    [
        (
            "serial",
            {"FROM": "a", "TARGET": "b", "CACHE": "off"},
            {"FROM": "a", "TARGET": "b", "CACHE": "off"},
        ),
        ("cwl", {"TARGET": "out"}, {"--target": "out"}),
        (
            "yadage",
            {"toplevel": "wf", "initdir": "d", "initfiles": ["a"], "accept_metadir": True},
            {"toplevel": "wf", "initdir": "d", "initfiles": ["a"], "accept_metadir": True},
        ),
        ("snakemake", {"report": "report.html"}, {"report": "report.html"}),
        ("serial", {}, {}),
        ("serial", None, {}),
    ],
)
def test_operational_options(workflow_type, options, expected):
    assert validate_operational_options(workflow_type, options) == expected


@pytest.mark.parametrize(
    "workflow_type,options,message",
    [
        ("serial", {"nope": 1}, 'Operational option "nope" not supported.'),
        ("cwl", {"FROM": "a"}, 'Operational option "FROM" not supported for cwl workflows.'),
        ("serial", {"report": "x"}, 'Operational option "report" not supported for serial'),
        ("serial", ["FROM"], "Operational options must be a dictionary."),
    ],
)
def test_operational_options_refused(workflow_type, options, message):
    with pytest.raises(REANAValidationError) as info:
        validate_operational_options(workflow_type, options)
    assert message in str(info.value)


def test_expand_parameters_like_string_template():
    params = {"helloworld": "code/helloworld.py", "sleeptime": 0, "x": "a b"}
    command = 'python "${helloworld}" --sleeptime $sleeptime --cost $$5 ${x}x'
    assert expand_parameters(command, params) == (
        'python "code/helloworld.py" --sleeptime 0 --cost $5 a bx'
    )
    assert expand_parameters("no parameters", {}) == "no parameters"


def test_expand_parameters_missing_names():
    with pytest.raises(REANAValidationError) as info:
        expand_parameters("echo ${inputfile}", {"other": 1})
    assert str(info.value) == (
        "Workflow parameter(s) could not be expanded. Please take a look to 'inputfile'"
    )
    with pytest.raises(REANAValidationError, match="'a', 'b'"):
        expand_parameters("$a ${b} $a", {})
    with pytest.raises(REANAValidationError, match=r"Invalid '\$'"):
        expand_parameters("awk '{print $1}'", {})


def test_find_and_merge_parameters():
    assert find_parameters("a $x ${y} $$z ${y}") == {"x", "y"}
    assert find_parameters("a $x ${y}", braced_only=True) == {"y"}
    assert merge_parameters({"a": 1, "b": 2}, {"b": "3"}) == {"a": 1, "b": "3"}
    assert merge_parameters(None, None) == {}


def test_validate_parameters_warnings():
    spec = serial(commands=["sudo rm -rf x && cd / && echo ${n} ${undefined} $ignored"])
    spec["inputs"]["parameters"]["unused"] = 1
    assert validate_parameters(spec) == [
        'Serial parameter "undefined" found on step "run" is not defined in input parameters.',
        'Operation "sudo" found in step "run" might be dangerous.',
        'Operation "cd /" found in step "run" might be dangerous.',
        'REANA input parameter "out" does not seem to be used.',
        'REANA input parameter "unused" does not seem to be used.',
    ]
    assert validate_parameters(SERIAL) == []
    no_inputs = copy.deepcopy(SERIAL)
    del no_inputs["inputs"]
    warnings = validate_parameters(no_inputs)
    assert warnings[0] == 'Workflow "inputs" are missing in the REANA specification.'
    assert 'Serial parameter "n" found on step "run"' in warnings[1]
    assert validate_parameters({"workflow": {"type": "cwl", "file": "a"}, "inputs": {}}) == []


@pytest.mark.skipif(not DEMO_SPECS, reason=f"no demos under {DEMOS}")
def test_demo_serial_commands_expand():
    for path in DEMO_SPECS:
        spec = load_reana_spec(path)
        if spec["workflow"]["type"] != "serial":
            continue
        assert validate_parameters(spec) == []
        params = spec["inputs"]["parameters"]
        for step in spec["workflow"]["specification"]["steps"]:
            for command in step["commands"]:
                assert "${" not in expand_parameters(command, params)
