"""The Snakemake engine's workflows of the engine conformance suite."""

from __future__ import annotations

from reana_commons.engine.conformance import ConformanceWorkflow

COMMANDS = {
    "two_jobs": ("echo one > {output}", "cat {input} > {output}"),
    "failing": ("echo one > {output}", "echo failing; exit 3"),
    "long": ("sleep 60; echo one > {output}", "cat {input} > {output}"),
}

SNAKEFILE = '''\
rule all:
    input: "two.txt"

rule first:
    output: "one.txt"
    container: "docker://docker.io/library/busybox:1.36"
    shell: "FIRST"

rule second:
    input: "one.txt"
    output: "two.txt"
    container: "docker://docker.io/library/busybox:1.36"
    shell: "SECOND"
'''


def workflow(variant: str) -> ConformanceWorkflow:
    """Two rules in a chain (see :data:`reana_commons.engine.conformance.VARIANTS`)."""
    first, second = COMMANDS[variant]
    snakefile = SNAKEFILE.replace("FIRST", first).replace("SECOND", second)
    return ConformanceWorkflow(workflow_file="Snakefile", files={"Snakefile": snakefile}, jobs=2)
