"""The serial engine's workflows of the engine conformance suite."""

from __future__ import annotations

from reana_commons.engine.conformance import ConformanceWorkflow

COMMANDS = {
    "two_jobs": ["echo one > one.txt", "cat one.txt > two.txt"],
    "failing": ["echo one > one.txt", "echo failing; exit 3"],
    "long": ["sleep 60", "echo never > never.txt"],
}


def workflow(variant: str) -> ConformanceWorkflow:
    """Two steps of one command each (see :data:`reana_commons.engine.conformance.VARIANTS`)."""
    first, second = COMMANDS[variant]
    image = "docker.io/library/busybox:1.36"
    steps = [{"name": "first", "environment": image, "commands": [first]},
             {"name": "second", "environment": image, "commands": [second]}]
    return ConformanceWorkflow(specification={"steps": steps}, jobs=2)
