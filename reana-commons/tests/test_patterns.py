"""Glob patterns: same answers as a straightforward matcher, in time linear in the tree.

Patterns were regular expressions (``(?:[^/]+/)*`` per ``**``): eight ``**``
took 11 s on a small tree and held a server thread meanwhile.
"""

from __future__ import annotations

import fnmatch
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reana_commons import workspace as ws
from reana_commons.errors import WorkspacePathError
from reana_commons.workspace.patterns import MAX_PATTERN_WILDCARDS, compile_pattern


def reference_match(pattern: list[str], name: list[str]) -> bool:
    """Component by component with fnmatch; ``**`` any number of components (exponential)."""
    if not pattern:
        return not name
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if not rest:
            return len(name) >= 1
        return any(reference_match(rest, name[i:]) for i in range(len(name) + 1))
    return bool(name) and fnmatch.fnmatchcase(name[0], head) and reference_match(rest, name[1:])


COMPONENT = st.text(alphabet="ab*?", min_size=1, max_size=4).filter(lambda c: "**" not in c)
PATTERN = st.lists(st.one_of(COMPONENT, st.just("**")), min_size=1, max_size=5)
NAME = st.lists(st.text(alphabet="ab", min_size=1, max_size=4), min_size=1, max_size=5)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(pattern=PATTERN, name=NAME)
def test_same_answers_as_the_reference(pattern, name):
    compiled = compile_pattern("/".join(pattern))
    assert compiled.matches("/".join(name)) == reference_match(pattern, name)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("[!n]*", "names", False),
        ("[!n]*", "in", True),
        ("[a-c]x", "bx", True),
        ("[]]x", "]x", True),
        ("[x", "[x", True),
        ("*.txt", ".hidden.txt", True),
        ("data/**", "data", False),
        ("data/**", "data/sub/x", True),
    ],
)
def test_classes_and_edges(pattern, name, expected):
    assert compile_pattern(pattern).matches(name) is expected


@pytest.fixture
def deep_tree(tmp_path):
    """2,000 files, 20 levels deep."""
    root = tmp_path / "ws"
    for branch in range(10):
        directory = root
        for level in range(20):
            directory = directory / f"d{branch}_{level}"
            directory.mkdir(parents=True)
            for i in range(10):
                (directory / f"f{i}.txt").write_text("x")
    return root


def _timed(root, pattern) -> tuple[float, int]:
    start = time.perf_counter()
    count = sum(1 for _ in ws.list_files(root, pattern))
    return time.perf_counter() - start, count


def test_repeated_double_stars_cost_nothing_extra(deep_tree):
    one, matched = _timed(deep_tree, "**/f1.txt")
    assert matched == 200
    for repeat in (8, 30):
        many, count = _timed(deep_tree, "/".join(["**"] * repeat) + "/f1.txt")
        assert count == matched
        assert many < 3 * one + 0.5, (repeat, many, one)
    # Names that almost match, the worst case of a backtracking matcher.
    hard, count = _timed(deep_tree, "/".join(["**", "d*"] * 20) + "/nothing")
    assert count == 0 and hard < 10 * one + 1.0, (hard, one)


def test_a_pattern_has_a_complexity_limit(tmp_path):
    with pytest.raises(WorkspacePathError, match="too complex"):
        compile_pattern("/".join(["*"] * (MAX_PATTERN_WILDCARDS + 1)))
    with pytest.raises(WorkspacePathError, match="too long"):
        compile_pattern("/".join(["abcdefghi"] * 110) + "/*")
    assert compile_pattern("/".join(["**"] * 300) + "/x").matches("a/b/x")
