"""Compare two workspaces like ``diff -r --no-dereference --unified=N`` (``-q`` for brief).

Written in Python rather than running ``diff`` over the two directories: ``diff``
opens whatever the trees hold, including hard links a job made to files outside
its workspace. Here both trees are walked through directory descriptors opened
with ``O_NOFOLLOW`` (a directory swapped for a symlink while comparing is not
followed), symbolic links are compared as link texts, and file contents are
read only from files that would be served (:func:`served_file_refusal`); the
others are named, not read. Output is bounded in size.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from reana_commons.workspace.paths import _DIR_FLAGS, _FILE_FLAGS, served_file_refusal

MAX_TEXT_BYTES = 4 * 1024 * 1024
"""Files larger than this are compared, but their differences are not listed line by line."""
MAX_OUTPUT_BYTES = 8 * 1024 * 1024
"""The comparison stops with a note once its output reaches this size."""
_BINARY_PROBE = 8192
_KINDS = {
    stat.S_IFREG: "regular file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symbolic link",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character special file",
    stat.S_IFBLK: "block special file",
}


class _OutputFull(Exception):
    """The output reached :data:`MAX_OUTPUT_BYTES`."""


@dataclass
class _Side:
    """One workspace being compared: its label (the run's name) and root device."""

    label: str
    root_dev: int


@dataclass
class _Output:
    limit: int
    lines: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size >= self.limit:
            raise _OutputFull


def _label(side: _Side, rel: str) -> str:
    return f"{side.label}/{rel}" if rel else side.label


def _entries(dir_fd: int) -> dict[str, os.stat_result]:
    result = {}
    for name in os.listdir(dir_fd):
        try:
            result[name] = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed while comparing
    return result


def _open_dir(name: str, dir_fd: int) -> int | None:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            return None  # removed or replaced while comparing
        raise


def _read(name: str, dir_fd: int, side: _Side, rel: str) -> tuple[bytes | None, str | None]:
    """``(content, None)`` of a servable file, or ``(None, why it is not read)``."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        return None, f"{_label(side, rel)} cannot be read: {error.strerror}"
    with os.fdopen(fd, "rb", closefd=True) as stream:
        st = os.fstat(fd)
        refusal = served_file_refusal(st, side.root_dev, _label(side, rel))
        if refusal:
            return None, refusal
        os.set_blocking(fd, True)
        return stream.read(), None


def _date(st: os.stat_result) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(st.st_mtime))
    return f"{stamp}.{st.st_mtime_ns % 1_000_000_000:09d} +0000"


@dataclass
class _Comparison:
    a: _Side
    b: _Side
    brief: bool
    context_lines: int
    out: _Output

    def directory(self, fd_a: int, fd_b: int, rel: str) -> None:
        entries_a, entries_b = _entries(fd_a), _entries(fd_b)
        for name in sorted(set(entries_a) | set(entries_b)):
            child = f"{rel}/{name}" if rel else name
            if name not in entries_b:
                self.out.add(f"Only in {_label(self.a, rel)}: {name}")
            elif name not in entries_a:
                self.out.add(f"Only in {_label(self.b, rel)}: {name}")
            else:
                self.entry(fd_a, fd_b, name, child, entries_a[name], entries_b[name])

    def entry(self, fd_a, fd_b, name, rel, st_a, st_b) -> None:
        kind_a, kind_b = stat.S_IFMT(st_a.st_mode), stat.S_IFMT(st_b.st_mode)
        if kind_a != kind_b:
            self.out.add(
                f"File {_label(self.a, rel)} is a {_KINDS.get(kind_a, 'special file')} while "
                f"file {_label(self.b, rel)} is a {_KINDS.get(kind_b, 'special file')}"
            )
        elif kind_a == stat.S_IFDIR:
            with ExitStack() as stack:
                sub_a, sub_b = _open_dir(name, fd_a), _open_dir(name, fd_b)
                for fd in (sub_a, sub_b):
                    if fd is not None:
                        stack.callback(os.close, fd)
                if sub_a is not None and sub_b is not None:
                    self.directory(sub_a, sub_b, rel)
        elif kind_a == stat.S_IFLNK:
            if _readlink(name, fd_a) != _readlink(name, fd_b):
                self.out.add(
                    f"Symbolic links {_label(self.a, rel)} and {_label(self.b, rel)} differ"
                )
        elif kind_a == stat.S_IFREG:
            self.files(fd_a, fd_b, name, rel, st_a, st_b)
        else:
            self.out.add(
                f"File {_label(self.a, rel)} is a {_KINDS.get(kind_a, 'special file')} while "
                f"file {_label(self.b, rel)} is a {_KINDS.get(kind_b, 'special file')}"
            )

    def files(self, fd_a, fd_b, name, rel, st_a, st_b) -> None:
        label_a, label_b = _label(self.a, rel), _label(self.b, rel)
        if max(st_a.st_size, st_b.st_size) > MAX_TEXT_BYTES:
            if not _same_content(name, fd_a, fd_b, self.a, self.b, rel):
                self.out.add(f"Files {label_a} and {label_b} differ")
            return
        content_a, refusal_a = _read(name, fd_a, self.a, rel)
        content_b, refusal_b = _read(name, fd_b, self.b, rel)
        if refusal_a or refusal_b:
            self.out.add(f"Not compared: {refusal_a or refusal_b}")
            return
        if content_a == content_b:
            return
        if self.brief:
            self.out.add(f"Files {label_a} and {label_b} differ")
            return
        if b"\0" in content_a[:_BINARY_PROBE] or b"\0" in content_b[:_BINARY_PROBE]:
            self.out.add(f"Binary files {label_a} and {label_b} differ")
            return
        self.out.add(f"diff -r --unified={self.context_lines} {label_a} {label_b}")
        lines = difflib.unified_diff(
            content_a.decode("utf-8", "replace").splitlines(),
            content_b.decode("utf-8", "replace").splitlines(),
            label_a,
            label_b,
            _date(st_a),
            _date(st_b),
            n=self.context_lines,
            lineterm="",
        )
        for line in lines:
            self.out.add(line)


def _readlink(name: str, dir_fd: int) -> str | None:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def _same_content(name, fd_a, fd_b, side_a: _Side, side_b: _Side, rel: str) -> bool:
    """Whether two large servable files hold the same bytes (read in chunks, never whole)."""
    streams = []
    try:
        for fd, side in ((fd_a, side_a), (fd_b, side_b)):
            file_fd = os.open(name, _FILE_FLAGS, dir_fd=fd)
            streams.append(os.fdopen(file_fd, "rb"))
            if served_file_refusal(os.fstat(file_fd), side.root_dev, rel):
                return False
            os.set_blocking(file_fd, True)
        while True:
            chunk_a, chunk_b = streams[0].read(1 << 20), streams[1].read(1 << 20)
            if chunk_a != chunk_b:
                return False
            if not chunk_a:
                return True
    except OSError:
        return False
    finally:
        for stream in streams:
            stream.close()


def compare_workspaces(
    root_a: str,
    root_b: str,
    label_a: str,
    label_b: str,
    brief: bool = False,
    context_lines: int = 5,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
) -> str:
    """The differences between two workspace trees as ``diff -r`` prints them.

    Paths are shown under ``label_a`` and ``label_b`` (the runs' names), never
    as the workspaces' paths on the server.
    """
    fd_a = os.open(root_a, _DIR_FLAGS)
    try:
        fd_b = os.open(root_b, _DIR_FLAGS)
        try:
            out = _Output(max_output_bytes)
            comparison = _Comparison(
                _Side(label_a, os.fstat(fd_a).st_dev),
                _Side(label_b, os.fstat(fd_b).st_dev),
                brief,
                context_lines,
                out,
            )
            try:
                comparison.directory(fd_a, fd_b, "")
            except _OutputFull:
                out.lines.append(
                    f"... (comparison stopped: its output reached {max_output_bytes} bytes)"
                )
            return "\n".join(out.lines) + ("\n" if out.lines else "")
        finally:
            os.close(fd_b)
    finally:
        os.close(fd_a)
