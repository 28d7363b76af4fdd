"""List, filter, delete, move and write files of a workspace without escaping it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from reana_commons.config import WORKFLOW_TIME_FORMAT
from reana_commons.errors import (
    REANAValidationError,
    WorkspaceFileNotFound,
    WorkspacePathError,
)
from reana_commons.json_input import load_json
from reana_commons.workspace.paths import (
    is_inside,
    open_real_dir,
    relative_name,
    resolve,
    resolve_entry,
    served_file_refusal,
    workspace_root,
)
from reana_commons.workspace.patterns import Entry, compile_pattern, iter_matches, walk

DEFAULT_CHUNK_SIZE = 1024 * 1024
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _file_info(name: str, path: str, root: str, root_dev: int) -> dict | None:
    """The listing entry of a servable file (symlinks followed only inside the workspace).

    What is listed is what can be downloaded: a file :func:`served_file_refusal`
    refuses (several hard links, another device, not regular) is not listed.
    """
    try:
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not is_inside(root, target):
                return None
            path = target
        st = os.lstat(path)
    except OSError:
        return None
    if served_file_refusal(st, root_dev, name):
        return None
    modified = datetime.fromtimestamp(st.st_mtime, tz=UTC)
    return {
        "name": name,
        "size": st.st_size,
        "last-modified": modified.strftime(WORKFLOW_TIME_FORMAT),
    }


def _files_under(root: str, entry: Entry, root_dev: int) -> Iterator[dict]:
    """Servable files at or under ``entry`` (directories expanded recursively)."""
    start = entry.path
    if entry.is_link:
        start = os.path.realpath(entry.path)
        if not is_inside(root, start):
            return
    if not os.path.isdir(start):
        info = _file_info(entry.name, entry.path, root, root_dev)
        if info:
            yield info
        return
    for child in walk(root, start, entry.name):
        if not child.is_dir:
            info = _file_info(child.name, child.path, root, root_dev)
            if info:
                yield info


def list_files(workspace: str | os.PathLike, pattern: str | None = None) -> Iterator[dict]:
    """Files of the workspace as ``{name, size, last-modified}`` dicts.

    Without ``pattern``: every regular file, recursively. With a glob (``*``,
    ``?``, ``[..]``, ``**``) or a plain path: the matching files, and the files
    under matching directories. Symbolic links leading outside are skipped, and
    so are files that would not be served (see :func:`served_file_refusal`).
    """
    root = workspace_root(workspace)
    root_dev = os.stat(root).st_dev
    if not pattern or pattern.strip("/") in ("", "."):
        yield from _files_under(root, Entry("", root, True, False), root_dev)
        return
    seen: set[str] = set()
    for entry in iter_matches(root, compile_pattern(pattern)):
        for info in _files_under(root, entry, root_dev):
            if info["name"] not in seen:
                seen.add(info["name"])
                yield info


def parse_search(search: str | dict | None) -> dict[str, list[str]]:
    """A ``search`` filter (JSON text or dict) as ``{field: [substrings]}``."""
    if not search:
        return {}
    if isinstance(search, str):
        try:
            search = load_json(search, "The search filter")
        except REANAValidationError:
            raise
        except ValueError as error:
            raise REANAValidationError(f"Invalid search filter: {error}.") from error
    if not isinstance(search, dict):
        raise REANAValidationError("Invalid search filter: a JSON object is expected.")
    parsed = {}
    for key, values in search.items():
        values = values if isinstance(values, list) else [values]
        parsed[str(key)] = [str(v).lower() for v in values]
    return parsed


def _field_text(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    if isinstance(value, dict):  # {"raw": .., "human_readable": ..}
        value = value.get("raw")
    return None if value is None else str(value).lower()


def filter_entries(entries: Iterable[dict], search: str | dict | None) -> Iterator[dict]:
    """Entries whose fields contain every searched substring (case-insensitive).

    ``search`` is REANA's filter, e.g. ``{"name": ["data"], "size": ["20"]}``;
    sizes compare as their raw byte count written in decimal.
    """
    criteria = parse_search(search)
    for entry in entries:
        if all(
            (text := _field_text(entry, key)) is not None and all(v in text for v in values)
            for key, values in criteria.items()
        ):
            yield entry


def _removal_plan(root: str, entry: Entry) -> list[tuple[str, int]]:
    """``(name, size)`` of everything deleting ``entry`` removes (deepest first)."""
    if not entry.is_dir:
        return [(entry.name, os.lstat(entry.path).st_size)]
    plan = [(entry.name, 0)]
    for child in walk(root, entry.path, entry.name):
        plan.append((child.name, 0 if child.is_dir else os.lstat(child.path).st_size))
    return list(reversed(plan))


def delete(workspace: str | os.PathLike, pattern: str) -> dict:
    """Delete the files and directories matching ``pattern`` (a path or a glob).

    Returns REANA's ``{"deleted": {name: {"size": bytes}}, "failed": {name:
    {"error": text}}}``; a deleted directory is reported with its content, each
    directory with size 0. Symbolic links are removed, never followed.
    """
    root = workspace_root(workspace)
    compiled = compile_pattern(pattern)
    if not compiled.is_glob and not compiled.base:
        raise WorkspacePathError("The workspace itself cannot be deleted.")
    result: dict = {"deleted": {}, "failed": {}}
    removed_dirs: list[str] = []
    for entry in list(iter_matches(root, compiled)):
        if any(entry.name.startswith(d + "/") for d in removed_dirs):
            continue
        try:
            plan = _removal_plan(root, entry)
            parent, name = os.path.split(entry.path)
            with open_real_dir(root, parent) as dir_fd:
                if entry.is_dir:
                    failures = _rmtree(name, dir_fd, root, parent)
                else:
                    failures = {}
                    os.unlink(name, dir_fd=dir_fd)
        except OSError as error:
            result["failed"][entry.name] = {"error": str(error)}
            continue
        except WorkspacePathError as error:
            result["failed"][entry.name] = {"error": error.message}
            continue
        for removed, size in plan:
            if removed in failures:
                result["failed"][removed] = {"error": failures[removed]}
            elif not any(f.startswith(removed + "/") for f in failures):
                result["deleted"][removed] = {"size": size}
        if entry.is_dir:
            removed_dirs.append(entry.name)
    return result


def _rmtree(name: str, dir_fd: int, root: str, parent: str) -> dict[str, str]:
    """Remove a directory tree relative to ``dir_fd`` (symlink-attack safe); failures."""
    failures: dict[str, str] = {}

    def onerror(func, path, exc_info):
        failures[relative_name(root, os.path.join(parent, path))] = str(exc_info[1])

    shutil.rmtree(name, dir_fd=dir_fd, onerror=onerror)
    return failures


def move(workspace: str | os.PathLike, source: str, target: str) -> str:
    """Move or rename ``source`` to ``target`` (into it when it is a directory).

    Returns the new relative name. Raises :class:`WorkspaceFileNotFound` when
    ``source`` does not exist and :class:`WorkspacePathError` when the move is
    refused (outside the workspace, a directory into itself, a clash).
    """
    root = workspace_root(workspace)
    src_parent, src_name = resolve_entry(root, source)
    src = os.path.join(src_parent, src_name)
    if not os.path.lexists(src):
        raise WorkspaceFileNotFound(f"Path {source} does not exist.")
    dst = str(resolve(root, target))
    if os.path.isdir(dst):
        dst = os.path.join(dst, src_name)
    if dst == root:
        raise WorkspacePathError("The workspace itself cannot be replaced.")
    src_is_dir = os.path.isdir(src) and not os.path.islink(src)
    if src_is_dir and is_inside(src, dst):
        raise WorkspacePathError(f"Cannot move '{source}' into itself.")
    dst_parent, dst_name = os.path.split(dst)
    try:
        with open_real_dir(root, src_parent) as src_fd:
            with open_real_dir(root, dst_parent, create=True) as dst_fd:
                os.rename(src_name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    except OSError as error:
        raise WorkspacePathError(
            f"Cannot move '{source}' to '{target}': {error.strerror}."
        ) from error
    return relative_name(root, dst)


def _chunks(stream, chunk_size: int) -> Iterator[bytes]:
    if hasattr(stream, "read"):
        while chunk := stream.read(chunk_size):
            yield chunk
    else:
        for chunk in stream:
            if chunk:
                yield chunk


def save_stream(
    workspace: str | os.PathLike,
    user_path: str,
    stream,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Write ``stream`` (file-like or iterable of bytes) to ``user_path``; bytes written.

    Data goes to a temporary file in the target directory, renamed over the
    target only when complete: readers never see a half-written file, and the
    content is never held in memory. Missing parent directories are created.
    """
    root = workspace_root(workspace)
    real = str(resolve(root, user_path))
    if real == root or os.path.isdir(real):
        raise WorkspacePathError(f"{user_path} is a directory.")
    parent, name = os.path.split(real)
    written = 0
    with open_real_dir(root, parent, create=True) as dir_fd:
        # A short prefix of the name (by bytes: a name may be 255 bytes of multi-byte text).
        prefix = name.encode("utf-8", "surrogateescape")[:120].decode("utf-8", "ignore")
        temp = f".{prefix}.{uuid.uuid4().hex}.part"
        fd = os.open(temp, _FILE_FLAGS, 0o644, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(stream, chunk_size):
                    out.write(chunk)
                    written += len(chunk)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=dir_fd)
            except OSError:
                pass
            raise
    return written
