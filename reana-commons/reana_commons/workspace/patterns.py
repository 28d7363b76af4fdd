"""Glob patterns over a workspace tree (``*``, ``?``, ``[...]``, ``**``).

``*`` and ``?`` never cross a ``/``; a ``**`` component matches any number of
directories (zero included). Dot-files are matched like any other name, as
``pathlib`` does. The tree is walked without following symbolic links to
directories, so a pattern can neither escape the workspace nor loop.

Matching is not done with regular expressions: a backtracking regex of a few
``**`` (or ``*a*a*a*b``) takes exponential time on names that almost match.
Components and ``**`` are matched by the classic wildcard algorithm instead,
in time proportional to pattern size times name size, and repeated ``**`` are
merged. Patterns have a size and wildcard limit, refused with a clear message.
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


MAX_PATTERN_CHARS = 1024
"""Longest glob pattern accepted."""
MAX_PATTERN_WILDCARDS = 64
"""Most wildcards (``*``, ``?``, ``[...]``) in one pattern (``**`` counts once)."""

_STAR = ("*",)
_ANY = ("?",)
_ANY_COMPONENTS = "**"


def _class_token(component: str, start: int) -> tuple[tuple, int] | None:
    """``(("[", negated, chars, ranges), index after "]")`` or ``None`` when unclosed."""
    i = start + 1
    negated = component[i : i + 1] == "!"
    if negated:
        i += 1
    first = i
    end = component.find("]", first + 1 if component[first : first + 1] == "]" else first)
    if end == -1:
        return None
    body = component[first:end]
    chars, ranges, j = set(), [], 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            ranges.append((body[j], body[j + 2]))
            j += 3
        else:
            chars.add(body[j])
            j += 1
    return ("[", negated, frozenset(chars), tuple(ranges)), end + 1


def _tokens(component: str) -> tuple[tuple, ...]:
    """A glob component as tokens: ``("*",)``, ``("?",)``, classes and ``("=", char)``."""
    tokens: list[tuple] = []
    i = 0
    while i < len(component):
        char = component[i]
        if char == "*":
            if not tokens or tokens[-1] != _STAR:  # "**" inside a component is one "*"
                tokens.append(_STAR)
            i += 1
        elif char == "?":
            tokens.append(_ANY)
            i += 1
        elif char == "[" and (found := _class_token(component, i)) is not None:
            tokens.append(found[0])
            i = found[1]
        else:
            tokens.append(("=", char))
            i += 1
    return tuple(tokens)


def _token_matches(token: tuple, char: str) -> bool:
    kind = token[0]
    if kind == "=":
        return token[1] == char
    if kind == "?":
        return True
    _, negated, chars, ranges = token
    inside = char in chars or any(low <= char <= high for low, high in ranges)
    return inside != negated


def _sequence_match(pattern, items, matches_one, is_star) -> bool:
    """Whether ``items`` match ``pattern``, whose star elements match any run of items.

    The classic wildcard algorithm: on a mismatch, only the most recent star
    takes one more item. Time is O(len(pattern) * len(items)) whatever the
    pattern, never exponential like a backtracking regex.
    """
    p = i = 0
    star, mark = -1, 0
    while i < len(items):
        if p < len(pattern) and is_star(pattern[p]):
            star, mark = p, i
            p += 1
        elif p < len(pattern) and matches_one(pattern[p], items[i]):
            p += 1
            i += 1
        elif star != -1:
            p = star + 1
            mark += 1
            i = mark
        else:
            return False
    while p < len(pattern) and is_star(pattern[p]):
        p += 1
    return p == len(pattern)


def _component_matches(tokens: tuple, name: str) -> bool:
    return _sequence_match(tokens, name, _token_matches, lambda token: token == _STAR)


def _check_complexity(pattern: str, components: list) -> None:
    """Refuse patterns too long, or with too many wildcards (merged ``**`` count once)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise WorkspacePathError(
            f"Pattern '{pattern[:64]}...' is too long: at most {MAX_PATTERN_CHARS} characters."
        )
    wildcards = sum(
        1 if element == _ANY_COMPONENTS else sum(token[0] != "=" for token in element)
        for element in components
    )
    if wildcards > MAX_PATTERN_WILDCARDS:
        raise WorkspacePathError(
            f"Pattern '{pattern[:64]}...' is too complex: at most {MAX_PATTERN_WILDCARDS} "
            "wildcards (*, ?, [...]) are allowed."
        )


@dataclass(frozen=True)
class Pattern:
    """A compiled workspace pattern: literal leading directories and the glob components.

    ``components`` is ``None`` when the pattern has no glob character (a plain
    path). Otherwise each element is the token tuple of one component, or
    ``"**"`` for any number of directories; repeated ``**`` are merged.
    """

    text: str
    base: tuple[str, ...]
    components: tuple | None

    @property
    def is_glob(self) -> bool:
        """Whether the pattern has a wildcard (else it names one path)."""
        return self.components is not None

    def matches(self, name: str) -> bool:
        """Whether the relative POSIX ``name`` matches (linear in the name's length)."""
        if self.components is None:
            return name == "/".join(self.base)
        return _sequence_match(
            self.components,
            name.split("/"),
            _component_matches,
            lambda element: element == _ANY_COMPONENTS,
        )


def compile_pattern(pattern: str) -> Pattern:
    """Compile ``pattern`` (a leading ``/`` is ignored); refuses ``..``, NUL and complexity.

    ``*``, ``?`` and ``[...]`` match within one component; a ``**`` component
    matches any number of directories (a trailing ``**`` at least one entry).
    """
    parts = split_user_path(pattern.lstrip("/") if isinstance(pattern, str) else pattern)
    first_glob = next((i for i, p in enumerate(parts) if _GLOB_CHARS.search(p)), None)
    if first_glob is None:
        return Pattern(pattern, tuple(parts), None)
    components: list = []
    for i, part in enumerate(parts):
        if part == _ANY_COMPONENTS:
            if i == len(parts) - 1:
                # A trailing "**" is "something below": one component, then any more.
                components.append((_STAR,))
            if not components or components[-1] != _ANY_COMPONENTS:
                components.append(_ANY_COMPONENTS)
        elif "**" in part:
            raise WorkspacePathError(
                f"Invalid pattern '{pattern}': '**' must be a whole component."
            )
        else:
            components.append(_tokens(part))
    _check_complexity(pattern, components)
    return Pattern(pattern, tuple(parts[:first_glob]), tuple(components))


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
    if not pattern.is_glob:
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
