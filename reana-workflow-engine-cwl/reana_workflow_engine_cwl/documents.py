"""The run's CWL documents: the packed workflow, its input object, TARGET and the expected jobs.

reana-client 0.9.6 sends the workflow packed (``cwltool --pack``: a ``$graph`` of
processes with ``#main``, or one process with ``"id": "#main"``) and the input
object as the run's parameters (the ``input`` file's content, ``-p`` values merged
over it). Relative ``location``/``path`` values of both are relative to the
workspace root, where the client uploaded the files; they are made absolute here
because cwltool resolves them against the document's own folder.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import yaml

MAIN = "#main"
PROCESS_CLASSES = ("Workflow", "CommandLineTool", "ExpressionTool", "Operation")
FILE_CLASSES = ("File", "Directory")
TYPE_COERCIONS = {"int": int, "long": int, "float": float, "double": float}


class DocumentError(ValueError):
    """The specification, the inputs or TARGET cannot be used (the message says why)."""


# --- the packed workflow ------------------------------------------------------------------
def processes(spec: dict) -> dict[str, dict]:
    """The processes of a packed document by id (a lone process is ``#main``)."""
    if not isinstance(spec, dict) or not spec:
        raise DocumentError("The CWL specification is empty: the workflow was not packed.")
    if "$graph" in spec:
        graph = spec["$graph"]
        if not isinstance(graph, list):
            raise DocumentError("The CWL specification's $graph must be a list.")
        found = {str(p.get("id", "")): p for p in graph if isinstance(p, dict)}
    else:
        found = {str(spec.get("id") or MAIN): spec}
    if MAIN not in found:
        raise DocumentError("The CWL specification has no #main process.")
    return found


def main_process(spec: dict) -> dict:
    """The ``#main`` process of a packed document."""
    return processes(spec)[MAIN]


def entries(value) -> list[dict]:
    """A CWL list-or-map field (inputs, outputs, steps) as a list of dicts with ``id``."""
    if isinstance(value, dict):
        return [dict(item, id=key) if isinstance(item, dict) else {"id": key, "type": item}
                for key, item in value.items()]
    return [item for item in value or [] if isinstance(item, dict)]


def shortname(identifier: str) -> str:
    """The last segment of a CWL id (``#main/first/out`` → ``out``), as cwltool's."""
    fragment = str(identifier).rpartition("#")[2]
    return fragment.rsplit("/", 1)[-1]


def absolute_locations(node, root: Path):
    """``node`` with the relative locations of its Files and Directories made absolute.

    Locations with a scheme (``file://``, ``https://``) and absolute paths are kept.
    """
    if isinstance(node, list):
        return [absolute_locations(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: absolute_locations(value, root) for key, value in node.items()}
    if copy.get("class") in FILE_CLASSES:
        for key in ("location", "path"):
            value = copy.get(key)
            if isinstance(value, str) and value and not urlsplit(value).scheme \
                    and not os.path.isabs(value):
                copy[key] = str(root / value)
    return copy


def dumps(document) -> str:
    """``document`` as JSON with floats written positionally (``0.00001``, not ``1e-05``).

    cwltool renders a number as it was written (ruamel keeps the literal), and the
    packed specification reached the engine through JSON, which writes small and
    big floats in scientific notation: written back positionally, a command line gets
    ``0.00001`` as it does when cwltool reads the user's file.
    """
    literals: dict[str, str] = {}

    def mark(node):
        if isinstance(node, float) and math.isfinite(node):
            key = f"\x00float{len(literals)}\x00"
            text = format(Decimal(repr(node)), "f")
            literals[json.dumps(key)] = text if "." in text else text + ".0"
            return key
        if isinstance(node, dict):
            return {key: mark(value) for key, value in node.items()}
        if isinstance(node, list):
            return [mark(item) for item in node]
        return node

    text = json.dumps(mark(document), ensure_ascii=False, indent=1)
    for key, literal in literals.items():
        text = text.replace(key, literal)
    return text


# --- the input object ---------------------------------------------------------------------
def input_object(parameters: dict, spec: dict, workspace: Path) -> dict:
    """The input object of the run from its parameters.

    An ``input`` parameter that names a YAML/JSON file of the workspace (a
    reana.yaml given to the API as it is, not loaded by reana-client) is read as the
    input object, unless ``#main`` has an input called ``input``. String values of
    ``-p`` become the number, boolean or File the input's type asks for.
    """
    parameters = dict(parameters or {})
    declared = {shortname(i["id"]): i.get("type") for i in entries(main_process(spec)
                                                                    .get("inputs"))}
    job = {}
    if isinstance(parameters.get("input"), str) and "input" not in declared:
        path = workspace / parameters.pop("input")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise DocumentError(f"Cannot read the CWL input file {path.name}: {error}") from error
        if not isinstance(loaded, dict):
            raise DocumentError(f"The CWL input file {path.name} is not a mapping.")
        job.update(loaded)
    for name, value in parameters.items():
        job[name] = _coerce(value, declared.get(name))
    return absolute_locations(job, workspace)


def _coerce(value, type_):
    """A ``-p name=value`` string as the declared type asks (values of other types kept)."""
    if not isinstance(value, str):
        return value
    types = [t for t in (type_ if isinstance(type_, list) else [type_]) if isinstance(t, str)]
    types = [t.rstrip("?") for t in types if t != "null"]
    if len(types) != 1:
        return value
    kind = types[0]
    try:
        if kind in TYPE_COERCIONS:
            return TYPE_COERCIONS[kind](value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind in FILE_CLASSES:
        return {"class": kind, "location": value}
    return value


# --- TARGET -------------------------------------------------------------------------------
def target_outputs(spec: dict, target: str) -> tuple[dict, list[str]]:
    """The specification and cwltool ``--target`` names that run the steps up to ``target``.

    ``target`` is an output of ``#main`` (cwltool runs the steps it needs) or a
    step of ``#main``: the step's outputs then become the workflow's outputs, so
    that cwltool runs that step and the steps it depends on.
    """
    main = main_process(spec)
    if main.get("class") != "Workflow":
        raise DocumentError(f"TARGET={target}: only a CWL Workflow has steps to target, "
                            f"this is a {main.get('class')}.")
    outputs = {shortname(o["id"]): o for o in entries(main.get("outputs"))}
    steps = {shortname(s["id"]): s for s in entries(main.get("steps"))}
    if target in outputs:
        return spec, [target]
    if target not in steps:
        raise DocumentError(
            f"TARGET={target} is neither a step nor an output of the workflow "
            f"(steps: {', '.join(steps) or 'none'}; outputs: {', '.join(outputs) or 'none'}).")
    step_outputs = [shortname(o["id"] if isinstance(o, dict) else o)
                    for o in steps[target].get("out") or []]
    if not step_outputs:
        raise DocumentError(f"TARGET={target}: the step has no outputs to run it for.")
    step_id = steps[target]["id"]
    names, new_outputs = [], []
    for out in step_outputs:
        name = f"{target}_{out}"
        while name in outputs or name in names:
            name += "_"
        names.append(name)
        new_outputs.append({"id": f"{MAIN}/{name}", "type": ["null", "Any"],
                            "outputSource": f"{step_id}/{out}"})
    return _with_main(spec, dict(main, outputs=new_outputs)), names


def _with_main(spec: dict, main: dict) -> dict:
    if "$graph" not in spec:
        return main
    graph = [main if isinstance(p, dict) and p.get("id") == MAIN else p for p in spec["$graph"]]
    return dict(spec, **{"$graph": graph})


# --- expected jobs ------------------------------------------------------------------------
def expected_jobs(spec: dict, targets: list[str] | None = None) -> Counter:
    """Jobs the run makes for sure, by the name of the step making them (``step <name>``).

    Steps that are scattered or conditional, and ExpressionTools, are not counted:
    their jobs are counted as they appear. ``targets`` (outputs of ``#main``)
    limit the count to the steps they depend on.
    """
    found = processes(spec)
    main = found[MAIN]
    counts: Counter = Counter()
    if main.get("class") == "CommandLineTool":
        counts[""] += 1
    elif main.get("class") == "Workflow":
        _count_steps(main, found, counts, _needed_steps(main, targets), depth=0)
    return counts


def _needed_steps(workflow: dict, targets: list[str] | None) -> set[str] | None:
    """Ids of the steps ``targets`` depend on (None: all steps)."""
    if not targets:
        return None
    steps = {s["id"]: s for s in entries(workflow.get("steps"))}
    pending = [src for o in entries(workflow.get("outputs")) if shortname(o["id"]) in targets
               for src in _sources(o.get("outputSource"))]
    needed: set[str] = set()
    while pending:
        step_id = pending.pop().rsplit("/", 1)[0]
        if step_id in steps and step_id not in needed:
            needed.add(step_id)
            pending += [src for port in entries(steps[step_id].get("in"))
                        for src in _sources(port.get("source"))]
    return needed


def _sources(value) -> list[str]:
    return [value] if isinstance(value, str) else [s for s in value or [] if isinstance(s, str)]


def _count_steps(workflow: dict, found: dict, counts: Counter, only: set[str] | None,
                 depth: int) -> None:
    if depth > 20:  # a recursive graph is cwltool's to refuse
        return
    for step in entries(workflow.get("steps")):
        if (only is not None and step["id"] not in only) or "when" in step or "scatter" in step:
            continue
        run = step.get("run")
        process = found.get(run) if isinstance(run, str) else run
        if not isinstance(process, dict):
            continue
        if process.get("class") == "CommandLineTool":
            counts[f"step {shortname(step['id'])}"] += 1
        elif process.get("class") == "Workflow":
            _count_steps(process, found, counts, None, depth + 1)
