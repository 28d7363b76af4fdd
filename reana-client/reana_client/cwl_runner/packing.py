"""Packing a CWL document for the platform, as ``cwltool --pack`` does, two of its slips mended.

reana-client 0.9.6 sends the workflow packed by cwltool; so does reana-cwl-runner,
with cwltool's own ``pack``, after validating the document as ``cwltool --validate``.
Two things JSON or ``pack`` lose are kept:

- how a float was written: cwltool puts ``1.23e5`` on a command line as ``123000``
  and ``123000.0`` as ``123000.0``; JSON keeps only the value, so a float cwltool
  renders as an integer travels as that integer (:func:`as_rendered`);
- an output with the id of an input of the same tool (``inputs: {testdir: ...}``,
  ``outputs: {testdir: ...}``, which cwltool runs): ``pack`` replaces the second
  object of an id by ``$import`` of the first, so the output became the input. Here an
  object is replaced only by an equal one (:func:`_import_embed`).
"""

from __future__ import annotations

import json
import re
from collections.abc import MutableMapping, MutableSequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import quote


class RunnerError(Exception):
    """Bad input or an unusable platform answer; the message is for the user."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def file_uri(path: Path) -> str:
    return "file://" + quote(str(path))


def pack(tool: str) -> dict:
    """``tool`` (a path, optionally ``#process``) validated and packed as ``cwltool --pack`` does.

    The document is validated fully first (as ``cwltool --validate``, which
    reana-client 0.9.6 runs), so an invalid one is refused here with cwltool's
    message. The validation upgrades the documents in memory, as cwltool does (a
    workflow of several CWL versions is checked at the newest); ``pack`` reloads
    them and upgrades only to the newest version among them (one version: kept).
    """
    path, _, fragment = tool.partition("#")
    if not Path(path).is_file():
        raise RunnerError(f"Tool file {path} not found.")
    try:
        from cwltool.context import LoadingContext
        from cwltool.errors import UnsupportedRequirement
        from cwltool.load_tool import fetch_document, make_tool, resolve_and_validate_document
        from cwltool.pack import pack as cwltool_pack
        from cwltool.resolver import tool_resolver
        from cwltool.workflow import default_make_tool
        from schema_salad.utils import json_dumps
    except ImportError as error:  # pragma: no cover - cwltool is installed with the engine
        raise RunnerError(
            "reana-cwl-runner needs cwltool to pack the tool: pip install 'reana-client[cwl]'"
        ) from error
    uri = file_uri(Path(path).resolve()) + (f"#{fragment}" if fragment else "")
    try:
        loading = LoadingContext({"resolver": tool_resolver,
                                  "construct_tool_object": default_make_tool})
        loading, document, uri = fetch_document(uri, loading)
        loading, uri = resolve_and_validate_document(loading, document, uri)
        with _mended_pack():
            packed = cwltool_pack(loading, uri)
        make_tool(uri, loading)
    except UnsupportedRequirement as error:
        raise RunnerError(f"{tool} uses a requirement that is not supported: {error}",
                          code=33) from error
    except Exception as error:  # noqa: BLE001 - cwltool's many exception types, shown as text
        raise RunnerError(f"Cannot load the CWL document {tool}:\n{error}") from error
    graph = packed["$graph"]
    document = packed if len(graph) > 1 else graph[0]
    return json.loads(json_dumps(as_rendered(document), default=str))


def as_rendered(node):
    """``node`` with each YAML float that cwltool renders as an integer made that integer.

    cwltool puts a float on a command line as it was written, positionally: ``1.23e5``
    becomes ``123000`` and ``123000.0`` stays ``123000.0``. JSON, which carries the run to
    the platform, keeps the value but not how it was written; sent as the integer it
    renders as, it renders the same there (the engine writes the other floats
    positionally, ``0.00001``).
    """
    from ruamel.yaml.scalarfloat import ScalarFloat

    if isinstance(node, ScalarFloat):
        rendered = _cwltool_float_text(node)
        return int(rendered) if re.fullmatch(r"-?[0-9]+", rendered) else node
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = as_rendered(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            node[index] = as_rendered(value)
    return node


def _cwltool_float_text(value) -> str:
    """How cwltool 3.3 writes a YAML float on a command line (``Builder.tostr``)."""
    from ruamel.yaml.representer import RoundTripRepresenter

    try:
        number = Decimal(RoundTripRepresenter().represent_scalar_float(value).value)
    except (InvalidOperation, ValueError):  # .inf, .nan
        return str(value)
    return format(number, "f") if "E" in str(number) else str(number)


@contextmanager
def _mended_pack():
    """cwltool's ``pack`` with :func:`_import_embed` in place of its ``import_embed``."""
    import cwltool.pack

    original = cwltool.pack.import_embed
    cwltool.pack.import_embed = _import_embed
    try:
        yield
    finally:
        cwltool.pack.import_embed = original


def _import_embed(node, seen) -> None:
    """cwltool's ``import_embed`` (a repeated object becomes ``{"$import": id}``), replacing
    an object only by an equal one: a different object of the same id is kept whole."""
    if not isinstance(seen, dict):
        seen = {}
    if isinstance(node, MutableSequence):
        for item in node:
            _import_embed(item, seen)
        return
    if not isinstance(node, MutableMapping):
        return
    for key in ("id", "name"):
        identifier = node.get(key)
        if isinstance(identifier, str):
            if identifier not in seen:
                seen[identifier] = node
                break
            if seen[identifier] == node:
                node.clear()
                node["$import"] = identifier
    for key in sorted(node.keys()):
        _import_embed(node[key], seen)
