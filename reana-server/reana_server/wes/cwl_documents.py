"""A CWL document and the attachments it references, made one document for the CWL engine.

``reana-client`` sends a CWL workflow packed (``cwltool --pack``); a WES client
sends the workflow file and the files it references as attachments. This
module does the client's packing from the attachments alone: every ``run:``,
``$import`` and ``$include`` naming another document is replaced by that
attachment's content, and every File or Directory location in the documents
is resolved against the attachments (:class:`~.attachments.Attachments`). A
document is never read from the server's disk nor fetched: a reference that is
not an attachment is refused. cwltool validates the result in the engine.
"""

from __future__ import annotations

import posixpath

import yaml

from reana_server.errors import BadRequest
from reana_server.wes.attachments import Attachments

MAIN = "#main"
PROCESS_CLASSES = ("Workflow", "CommandLineTool", "ExpressionTool", "Operation")
MAX_DEPTH = 32


def load_document(attachments: Attachments, name: str):
    """An attachment parsed as YAML (JSON is YAML), or 400."""
    try:
        return yaml.safe_load(attachments.get(name).text())
    except yaml.YAMLError as error:
        raise BadRequest(f"Attachment {name} is not a CWL document: {error}") from None


def packed_workflow(attachments: Attachments, url: str) -> dict:
    """The workflow ``url`` names (an attachment, with an optional ``#fragment``), with
    the documents it references inlined; its main process has the id ``#main``."""
    name = attachments.resolve(url, what="workflow_url")
    fragment = url.partition("#")[2]
    document = load_document(attachments, name)
    if not isinstance(document, dict):
        raise BadRequest(f"The workflow {name} is not a CWL document (a mapping).")
    base = posixpath.dirname(name)
    if "$graph" in document:
        return _packed_graph(document, fragment, attachments, base)
    namespaces: dict = {}
    process = _inline(document, attachments, base, namespaces, {name}, depth=0)
    process["id"] = MAIN
    if namespaces:
        process["$namespaces"] = {**namespaces, **process.get("$namespaces", {})}
    return process


def _packed_graph(document: dict, fragment: str, attachments: Attachments, base: str) -> dict:
    graph = document["$graph"]
    if not isinstance(graph, list):
        raise BadRequest("The workflow's $graph must be a list.")
    wanted = f"#{fragment}" if fragment else MAIN
    ids = [p.get("id") for p in graph if isinstance(p, dict)]
    if wanted not in ids:
        raise BadRequest(f"The packed workflow has no process {wanted}.")
    if wanted != MAIN and MAIN in ids:
        raise BadRequest(f"The packed workflow has a #main besides {wanted}: name #main.")
    graph = [dict(p, id=MAIN) if isinstance(p, dict) and p.get("id") == wanted else p
             for p in graph]
    return attachments.resolve_locations(dict(document, **{"$graph": graph}), base,
                                         what="The workflow's file")


def _inline(node, attachments: Attachments, base: str, namespaces: dict, chain: set,
            depth: int):
    if depth > MAX_DEPTH:
        raise BadRequest("The workflow's documents reference each other too deeply.")
    if isinstance(node, list):
        return [_inline(item, attachments, base, namespaces, chain, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"$include"}:
        return attachments.get(_reference(attachments, node["$include"], base)).text()
    if set(node) == {"$import"}:
        name = _reference(attachments, node["$import"], base)
        return _document(attachments, name, namespaces, chain, depth)
    copy = {}
    for key, value in node.items():
        if key == "run" and isinstance(value, str):
            name = _reference(attachments, value, base)
            copy[key] = _document(attachments, name, namespaces, chain, depth)
        elif key in ("$namespaces", "$schemas") and depth:
            if key == "$namespaces" and isinstance(value, dict):
                namespaces.update(value)
        else:
            copy[key] = _inline(value, attachments, base, namespaces, chain, depth + 1)
    if copy.get("class") in ("File", "Directory"):
        copy = attachments.resolve_locations(copy, base, what="The workflow's file")
    if copy.get("class") in PROCESS_CLASSES:
        copy = _lists(copy)
    return copy


def _lists(process: dict) -> dict:
    """A process with its ``inputs``, ``outputs``, ``steps`` (and steps' ``in``) maps as
    lists with ``id`` s, as ``cwltool --pack`` writes them (REANA's answers show lists)."""
    copy = dict(process)
    for key in ("inputs", "outputs", "steps"):
        if isinstance(copy.get(key), dict):
            copy[key] = _listed(copy[key], "type")
    if isinstance(copy.get("steps"), list):
        copy["steps"] = [dict(step, **{"in": _listed(step["in"], "source")})
                         if isinstance(step, dict) and isinstance(step.get("in"), dict)
                         else step for step in copy["steps"]]
    return copy


def _listed(mapping: dict, short_key: str) -> list:
    return [dict(value, id=key) if isinstance(value, dict) else {"id": key, short_key: value}
            for key, value in mapping.items()]


def _reference(attachments: Attachments, value, base: str) -> str:
    if not isinstance(value, str) or "#" in value:
        raise BadRequest(f"Reference {value!r}: only whole attachments can be referenced.")
    return attachments.resolve(value, base, what="Reference")


def _document(attachments: Attachments, name: str, namespaces: dict, chain: set, depth: int):
    if name in chain:
        raise BadRequest(f"The workflow's documents reference each other in a cycle ({name}).")
    document = load_document(attachments, name)
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "id"}
    return _inline(document, attachments, posixpath.dirname(name), namespaces,
                   chain | {name}, depth + 1)
