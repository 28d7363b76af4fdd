"""The local side of a CWL run: the packed tool, the job object and the files they name.

The tool is packed by cwltool itself (``cwltool --pack``, as reana-client 0.9.6
does), which resolves ``run:``, ``$import`` and ``$include`` and makes every
``location`` an absolute URI. The job file is read as cwltool reads it (YAML 1.2)
and its relative locations resolved against the job file's folder.

Every local File or Directory found in either is uploaded under ``inputs/`` of
the workspace, keeping the paths relative to the deepest folder that holds them
all (so ``secondaryFiles`` next to a file, and a Directory's tree, stay where
cwltool looks for them), and its location becomes that workspace path, which
the engine resolves against the workspace root. Next to each File, the files
whose names start like it (``reads.bam`` → ``reads.bam.bai``, ``reads.bai``)
are uploaded as well: they are the ``secondaryFiles`` a tool may ask for.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

WORKSPACE_PREFIX = "inputs"
FILE_CLASSES = ("File", "Directory")


class RunnerError(Exception):
    """Bad input or an unusable platform answer; the message is for the user."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@dataclass
class Prepared:
    """What the run needs: the packed tool, the job object and the files to upload."""

    specification: dict
    job: dict
    uploads: dict[str, Path] = field(default_factory=dict)  # workspace path -> local file


def file_uri(path: Path) -> str:
    return "file://" + quote(str(path))


def local_path(uri: str) -> Path | None:
    """The local path of a ``file://`` URI (None for other schemes)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def pack(tool: str) -> dict:
    """``tool`` (a path, optionally ``#process``) validated and packed as ``cwltool --pack`` does.

    The document is validated fully first (as ``cwltool --validate``, which
    reana-client 0.9.6 runs), so an invalid one is refused here with cwltool's
    message. Versions are kept (``--pack`` does not upgrade).
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
        loading = LoadingContext({"do_update": False, "resolver": tool_resolver,
                                  "construct_tool_object": default_make_tool})
        loading, document, uri = fetch_document(uri, loading)
        loading, uri = resolve_and_validate_document(loading, document, uri)
        packed = cwltool_pack(loading, uri)
        make_tool(uri, loading)
    except UnsupportedRequirement as error:
        raise RunnerError(f"{tool} uses a requirement that is not supported: {error}",
                          code=33) from error
    except Exception as error:  # noqa: BLE001 - cwltool's many exception types, shown as text
        raise RunnerError(f"Cannot load the CWL document {tool}:\n{error}") from error
    graph = packed["$graph"]
    document = packed if len(graph) > 1 else graph[0]
    return json.loads(json_dumps(document, default=str))


def load_job(job_file: str | None, basedir: str | None = None) -> tuple[dict, str]:
    """The job object and the URI its relative locations are resolved against.

    That is the job file itself (cwltool's rule), or ``basedir`` when given.
    """
    base = file_uri(Path(basedir).resolve()) + "/" if basedir else None
    if job_file is None:
        return {}, base or file_uri(Path.cwd()) + "/"
    path = Path(job_file)
    if not path.is_file():
        raise RunnerError(f"Job file {job_file} not found.")
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        job = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError, OSError) as error:
        raise RunnerError(f"Cannot read the job file {job_file}: {error}") from error
    if job is None:
        job = {}
    if not isinstance(job, dict):
        raise RunnerError(f"The job file {job_file} must hold a mapping of input names to values.")
    return job, base or file_uri(path.resolve())


def prepare(tool: str, job_file: str | None, basedir: str | None = None) -> Prepared:
    """Pack ``tool``, read ``job_file`` and map their local files into the workspace."""
    job, job_base = load_job(job_file, basedir)
    specification = pack(tool)
    found: dict[Path, str] = {}  # local path -> class
    job = _absolute(job, job_base, found)
    _collect(specification, found)
    for path, kind in found.items():
        if not path.exists():
            raise RunnerError(f"Input {kind} {path} not found.")
    mapping = _workspace_paths(found)
    uploads: dict[str, Path] = {}
    for path, kind in found.items():
        _add_uploads(path, mapping[path], kind, uploads)
    return Prepared(_relocated(specification, mapping), _relocated(job, mapping), uploads)


def _absolute(node, base: str, found: dict):
    """The job object with File/Directory locations (or paths) as absolute URIs."""
    if isinstance(node, list):
        return [_absolute(item, base, found) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _absolute(value, base, found) for key, value in node.items()}
    if copy.get("class") in FILE_CLASSES:
        location = copy.get("location")
        if location is None and isinstance(copy.get("path"), str):
            location = quote(copy.pop("path"))
        if isinstance(location, str):
            copy["location"] = urljoin(base, location)
            path = local_path(copy["location"])
            if path is not None:
                found[path] = copy["class"]
    return copy


def _collect(node, found: dict) -> None:
    """Local File/Directory locations of the packed document (defaults, literals)."""
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
    elif isinstance(node, dict):
        if node.get("class") in FILE_CLASSES and isinstance(node.get("location"), str):
            path = local_path(node["location"])
            if path is not None:
                found[path] = node["class"]
        for value in node.values():
            _collect(value, found)


def _workspace_paths(found: dict) -> dict[Path, str]:
    """``inputs/<path relative to the deepest folder holding them all>`` of each path."""
    if not found:
        return {}
    folders = [path if kind == "Directory" else path.parent for path, kind in found.items()]
    root = Path(os.path.commonpath([str(folder) for folder in folders]))
    mapping = {}
    for path in found:
        relative = path.relative_to(root).as_posix()
        mapping[path] = WORKSPACE_PREFIX if relative == "." else f"{WORKSPACE_PREFIX}/{relative}"
    return mapping


def _add_uploads(path: Path, target: str, kind: str, uploads: dict) -> None:
    if kind == "Directory" or path.is_dir():
        for folder, _dirs, files in os.walk(path):
            for name in files:
                local = Path(folder) / name
                if local.is_file():
                    uploads[f"{target}/{local.relative_to(path).as_posix()}"] = local
        return
    uploads[target] = path
    stem = path.name.split(".", 1)[0]
    parent_target = target.rpartition("/")[0]
    for sibling in path.parent.iterdir():
        if sibling != path and sibling.name.startswith(stem) and sibling.is_file():
            uploads.setdefault(f"{parent_target}/{sibling.name}", sibling)


def _relocated(node, mapping: dict[Path, str]):
    """``node`` with each local location replaced by its (URL-quoted) workspace path."""
    if isinstance(node, list):
        return [_relocated(item, mapping) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _relocated(value, mapping) for key, value in node.items()}
    if copy.get("class") in FILE_CLASSES and isinstance(copy.get("location"), str):
        path = local_path(copy["location"])
        if path is not None and path in mapping:
            copy["location"] = quote(mapping[path])
            copy.pop("path", None)
    return copy
