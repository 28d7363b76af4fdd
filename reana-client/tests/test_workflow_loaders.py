"""What ``create``/``run`` send for cwl, snakemake and yadage workflows, against reana-client 0.9.6.

reana-client 0.9.6 packs CWL with cwltool and reads Snakefiles with Snakemake
before sending reana.yaml; ours does both without the engines. The specifications
must be the same: compared with 0.9.6's own loader (in the reference venv, which
has cwltool and Snakemake) on every demo reana.yaml, and with the create request
bodies recorded from 0.9.6.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from reana_client.specification import SpecificationError, load
from reana_client.workflow_loaders import cwl, snakemake
from reana_testing.pytest_plugin import SHARED_DIR

from .conftest import DEMOS, HELLOWORLD

LOADER = Path(__file__).with_name("reference_loader.py")
RECORDED = SHARED_DIR / "reference" / "reana-0.9" / "client-traffic" / "create_request_bodies"
DEMO_SPECS = sorted(DEMOS.glob("*/reana*.yaml"))


def ours(path: Path) -> dict:
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        return json.loads(json.dumps(load(path.name), sort_keys=True))
    except SpecificationError as error:
        return {"error": str(error)}
    finally:
        os.chdir(cwd)


def steps_by_name(spec: dict) -> dict:
    """0.9.6 lists Snakemake steps in set order (differs between runs): compare them by name."""
    workflow_spec = (spec.get("workflow") or {}).get("specification")
    if isinstance(workflow_spec, dict) and "job_dependencies" in workflow_spec:
        workflow_spec["steps"] = sorted(workflow_spec["steps"], key=lambda step: step["name"])
    return spec


def synthetic_analyses(root: Path) -> list[Path]:
    """reana.yaml files using more of CWL and Snakemake than the demos do."""
    cwl_dir = root / "cwl"
    cwl_dir.mkdir()
    (cwl_dir / "reana.yaml").write_text(
        "inputs:\n  parameters:\n    names: [a, b]\nworkflow:\n  type: cwl\n  file: main.cwl\n"
    )
    (cwl_dir / "tool.cwl").write_text(
        "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [echo, -n]\n"
        "hints:\n  DockerRequirement: {dockerPull: 'python:3.12'}\n"
        "inputs:\n  names:\n    type: string[]\n    inputBinding: {position: 1}\n"
        "  flag: boolean?\n"
        "outputs:\n  out: {type: stdout}\nstdout: out.txt\n"
    )
    (cwl_dir / "main.cwl").write_text(
        "cwlVersion: v1.2\nclass: Workflow\nrequirements:\n  ScatterFeatureRequirement: {}\n"
        "inputs: {names: 'string[]'}\noutputs:\n  result: {type: File, outputSource: b/out}\n"
        "steps:\n"
        "  b:\n    run: tool.cwl\n    in: {names: names}\n    out: [out]\n"
        "  a:\n    run:\n      class: ExpressionTool\n"
        "      requirements: {InlineJavascriptRequirement: {}}\n"
        "      inputs: {x: int}\n      outputs: {y: int}\n      expression: '$({y: 1})'\n"
        "    in: {x: {default: 1}}\n    out: [y]\n"
    )
    snake_dir = root / "snakemake"
    (snake_dir / "data").mkdir(parents=True)
    for sample in ("a", "b"):
        (snake_dir / "data" / f"{sample}.csv").write_text("1\n")
    main, included = SNAKEFILE.split("rule summary:")
    (snake_dir / "Snakefile").write_text(main + 'include: "rules/summary.smk"\n')
    (snake_dir / "rules").mkdir()
    (snake_dir / "rules" / "summary.smk").write_text("rule summary:" + included)
    (snake_dir / "config.yaml").write_text("top: 3\n")
    (snake_dir / "inputs.yaml").write_text("top: 5\n")
    (snake_dir / "reana.yaml").write_text(
        "inputs:\n  parameters:\n    input: inputs.yaml\n"
        "workflow:\n  type: snakemake\n  file: Snakefile\n"
    )
    yadage_dir = root / "yadage"
    yadage_dir.mkdir()
    (yadage_dir / "reana.yaml").write_text("workflow:\n  type: yadage\n  file: workflow.yaml\n")
    (yadage_dir / "workflow.yaml").write_text(
        "stages:\n  - name: s\n    dependencies: [init]\n"
        "    scheduler:\n      scheduler_type: singlestep-stage\n      parameters: {}\n"
        "      step: {$ref: 'steps.yaml#/missing_file'}\n"
    )
    return [cwl_dir / "reana.yaml", snake_dir / "reana.yaml", yadage_dir / "reana.yaml"]


@pytest.mark.skipif(not DEMO_SPECS, reason="demos not found")
def test_specifications_match_reana_client_loader(reference_python, tmp_path):
    specs = DEMO_SPECS + synthetic_analyses(tmp_path)
    proc = subprocess.run(
        [str(reference_python), str(LOADER)],
        input=json.dumps([str(path) for path in specs]),
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{reference_python.parent}:{os.environ['PATH']}"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    types = set()
    for path in specs:
        reference = theirs[str(path)]
        mine = ours(path)
        if "error" in reference:  # e.g. Snakemake's dry run: input files missing
            assert "error" in mine, (path, reference)
            continue
        types.add(reference["workflow"]["type"])
        assert steps_by_name(mine) == steps_by_name(reference), path
    assert types == {"serial", "cwl", "snakemake", "yadage"}


@pytest.mark.parametrize(
    "spec_file, recorded",
    [
        ("reana.yaml", "helloworld-reana.json"),
        ("reana-cwl.yaml", "helloworld-reana-cwl.json"),
        ("reana-snakemake.yaml", "helloworld-reana-snakemake.json"),
        ("reana-yadage.yaml", "helloworld-reana-yadage.json"),
    ],
)
def test_helloworld_matches_recorded_create_bodies(spec_file, recorded):
    if not HELLOWORLD.exists() or not RECORDED.exists():
        pytest.skip("demos or recorded traffic not found")
    assert ours(HELLOWORLD / spec_file) == json.loads((RECORDED / recorded).read_text())


def test_cwl_pack_expands_types_inline_runs_and_imports(tmp_path):
    (tmp_path / "types.yml").write_text("- name: Pair\n  type: record\n")
    (tmp_path / "tool.cwl").write_text(
        "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n"
        "requirements:\n  SchemaDefRequirement:\n    types:\n      $import: types.yml\n"
        "inputs:\n  names: string[]\n  flag: boolean?\noutputs: []\n"
    )
    (tmp_path / "main.cwl").write_text(
        "cwlVersion: v1.2\nclass: Workflow\ninputs: {names: 'string[]'}\noutputs: {}\n"
        "steps:\n"
        "  b:\n    run: tool.cwl\n    in: {names: names}\n    out: []\n"
        "  a:\n    run:\n      class: ExpressionTool\n      inputs: {x: int}\n"
        "      outputs: {y: int}\n      expression: '$({y: 1})'\n"
        "    in: {x: {default: 1}}\n    out: [y]\n    scatter: x\n"
    )
    packed = cwl.pack(tmp_path / "main.cwl")
    main, tool = packed["$graph"]
    assert packed["cwlVersion"] == "v1.2" and main["id"] == "#main"
    assert [step["id"] for step in main["steps"]] == ["#main/a", "#main/b"]
    inline = main["steps"][0]
    assert inline["run"]["inputs"] == [{"id": "#main/a/run/x", "type": "int"}]
    assert inline["scatter"] == "#main/a/x" and inline["out"] == ["#main/a/y"]
    assert inline["in"] == [{"id": "#main/a/x", "default": 1}]
    assert main["steps"][1]["run"] == "#tool.cwl"
    assert tool["inputs"] == [
        {"id": "#tool.cwl/flag", "type": ["null", "boolean"]},
        {"id": "#tool.cwl/names", "type": {"type": "array", "items": "string"}},
    ]
    assert tool["requirements"] == [
        {"class": "SchemaDefRequirement", "types": [{"name": "Pair", "type": "record"}]}
    ]


def test_cwl_unconnected_source_is_a_specification_error(tmp_path):
    (tmp_path / "main.cwl").write_text(
        "cwlVersion: v1.0\nclass: Workflow\ninputs: {a: int}\n"
        "outputs: {o: {type: int, outputSource: s/y}}\n"
        "steps:\n  s:\n    run: {class: ExpressionTool, inputs: {x: int}, outputs: {y: int},"
        " expression: '$({y: 1})'}\n    in: {x: b}\n    out: [y]\n"
    )
    with pytest.raises(Exception, match="main/s/x is connected to main/b, which is neither"):
        cwl.pack(tmp_path / "main.cwl")
    (tmp_path / "main.cwl").write_text((tmp_path / "main.cwl").read_text().replace("x: b", "x: a"))
    assert cwl.pack(tmp_path / "main.cwl")["outputs"][0]["outputSource"] == "#main/s/y"


def test_yadage_workflow_file_and_references_must_load(tmp_path):
    (tmp_path / "reana.yaml").write_text("workflow:\n  type: yadage\n  file: flow.yaml\n")
    with pytest.raises(SpecificationError, match="flow.yaml not found"):
        load(str(tmp_path / "reana.yaml"))
    (tmp_path / "flow.yaml").write_text("stages:\n  - step: {$ref: 'steps.yaml#/a'}\n")
    with pytest.raises(SpecificationError, match="steps.yaml not found"):
        load(str(tmp_path / "reana.yaml"))
    (tmp_path / "steps.yaml").write_text("a: {process: {}}\n")
    assert load(str(tmp_path / "reana.yaml"))["workflow"]["specification"] is None


def test_cwl_missing_run_file_is_a_specification_error(tmp_path):
    (tmp_path / "reana.yaml").write_text("workflow:\n  type: cwl\n  file: main.cwl\n")
    (tmp_path / "main.cwl").write_text(
        "cwlVersion: v1.0\nclass: Workflow\ninputs: {}\noutputs: {}\n"
        "steps:\n  s:\n    run: gone.cwl\n    in: {}\n    out: []\n"
    )
    with pytest.raises(SpecificationError, match="gone.cwl"):
        load(str(tmp_path / "reana.yaml"))


SNAKEFILE = """
SAMPLES = ["a", "b"]
configfile: "config.yaml"

rule all:
    input:
        expand("results/{sample}.txt", sample=SAMPLES),
        "results/summary.txt"

rule count:
    input:
        data="data/{sample}.csv",
    output:
        temp("results/{sample}.txt")
    params:
        top=config["top"]
    resources:
        kubernetes_memory_limit="1Gi",
        compute_backend="slurmcern"
    container:
        "docker://docker.io/library/python:3.12"
    shell:
        "wc -l {input.data} > {output} "
        "# {params.top}"

rule summary:
    input:
        counts=expand(rules.count.output, sample=SAMPLES)
    output:
        table="results/summary.txt"
    run:
        print("python block, not arguments")
"""


def test_snakefile_wildcards_configfile_and_rules(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "config.yaml").write_text("top: 3\nother: x\n")
    (tmp_path / "data").mkdir()
    for sample in ("a", "b"):
        (tmp_path / "data" / f"{sample}.csv").write_text("1\n")
    spec = snakemake.load(tmp_path / "Snakefile", {"top": 5}, workdir=tmp_path)
    assert spec["job_dependencies"] == {  # one entry per job: count runs once per sample
        "all": ["count", "count", "summary"],
        "count": [],
        "summary": ["count", "count"],
    }
    count, summary = spec["steps"]
    assert count == {
        "name": "count",
        "environment": "docker.io/library/python:3.12",
        "inputs": {"data": "data/{sample}.csv"},
        "params": {"top": 5},
        "outputs": {},
        "commands": ["wc -l {input.data} > {output} # {params.top}"],
        "compute_backend": "slurmcern",
        "kubernetes_memory_limit": "1Gi",
        "kubernetes_uid": None,
    }
    assert summary["inputs"] == {"counts": ["results/a.txt", "results/b.txt"]}
    assert summary["outputs"] == {"table": "results/summary.txt"}
    assert summary["commands"] == [None] and summary["environment"] == ""


def test_snakefile_include_and_error_lines(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: "out.txt"\n\ninclude: "rules/x.smk"\n'
    )
    (tmp_path / "rules" / "x.smk").write_text(
        'rule x:\n    output: "out.txt"\n    shell: "touch {output}"\n'
    )
    spec = snakemake.load(tmp_path / "Snakefile", {}, workdir=tmp_path)
    assert spec["job_dependencies"] == {"all": ["x"], "x": []}
    (tmp_path / "rules" / "x.smk").write_text('\nrule x:\n    output: config["out"]\n')
    with pytest.raises(Exception, match=r"KeyError in x.smk, line 3: 'out'"):
        snakemake.load(tmp_path / "Snakefile", {}, workdir=tmp_path)


def test_snakefile_missing_inputs_and_errors(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "config.yaml").write_text("top: 3\n")
    with pytest.raises(Exception, match=r"missing input files for rule count: data/a.csv"):
        snakemake.load(tmp_path / "Snakefile", {}, workdir=tmp_path)
    (tmp_path / "Snakefile").write_text('rule a:\n    input: config["nope"]\n    shell: "x"\n')
    with pytest.raises(Exception, match=r"invalid: KeyError in Snakefile, line 2: .nope."):
        snakemake.load(tmp_path / "Snakefile", {}, workdir=tmp_path)
