"""Zip archives of workspace files, streamed (downloads of directories and globs)."""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterable, Iterator

from reana_commons.errors import WorkspaceFileNotFound, WorkspacePathError
from reana_commons.workspace.files import list_files
from reana_commons.workspace.paths import open_file, workspace_root

_COPY_CHUNK = 256 * 1024


def matching_files(workspace: str | os.PathLike, patterns: Iterable[str]) -> list[dict]:
    """Unique files matched by paths, directories or globs, in order of first match."""
    seen: dict[str, dict] = {}
    for pattern in patterns:
        for info in list_files(workspace, pattern):
            seen.setdefault(info["name"], info)
    return list(seen.values())


def _write_zip(root: str, files: list[dict], fileobj) -> None:
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in files:
            try:
                src = open_file(root, info["name"])
            except (WorkspaceFileNotFound, WorkspacePathError):
                continue  # removed or replaced (e.g. by a hard link) since it was listed
            with src:
                st = os.fstat(src.fileno())
                # A name that is not UTF-8 on disk (a job's choice) is stored readable.
                name = info["name"].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                member = zipfile.ZipInfo(name, time.gmtime(st.st_mtime)[:6])
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = (st.st_mode & 0o777) << 16
                member.file_size = st.st_size
                with archive.open(member, "w", force_zip64=st.st_size > 2**31) as dst:
                    while chunk := src.read(_COPY_CHUNK):
                        dst.write(chunk)
                        yield


def zip_paths(workspace: str | os.PathLike, paths: Iterable[str], fileobj) -> int:
    """Write a zip of the files matched by ``paths`` to ``fileobj``; number of files.

    ``fileobj`` need not be seekable. Raises :class:`WorkspaceFileNotFound`
    (before writing anything) when nothing matches.
    """
    root = workspace_root(workspace)
    paths = list(paths)
    files = matching_files(root, paths)
    if not files:
        raise WorkspaceFileNotFound(f"{', '.join(paths)} does not exist.")
    for _ in _write_zip(root, files, fileobj):
        pass
    return len(files)


class _Sink:
    """A write-only, non-seekable file object collecting what zipfile writes."""

    def __init__(self):
        self.buffer = bytearray()
        self.offset = 0

    def write(self, data) -> int:
        self.buffer += data
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def iter_zip(workspace: str | os.PathLike, paths: Iterable[str]) -> Iterator[bytes]:
    """A zip of the matched files as an iterator of byte chunks (for streamed responses).

    Matching happens now, so :class:`WorkspaceFileNotFound` is raised by the call
    itself, before a response starts.
    """
    root = workspace_root(workspace)
    paths = list(paths)
    files = matching_files(root, paths)
    if not files:
        raise WorkspaceFileNotFound(f"{', '.join(paths)} does not exist.")

    def generate() -> Iterator[bytes]:
        sink = _Sink()
        for _ in _write_zip(root, files, sink):
            if len(sink.buffer) >= _COPY_CHUNK:
                yield sink.take()
        if sink.buffer:
            yield sink.take()

    return generate()
