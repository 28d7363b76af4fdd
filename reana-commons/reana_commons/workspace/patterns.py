"""Glob patterns over a workspace tree (``*``, ``?``, ``[...]``, ``**``).

``*`` and ``?`` never cross a ``/``; a ``**`` component matches any number of
directories (zero included). Dot-files are matched like any other name, as
``pathlib`` does. The tree is walked without following symbolic links to
directories, so a pattern can neither escape the workspace nor loop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from reana_commons.errors import WorkspacePathError
from reana_commons.workspace.paths import is_inside, split_user_path

_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Entry:
    """One node of a workspace tree met while walking."""

    name: str  # POSIX path relative to the workspace
    path: str  # absolute path (its last component may be a symlink)
    is_dir: bool  # a real directory (never a symlink)
    is_link: bool


def _translate_component(component: str) -> str:
    out, i = [], 0
    while i < len(component):
        char = component[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = component.find("]", i + 2 if component[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = component[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\").replace("/", "") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """A compiled workspace pattern: literal leading directories and a regex."""

    text: str
    base: tuple[str, ...]
    regex: re.Pattern | None  # None: the pattern has no glob character

    def matches(self, name: str) -> bool:
        """Whether the relative POSIX ``name`` matches."""
        if self.regex is None:
            return name == "/".join(self.base)
        return self.regex.fullmatch(name) is not None


def compile_pattern(pattern: str) -> Pattern:
    """Compile ``pattern`` (a leading ``/`` is ignored); refuses ``..`` and NUL."""
    parts = split_user_path(pattern.lstrip("/") if isinstance(pattern, str) else pattern)
    first_glob = next((i for i, p in enumerate(parts) if _GLOB_CHARS.search(p)), None)
    if first_glob is None:
        return Pattern(pattern, tuple(parts), None)
    regex = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        elif "**" in part:
            raise WorkspacePathError(
                f"Invalid pattern '{pattern}': '**' must be a whole component."
            )
        else:
            regex += _translate_component(part) + ("" if last else "/")
    try:
        compiled = re.compile(regex, re.DOTALL)
    except re.error as error:
        raise WorkspacePathError(f"Invalid pattern '{pattern}': {error}.") from error
    return Pattern(pattern, tuple(parts[:first_glob]), compiled)


def walk(root: str, start: str, prefix: str) -> Iterator[Entry]:
    """Every entry below the real directory ``start`` (sorted, depth first, pre-order)."""
    stack = [(start, prefix)]
    while stack:
        directory, rel = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        children = []
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            is_link = entry.is_symlink()
            is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            yield Entry(name, entry.path, is_dir, is_link)
            if is_dir:
                children.append((entry.path, name))
        stack.extend(reversed(children))


def iter_matches(root: str, pattern: Pattern) -> Iterator[Entry]:
    """Entries of the tree under ``root`` whose relative name matches ``pattern``."""
    if pattern.regex is None:
        if not pattern.base:
            return
        parent = os.path.realpath(os.path.join(root, *pattern.base[:-1]))
        path = os.path.join(parent, pattern.base[-1])
        if not is_inside(root, parent) or not os.path.lexists(path):
            return
        is_link = os.path.islink(path)
        yield Entry("/".join(pattern.base), path, not is_link and os.path.isdir(path), is_link)
        return
    base = os.path.realpath(os.path.join(root, *pattern.base))
    if not is_inside(root, base) or not os.path.isdir(base):
        return
    prefix = "/".join(pattern.base)
    for entry in walk(root, base, prefix):
        if pattern.matches(entry.name):
            yield entry
