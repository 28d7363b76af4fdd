"""The graph of a run's steps, read from its specification, and each step's state from its jobs.

Serial runs are a chain of their steps; CWL runs the DAG of the packed workflow's
steps (an edge where a step's input comes from another step's output); yadage
runs the DAG of their stages' ``dependencies``; Snakemake runs the
``job_dependencies`` reana-client computed from the Snakefile. Engines name
each job after its step (a CWL scatter or a repeated step adds ``_2``, ``_3`` ...),
which is how a job finds its node. Nothing here imports Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_NODES = 500
"""A larger graph is cut (the page says so): drawing thousands of nodes helps nobody."""


@dataclass
class Graph:
    """Step names in a drawing order and the edges between them (``(from, to)``)."""

    nodes: list[str] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str) -> None:
        if name and name not in self.nodes:
            self.nodes.append(name)

    def link(self, source: str, target: str) -> None:
        if source in self.nodes and target in self.nodes and source != target \
                and (source, target) not in self.edges:
            self.edges.append((source, target))


def structure(type_: str, reana_specification: dict | None) -> Graph:
    """The graph of a run of ``type_`` from its stored REANA specification."""
    workflow = (reana_specification or {}).get("workflow") or {}
    spec = workflow.get("specification")
    if not isinstance(spec, dict):
        return Graph()
    reader = {"serial": _serial, "cwl": _cwl, "yadage": _yadage, "snakemake": _snakemake}.get(
        type_)
    return reader(spec) if reader else Graph()


def _serial(spec: dict) -> Graph:
    graph = Graph()
    previous = None
    for index, step in enumerate(spec.get("steps") or []):
        if not isinstance(step, dict):
            continue
        name = str(step.get("name") or f"step {index + 1}")
        graph.add(name)
        if previous is not None:
            graph.link(previous, name)
        previous = name
    return graph


def _short(reference: str) -> str:
    """``#main/fit/result`` or ``fit/result`` -> ``fit`` (the step part of a CWL reference)."""
    parts = reference.lstrip("#").split("/")
    if parts and parts[0] == "main":
        parts = parts[1:]
    return parts[0] if parts else ""


def _main_cwl(spec: dict) -> dict:
    items = spec.get("$graph")
    if not isinstance(items, list):
        return spec
    workflows = [i for i in items if isinstance(i, dict) and i.get("class") == "Workflow"]
    for item in workflows:
        if item.get("id") in ("#main", "main"):
            return item
    return workflows[0] if workflows else {}


def _entries(value) -> list[dict]:
    """CWL's list-or-map form of ``steps`` / ``in`` as a list of dicts with ``id``."""
    if isinstance(value, dict):
        return [dict(v, id=k) if isinstance(v, dict) else {"id": k, "source": v}
                for k, v in value.items()]
    return [v for v in value or [] if isinstance(v, dict)]


def _cwl(spec: dict) -> Graph:
    graph = Graph()
    steps = _entries(_main_cwl(spec).get("steps"))
    for step in steps:
        graph.add(_short(str(step.get("id", ""))).split("#")[-1])
    for step in steps:
        target = _short(str(step.get("id", ""))).split("#")[-1]
        for entry in _entries(step.get("in")):
            sources = entry.get("source")
            for source in sources if isinstance(sources, list) else [sources]:
                if isinstance(source, str) and "/" in source.lstrip("#").removeprefix("main/"):
                    graph.link(_short(source), target)
    return graph


def _yadage(spec: dict) -> Graph:
    graph = Graph()
    stages = [s for s in spec.get("stages") or [] if isinstance(s, dict)]
    for stage in stages:
        graph.add(str(stage.get("name") or ""))
    for stage in stages:
        dependencies = stage.get("dependencies") or []
        if isinstance(dependencies, dict):
            dependencies = dependencies.get("expressions") or []
        for dependency in dependencies:
            if isinstance(dependency, str):
                graph.link(dependency.split("[")[0].split(".")[0], str(stage.get("name")))
    return graph


def _snakemake(spec: dict) -> Graph:
    graph = Graph()
    for step in spec.get("steps") or []:
        if isinstance(step, dict):
            graph.add(str(step.get("name") or ""))
    for rule, needs in (spec.get("job_dependencies") or {}).items():
        for need in needs or []:
            graph.link(str(need), str(rule))
    return graph


_SUFFIX = re.compile(r"^[_.\-\[ ]")


def node_of(job_name: str, nodes: list[str]) -> str | None:
    """The node a job belongs to: its name, or the longest node name it extends."""
    if job_name in nodes:
        return job_name
    best = None
    for node in nodes:
        if job_name.startswith(node) and _SUFFIX.match(job_name[len(node):]) \
                and (best is None or len(node) > len(best)):
            best = node
    return best


def _state(statuses: list[str]) -> str:
    if not statuses:
        return "waiting"
    for wanted in ("failed", "running", "stopped"):
        if wanted in statuses:
            return wanted
    if all(status == "finished" for status in statuses):
        return "finished"
    if "finished" in statuses:
        return "running"
    return "queued"


def with_states(graph: Graph, jobs: list[dict]) -> dict:
    """The graph as JSON with each node's state and job ids; jobs of no node become nodes."""
    nodes = list(graph.nodes)
    members: dict[str, list[dict]] = {name: [] for name in nodes}
    for job in jobs:
        name = str(job.get("job_name") or "")
        node = node_of(name, nodes)
        if node is None:
            node = name or "(unnamed job)"
            nodes.append(node)
            members[node] = []
        members[node].append(job)
    truncated = len(nodes) > MAX_NODES
    nodes = nodes[:MAX_NODES]
    kept = set(nodes)
    return {
        "nodes": [
            {
                "name": name,
                "state": _state([str(job.get("status") or "") for job in members[name]]),
                "jobs": [str(job.get("id")) for job in members[name]],
            }
            for name in nodes
        ],
        "edges": [[a, b] for a, b in graph.edges if a in kept and b in kept],
        "truncated": truncated,
    }
