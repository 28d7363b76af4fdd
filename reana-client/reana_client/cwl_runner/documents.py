"""The local side of a CWL run: the packed tool, the job object and the files they name.

The tool is packed by cwltool itself (``cwltool --pack``, as reana-client 0.9.6
does, two of its slips mended: :mod:`reana_client.cwl_runner.packing`), which
resolves ``run:``, ``$import`` and ``$include`` and makes every ``location`` an
absolute URI. The job file is read as cwltool reads it (YAML 1.2, no timestamps)
and its relative locations resolved against the job file's folder.

Every local File or Directory found in either is uploaded under ``inputs/`` of
the workspace, keeping the paths relative to the deepest folder that holds them
all (so ``secondaryFiles`` next to a file, and a Directory's tree and name, stay
where cwltool looks for them), and its location becomes that workspace path, which
the engine resolves against the workspace root. Next to each File, the files
whose names start like it (``reads.bam`` → ``reads.bam.bai``, ``reads.bai``)
are uploaded as well: they are the ``secondaryFiles`` a tool may ask for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from reana_client.cwl_runner.packing import RunnerError, as_rendered, file_uri, pack

WORKSPACE_PREFIX = "inputs"
FILE_CLASSES = ("File", "Directory")


@dataclass
class Prepared:
    """What the run needs: the packed tool, the job object and the files to upload."""

    specification: dict
    job: dict
    uploads: dict[str, Path] = field(default_factory=dict)  # workspace path -> local file


def local_path(uri: str) -> Path | None:
    """The local path of a ``file://`` URI (None for other schemes)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


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
    from ruamel.yaml.error import YAMLError
    from schema_salad.utils import yaml_no_ts

    try:
        job = as_rendered(yaml_no_ts().load(path.read_text(encoding="utf-8")))
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
        path = _packed_path(node)
        if path is not None:
            found[path] = node["class"]
        for value in node.values():
            _collect(value, found)


def _workspace_paths(found: dict) -> dict[Path, str]:
    """``inputs/<path relative to the deepest folder holding them all>`` of each path.

    That folder holds each Directory too, not only its contents: a Directory keeps its
    basename (a tool may glob ``testdir/c`` of the ``testdir`` it staged).
    """
    if not found:
        return {}
    root = Path(os.path.commonpath([str(path.parent) for path in found]))
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
    path = _packed_path(copy)
    if path is not None and path in mapping:
        copy["location"] = quote(mapping[path])
        copy.pop("path", None)
    return copy


def _packed_path(node: dict) -> Path | None:
    """The local path of a File/Directory: its ``location``, else its ``path`` (a URI once
    packed: cwltool resolves both), None for other schemes and other objects."""
    if node.get("class") not in FILE_CLASSES:
        return None
    value = node.get("location")
    if not isinstance(value, str):
        value = node.get("path")
        if not isinstance(value, str):
            return None
        if os.path.isabs(value):
            return Path(value)
    return local_path(value)
