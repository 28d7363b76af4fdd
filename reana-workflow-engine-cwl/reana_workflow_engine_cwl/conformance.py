"""The CWL engine's workflows of the engine conformance suite (packed, as reana-client sends)."""

from __future__ import annotations

from reana_commons.engine.conformance import ConformanceWorkflow

SCRIPTS = {
    "two_jobs": ("echo one > one.txt", "cat $(inputs.previous.path) > two.txt"),
    "failing": ("echo one > one.txt", "echo failing; exit 3"),
    "long": ("sleep 60", "echo never > never.txt"),
}


def _tool(identifier: str, script: str, output: str) -> dict:
    return {
        "id": identifier,
        "class": "CommandLineTool",
        "requirements": [{"class": "ShellCommandRequirement"},
                         {"class": "DockerRequirement",
                          "dockerPull": "docker.io/library/busybox:1.36"}],
        "inputs": [{"id": f"{identifier}/previous", "type": ["null", "File"]}],
        "arguments": [{"valueFrom": script, "shellQuote": False}],
        "outputs": [{"id": f"{identifier}/out", "type": ["null", "File"],
                     "outputBinding": {"glob": output}}],
    }


def conformance_workflow(variant: str) -> ConformanceWorkflow:
    """Two steps, the second after the first (see ``conformance.VARIANTS`` of the kit)."""
    first, second = SCRIPTS[variant]
    main = {
        "id": "#main",
        "class": "Workflow",
        "inputs": [],
        "outputs": [{"id": "#main/result", "type": ["null", "File"],
                     "outputSource": "#main/second/out"}],
        "steps": [
            {"id": "#main/first", "run": "#first.cwl", "in": [], "out": ["#main/first/out"]},
            {"id": "#main/second", "run": "#second.cwl",
             "in": [{"id": "#main/second/previous", "source": "#main/first/out"}],
             "out": ["#main/second/out"]},
        ],
    }
    spec = {"cwlVersion": "v1.2", "$graph": [main, _tool("#first.cwl", first, "one.txt"),
                                             _tool("#second.cwl", second, "two.txt")]}
    return ConformanceWorkflow(specification=spec, jobs=2)
