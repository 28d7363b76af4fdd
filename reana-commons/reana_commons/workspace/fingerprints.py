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
from collections.abc import Iterable
from pathlib import Path

FileState = tuple[int, int, int]
"""``(size, mtime_ns, inode)`` of a regular file."""

MAX_DECLARED_FILES = 10_000
"""Declared inputs hashed per job at most."""


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


def sha256_of(root: str | os.PathLike, path: str) -> tuple[str, int] | None:
    """``(hex digest, size)`` of the regular file ``root/path``, or None (gone, not regular).

    The file is opened without following a final symbolic link and checked on the open
    descriptor, so a swapped entry is never read through.
    """
    try:
        fd = os.open(os.path.join(os.fspath(root), path),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        digest = hashlib.sha256()
        if info.st_size <= 1 << 20:
            digest.update(os.read(fd, info.st_size + 1))
        else:
            with os.fdopen(os.dup(fd), "rb") as stream:
                digest = hashlib.file_digest(stream, "sha256")
        return digest.hexdigest(), info.st_size
    except OSError:
        return None
    finally:
        os.close(fd)


def digests(root: str | os.PathLike, paths: Iterable[str]) -> list[dict]:
    """``[{"path", "sha256", "size"}]`` of the files of ``paths`` still readable (sorted)."""
    found = []
    for path in sorted(set(paths)):
        result = sha256_of(root, path)
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
    the workspace (or behind a symbolic link) is ever read; absolute words inside the workspace
    count as relative ones.
    """
    root_text = os.fspath(Path(root))
    files = set()
    for word in list(named) or _words(command):
        word = word.strip()
        if os.path.isabs(word):
            if not word.startswith(root_text + "/"):
                continue
            word = word[len(root_text) + 1:]
        normal = os.path.normpath(word) if word else ""
        if normal in state:
            files.add(normal)
            if len(files) >= MAX_DECLARED_FILES:
                break
    return sorted(files)
