"""Property-based tests: no generated path resolves, lists, writes or deletes outside."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reana_commons import workspace as ws
from reana_commons.errors import WorkspaceFileNotFound, WorkspacePathError
from reana_commons.workspace.paths import is_inside

COMPONENTS = [
    "..",
    ".",
    "",
    "a",
    "b",
    "file.txt",
    "link_out",
    "chain1",
    "chain_inside_then_out",
    "abs_root",
    "up",
    "upup",
    "swapped",
    "dangling_out",
    "*",
    "**",
    "?",
    "[a-z]*",
    "...",
    "a\x00",
    "%2e%2e",
]

paths = st.builds(
    lambda lead, parts: lead + "/".join(parts),
    st.sampled_from(["", "", "/", "./", "//"]),
    st.lists(st.sampled_from(COMPONENTS), min_size=0, max_size=6),
)


@contextmanager
def hostile_workspace():
    """A workspace full of links out of it (chains, relative, absolute, swapped dirs)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root, outside = base / "ws", base / "outside"
        (root / "a" / "b").mkdir(parents=True)
        outside.mkdir()
        (outside / "secret.txt").write_text("secret")
        (root / "a" / "file.txt").write_text("inside")
        os.symlink(outside, root / "link_out")
        os.symlink(outside, root / "a" / "link_out")
        os.symlink("chain2", root / "chain1")  # chain1 -> chain2 -> link_out -> outside
        os.symlink("link_out", root / "chain2")
        os.symlink("a/b/../../link_out", root / "chain_inside_then_out")
        os.symlink("/", root / "a" / "abs_root")
        os.symlink("..", root / "a" / "up")  # stays inside: legit
        os.symlink("../..", root / "a" / "b" / "upup")  # leads out of a/b/../.. = ws/.. ?
        os.symlink("../../..", root / "a" / "upup")
        os.symlink(outside / "not-yet", root / "a" / "dangling_out")
        (root / "swapped_orig").mkdir()
        os.symlink(outside, root / "swapped")  # a directory replaced by a symlink
        yield root, outside


def outside_snapshot(outside: Path):
    return sorted(
        (str(p.relative_to(outside)), p.read_bytes() if p.is_file() else b"")
        for p in outside.rglob("*")
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths)
def test_resolve_never_leaves_the_workspace(user_path):
    with hostile_workspace() as (root, _):
        real_root = os.path.realpath(root)
        try:
            resolved = ws.resolve(root, user_path)
        except WorkspacePathError:
            return
        assert is_inside(real_root, os.path.realpath(resolved))
        assert "\x00" not in user_path and not user_path.startswith("/")


@settings(max_examples=150, deadline=None)
@given(paths)
def test_listing_and_zipping_never_show_outside_content(pattern):
    with hostile_workspace() as (root, _):
        real_root = os.path.realpath(root)
        try:
            listed = list(ws.list_files(root, pattern or None))
        except WorkspacePathError:
            return
        for entry in listed:
            assert is_inside(real_root, os.path.realpath(os.path.join(real_root, entry["name"])))
            with ws.open_file(root, entry["name"]) as fh:
                assert fh.read() != b"secret"


@settings(max_examples=150, deadline=None)
@given(paths)
def test_writes_never_touch_outside(user_path):
    with hostile_workspace() as (root, outside):
        before = outside_snapshot(outside)
        try:
            ws.save_stream(root, user_path, [b"payload"])
        except (WorkspacePathError, WorkspaceFileNotFound):
            pass
        assert outside_snapshot(outside) == before


@settings(max_examples=150, deadline=None)
@given(paths)
def test_deletes_never_touch_outside(pattern):
    with hostile_workspace() as (root, outside):
        before = outside_snapshot(outside)
        try:
            ws.delete(root, pattern)
        except WorkspacePathError:
            pass
        assert outside_snapshot(outside) == before
        assert outside.is_dir()


@settings(max_examples=150, deadline=None)
@given(paths, paths)
def test_moves_never_take_anything_in_or_out(source, target):
    with hostile_workspace() as (root, outside):
        before = outside_snapshot(outside)
        try:
            ws.move(root, source, target)
        except (WorkspacePathError, WorkspaceFileNotFound):
            pass
        assert outside_snapshot(outside) == before
