"""What a job read and wrote in a workspace: file states, changed files, SHA-256 digests.

Provenance (issue 19) records, for every job, the SHA-256 of the files it declared as inputs and
of the files it created or changed. A :func:`scan` before and one after the job give the changed
files without hashing anything else: a file's state is its size, modification time (ns) and
inode, read by one ``stat`` per entry (``os.scandir``), symbolic links never followed. Only the
changed files and the declared inputs are hashed.

A job's *declared inputs* are the workspace files its engine names (CWL File inputs), else the
files its command names: every word of the command (and the part after ``=`` of
``--opt=value`` words) that is the path of a regular file inside the workspace when the job
starts. REANA's serial and yadage steps name the files they read this way; a directory named by
a command is not expanded (``mkdir -p results`` must not make every old result an input).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import stat
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

FileState = tuple[int, int, int]
"""``(size, mtime_ns, inode)`` of a regular file."""

MAX_DECLARED_FILES = 10_000
"""Declared inputs hashed per job at most."""


class Digest(NamedTuple):
    """A file's SHA-256 and the state (size, mtime, inode) it was taken in."""

    sha256: str
    size: int
    state: FileState
    hashed: bool
    """False when the digest was reused (the content was not read)."""
    read_ns: int = 0
    """When the content was read (wall clock, ns)."""


def scan(root: str | os.PathLike) -> dict[str, FileState]:
    """Every regular file below ``root`` (relative POSIX path → state); links not followed."""
    states: dict[str, FileState] = {}
    root = os.fspath(root)
    pending = [("", root)]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                name = prefix + entry.name
                if stat.S_ISDIR(info.st_mode):
                    pending.append((name + "/", entry.path))
                elif stat.S_ISREG(info.st_mode):
                    states[name] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return states


def changed(before: dict[str, FileState], after: dict[str, FileState]) -> list[str]:
    """Files of ``after`` that are new or whose state differs from ``before`` (sorted)."""
    return sorted(path for path, state in after.items() if before.get(path) != state)


def changed_since(after: dict[str, FileState], root: str | os.PathLike,
                  since_ns: int) -> list[str]:
    """Files changed at or after ``since_ns`` by their ``ctime`` (when no earlier scan exists)."""
    root = os.fspath(root)
    found = []
    for path in after:
        try:
            if os.lstat(os.path.join(root, path)).st_ctime_ns >= since_ns:
                found.append(path)
        except OSError:
            continue
    return sorted(found)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_OPEN_DIRECTORIES = 256
_noatime = getattr(os, "O_NOATIME", 0)
"""``O_NOATIME`` while the process may use it (it owns the files, or has ``CAP_FOWNER``)."""


def open_quietly(name: str, flags: int, dir_fd: int | None = None) -> int:
    """``os.open`` without updating the access time, where the process may ask so.

    Reading a file written since it was last read updates its access time (``relatime``),
    which writes its inode (a journal entry on ext4): 30 % of opening and reading a small file
    just written. What the platform reads to record provenance is no access by anyone. A
    process not owning a file may not ask (``EPERM``): it then stops asking, as git does.
    """
    global _noatime
    if _noatime:
        try:
            return os.open(name, flags | _noatime, dir_fd=dir_fd)
        except PermissionError:
            _noatime = 0
    return os.open(name, flags, dir_fd=dir_fd)


class TreeReader:
    """Reads files below a root without following any symbolic link on the way.

    Every directory is opened from its parent's descriptor with ``O_NOFOLLOW`` (a directory a
    job swapped for a link fails), each once while the reader is open; the file itself is
    opened the same way and checked to be regular on its descriptor. Cheaper than opening full
    paths too: the kernel does not walk the workspace's path again for every file.
    """

    def __init__(self, root: str | os.PathLike):
        self._root = os.open(os.fspath(root), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._dirs: dict[str, int] = {}

    def __enter__(self) -> TreeReader:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()
        os.close(self._root)

    def _directory(self, relative: str) -> int:
        if not relative:
            return self._root
        fd = self._dirs.get(relative)
        if fd is None:
            parent, _, name = relative.rpartition("/")
            parent_fd = self._directory(parent)
            if len(self._dirs) >= MAX_OPEN_DIRECTORIES:
                self.close_directories()
                parent_fd = self._directory(parent)
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
            self._dirs[relative] = fd
        return fd

    def close_directories(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def sha256(self, path: str) -> tuple[str, int] | None:
        """``(hex digest, size)`` of the regular file ``path``, or None (gone, not regular)."""
        found = self.digest(path)
        return None if found is None else (found.sha256, found.size)

    def digest(self, path: str, known: Mapping[str, tuple[FileState, str]] | None = None
               ) -> Digest | None:
        """The :class:`Digest` of the regular file ``path``, or None (gone, not regular)."""
        for _path, sha256, size, state, read_ns in self.digest_all((path,), known):
            return Digest(sha256, size, state, read_ns != 0, read_ns)
        return None

    def digest_all(self, paths: Iterable[str],
                   known: Mapping[str, tuple[FileState, str]] | None = None
                   ) -> list[tuple[str, str, int, FileState, int]]:
        """``(path, sha256, size, state, read_ns)`` of the regular files among ``paths``.

        ``read_ns`` is when the content was read (wall clock), 0 when it was not:
        ``known[path]``, a ``(state, digest)`` pair, gives the digest of a file whose state is
        the same now (one ``fstatat`` through the folder's descriptor, the link not followed).
        Otherwise a file costs ``openat``, ``fstat``, one ``read`` (up to 1 MiB) and ``close``.
        A job's outputs go through here (a hundred per job is common): the loop is kept lean,
        plain tuples, each folder looked up once per run of paths in it.
        """
        found = []
        sha256 = hashlib.sha256
        last_directory, parent = None, -1
        for path in paths:
            directory, _, name = path.rpartition("/")
            if not name or name == "." or name == "..":
                continue
            try:
                if directory != last_directory:
                    last_directory = None
                    if directory and "/../" in f"/{directory}/":
                        continue
                    parent = self._directory(directory)
                    last_directory = directory
                if known is not None:
                    remembered = known.get(path)
                    if remembered is not None:  # one fstatat, no open, when it is unchanged
                        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
                        state = (info.st_size, info.st_mtime_ns, info.st_ino)
                        if remembered[0] == state and stat.S_ISREG(info.st_mode):
                            found.append((path, remembered[1], info.st_size, state, 0))
                            continue
                fd = open_quietly(name, _FILE_FLAGS, parent)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                size = info.st_size
                read_ns = time.time_ns()
                if size <= 1 << 20:
                    value = sha256(os.read(fd, size + 1)).hexdigest()
                else:
                    with os.fdopen(os.dup(fd), "rb") as stream:
                        value = hashlib.file_digest(stream, "sha256").hexdigest()
                found.append((path, value, size, (size, info.st_mtime_ns, info.st_ino),
                              read_ns))
            except OSError:
                continue
            finally:
                os.close(fd)
        return found


def sha256_of(root: str | os.PathLike, path: str) -> tuple[str, int] | None:
    """``(hex digest, size)`` of the regular file ``root/path`` (no link followed), or None."""
    try:
        reader = TreeReader(root)
    except OSError:
        return None
    with reader:
        return reader.sha256(path)


def digests(root: str | os.PathLike, paths: Iterable[str]) -> list[dict]:
    """``[{"path", "sha256", "size"}]`` of the files of ``paths`` still readable (sorted)."""
    found = []
    with TreeReader(root) as reader:
        for path in sorted(set(paths)):
            result = reader.sha256(path)
            if result is not None:
                found.append({"path": path, "sha256": result[0], "size": result[1]})
    return found


_PLAIN_SPLIT = re.compile(r"[\s;&|()<>]+")


def _words(command: str) -> list[str]:
    """The shell words of ``command`` (and the values of ``--opt=value`` words)."""
    if any(char in command for char in "'\"\\"):
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError:  # an unbalanced quote: the plain words then
            words = command.split()
    else:  # no quoting: a regular expression splits as the shell would (20x faster)
        words = [word for word in _PLAIN_SPLIT.split(command) if word]
    if "=" not in command:
        return words
    found = []
    for word in words:
        found.append(word)
        if "=" in word:
            found.append(word.split("=", 1)[1])
    return found


def declared_inputs(root: str | os.PathLike, command: str,
                    state: dict[str, FileState], named: Iterable[str] = ()) -> list[str]:
    """The workspace files a job declares: ``named`` by its engine, else named by its command.

    ``state`` is a :func:`scan` of ``root``: only regular files in it count, so nothing outside
    the workspace is ever read; absolute words inside the workspace count as relative ones,
    and a link to a workspace file (cwltool stages inputs so) counts as that file.
    """
    root_text = os.fspath(Path(root))
    real_root = ""
    files = set()
    for word in list(named) or _words(command):
        if word in state:  # a workspace file named as it is kept (already normal)
            files.add(word)
            if len(files) >= MAX_DECLARED_FILES:
                break
            continue
        word = word.strip()
        if os.path.isabs(word):
            if not word.startswith(root_text + "/"):
                continue
            word = word[len(root_text) + 1:]
        normal = os.path.normpath(word) if word else ""
        if normal not in state and "/" in normal and not normal.startswith(".."):
            # a link to a workspace file (cwltool stages inputs as links): the file itself
            real_root = real_root or os.path.realpath(root_text)
            real = os.path.realpath(os.path.join(root_text, normal))
            if real.startswith(real_root + "/"):
                normal = real[len(real_root) + 1:]
        if normal in state:
            files.add(normal)
            if len(files) >= MAX_DECLARED_FILES:
                break
    return sorted(files)
