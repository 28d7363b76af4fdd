"""Packing a CWL workflow into one document, as ``cwltool --pack`` does, without cwltool.

reana-client 0.9.6 sends ``workflow.specification`` of a ``type: cwl`` reana.yaml
as cwltool's packed form: every process of the workflow (the main file and each
``run:`` file it references, recursively) in one ``$graph``, with every
identifier made absolute (``#main/step/input``), map forms turned into lists
sorted by key, type shorthands (``string?``, ``File[]``) expanded and
requirements given as ``{"class": ...}`` entries. The CWL engine reads only
that document, so the packed form is what must reach the server.

This module reproduces that form for the CWL the demos and typical analyses
use. It does not validate CWL semantics (cwltool's job on the engine side).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from reana_commons.errors import REANAValidationError
from reana_commons.specification import load_yaml_file as load_yaml

# field -> (key of each entry, field a bare value stands for):
# schema-salad's mapSubject and mapPredicate
ID_MAPS = {
    "inputs": ("id", "type"),
    "outputs": ("id", "type"),
    "steps": ("id", None),
    "in": ("id", "source"),
    "requirements": ("class", None),
    "hints": ("class", None),
    "fields": ("name", "type"),
}
GRAPH_HEAD = ("$namespaces", "$schemas")  # moved to the first process of the graph
TOP_LEVEL_ONLY = ("cwlVersion", *GRAPH_HEAD)


def pack(workflow_file: Path) -> dict:
    """The packed document of ``workflow_file`` (``{"$graph": [...], "cwlVersion": ...}``).

    As with cwltool, the processes are ordered by their files' paths, the
    namespaces of all files go on the first one, and a workflow file that
    references no other process packs to that single process (``id: "#main"``).
    """
    packer = _Packer()
    main_path = Path(workflow_file).resolve()
    main = packer.process(main_path, "#main")
    by_path = {path: packer.processes[process_id] for path, process_id in packer.ids.items()}
    by_path[main_path] = main
    graph = [by_path[path] for path in sorted(by_path)]
    for process in graph:
        _check_connections(process)
    namespaces: dict = {}
    for document in packer.raw.values():
        for key in GRAPH_HEAD:
            if isinstance(document.get(key), dict):
                namespaces.setdefault(key, {}).update(document[key])
    graph[0] = {**namespaces, **graph[0]}
    version = packer.raw[main_path].get("cwlVersion")
    head = {"cwlVersion": version} if version is not None else {}
    if len(graph) == 1:
        return {**head, **graph[0]}
    return {**head, "$graph": graph}


class _Packer:
    def __init__(self):
        self.processes: dict[str, dict] = {}  # id -> process, for files other than the main one
        self.raw: dict[Path, dict] = {}
        self.ids: dict[Path, str] = {}  # file -> id, for files other than the main one
        self.main: Path | None = None

    def load(self, path: Path) -> dict:
        path = path.resolve()
        if path not in self.raw:
            document = load_yaml(path, "CWL file")
            if not isinstance(document, dict) or "class" not in document:
                raise REANAValidationError(f"CWL file {path.name} does not describe a process.")
            self.raw[path] = _resolve_imports(document, path.parent)
        return self.raw[path]

    def process(self, path: Path, process_id: str) -> dict:
        self.main = path
        return self.normalise(self.load(path), process_id, path.parent)

    def reference(self, run: str, base: Path) -> str:
        """The ``#id`` of a ``run:`` file, packing it the first time it is seen."""
        path = (base / run.split("#", 1)[0]).resolve()
        if not path.is_file():
            raise REANAValidationError(f"CWL file {run} referenced by a workflow step not found.")
        if path == self.main:
            return "#main"
        if path in self.ids:
            return self.ids[path]
        process_id = "#" + path.name
        self.ids[path] = process_id
        self.processes[process_id] = self.normalise(self.load(path), process_id, path.parent)
        return process_id

    def normalise(self, document: dict, process_id: str, base: Path, inline=False) -> dict:
        """The process with absolute ids under ``process_id`` (an inline one keeps no id)."""
        process = {k: copy.deepcopy(v) for k, v in document.items() if k not in TOP_LEVEL_ONLY}
        if not inline:
            process["id"] = process_id
        for field in ("requirements", "hints"):
            if field in process:
                process[field] = _id_list(process[field], field)
        for field in ("inputs", "outputs"):
            if field in process:
                process[field] = [
                    _parameter(entry, process_id) for entry in _id_list(process[field], field)
                ]
        for output in process.get("outputs", []):
            if "outputSource" in output:
                output["outputSource"] = _absolute(output["outputSource"], process_id)
            if output.get("type") in ("stdout", "stderr"):
                _capture_stream(process, output)
        if "steps" in process:
            process["steps"] = [
                self.step(entry, process_id, base) for entry in _id_list(process["steps"], "steps")
            ]
        return process

    def step(self, step: dict, workflow_id: str, base: Path) -> dict:
        step_id = _absolute(step["id"], workflow_id)
        step["id"] = step_id
        step["in"] = [
            _step_input(entry, step_id, workflow_id) for entry in _id_list(step.get("in", []), "in")
        ]
        step["out"] = [
            _absolute(entry, step_id)
            if isinstance(entry, str)
            else {**entry, "id": _absolute(entry["id"], step_id)}
            for entry in step.get("out", [])
        ]
        for field in ("requirements", "hints"):
            if field in step:
                step[field] = _id_list(step[field], field)
        if "scatter" in step:
            step["scatter"] = _absolute_each(step["scatter"], step_id)
        run = step.get("run")
        if isinstance(run, str):
            step["run"] = self.reference(run, base)
        elif isinstance(run, dict):
            step["run"] = self.normalise(run, step_id + "/run", base, inline=True)
        return step


def _check_connections(process: dict) -> None:
    """Each ``source``/``outputSource`` names a workflow input or a step output.

    The mistake ``cwltool --validate`` (run by 0.9.6) reports most often in
    hand-written workflows; caught here before anything reaches the server.
    """
    if process.get("class") != "Workflow":
        return
    known = {entry["id"] for entry in process.get("inputs", [])}
    for step in process.get("steps", []):
        known.update(out if isinstance(out, str) else out["id"] for out in step.get("out", []))
        if isinstance(step.get("run"), dict):
            _check_connections(step["run"])
    links = [(output["id"], output.get("outputSource")) for output in process.get("outputs", [])]
    links += [
        (entry["id"], entry.get("source")) for s in process.get("steps", []) for entry in s["in"]
    ]
    for target, sources in links:
        for source in [sources] if isinstance(sources, str) else sources or []:
            if source not in known:
                raise REANAValidationError(
                    f"CWL workflow: {target.lstrip('#')} is connected to "
                    f"{source.lstrip('#')}, which is neither an input nor a step output."
                )


def _capture_stream(process: dict, output: dict) -> None:
    """``type: stdout`` (or ``stderr``) is a File globbing the stream's file, as cwltool expands it.

    Without a ``stdout:`` file name, cwltool makes one up from a hash of the
    tool; so do we (with a different hash: the name only has to be unique).
    """
    stream = output["type"]
    if not process.get(stream):
        import hashlib

        digest = hashlib.sha1(json.dumps(process, sort_keys=True, default=str).encode())
        process[stream] = digest.hexdigest()
    output["type"] = "File"
    output["outputBinding"] = {"glob": process[stream]}


def _resolve_imports(node, base: Path):
    """Replace ``{"$import": file}`` by the file's YAML and ``{"$include": file}`` by its text."""
    if isinstance(node, dict):
        if set(node) == {"$import"}:
            return _resolve_imports(load_yaml(base / node["$import"], "CWL $import"), base)
        if set(node) == {"$include"}:
            try:
                return (base / node["$include"]).read_text(encoding="utf-8")
            except OSError as error:
                raise REANAValidationError(f"CWL $include {node['$include']}: {error}") from error
        return {key: _resolve_imports(value, base) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_imports(item, base) for item in node]
    return node


def _id_list(value, field: str) -> list:
    """A map form (``name: {...}`` or ``name: value``) as a list sorted by key; lists kept."""
    key, predicate = ID_MAPS[field]
    if isinstance(value, list):
        return [dict(entry) if isinstance(entry, dict) else entry for entry in value]
    if not isinstance(value, dict):
        raise REANAValidationError(f"CWL field '{field}' must be a list or a mapping.")
    entries = []
    for name in sorted(value):
        entry = value[name]
        if isinstance(entry, dict):
            entry = {key: name, **entry}
        elif predicate is not None:
            entry = {key: name, predicate: entry}
        else:
            raise REANAValidationError(f"CWL '{field}' entry '{name}' must be a mapping.")
        entries.append(entry)
    return entries


def _parameter(entry, process_id: str) -> dict:
    if isinstance(entry, str):  # list form with bare names (outputs of a step, rarely inputs)
        entry = {"id": entry}
    entry["id"] = _absolute(entry["id"], process_id)
    if "type" in entry:
        entry["type"] = _expand_type(entry["type"])
    return entry


def _step_input(entry, step_id: str, workflow_id: str) -> dict:
    if isinstance(entry, str):
        entry = {"id": entry}
    entry["id"] = _absolute(entry["id"], step_id)
    if "source" in entry:
        entry["source"] = _absolute_each(entry["source"], workflow_id)
    return entry


def _absolute_each(value, base: str):
    """``_absolute`` of one identifier, or of each of a list of them."""
    return _absolute(value, base) if isinstance(value, str) else [_absolute(v, base) for v in value]


def _absolute(name, parent_id: str):
    """``first/result`` inside ``#main`` -> ``#main/first/result`` (absolute ids kept)."""
    if isinstance(name, list):
        return [_absolute(item, parent_id) for item in name]
    if name.startswith("#"):
        return name
    return f"{parent_id}/{name}"


def _expand_type(value):
    """schema-salad's type DSL: ``T?`` -> ``["null", T]``, ``T[]`` -> an array of T."""
    if isinstance(value, str):
        if value.endswith("?"):
            return ["null", _expand_type(value[:-1])]
        if value.endswith("[]"):
            return {"type": "array", "items": _expand_type(value[:-2])}
        return value
    if isinstance(value, list):
        return [_expand_type(item) for item in value]
    if isinstance(value, dict) and value.get("type") == "array" and "items" in value:
        return {**value, "items": _expand_type(value["items"])}
    return value
