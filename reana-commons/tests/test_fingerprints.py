"""Workspace fingerprints: file states, changed files, declared inputs, safe digests."""

from __future__ import annotations

import hashlib
import os
import shutil

from reana_commons.workspace import fingerprints


def test_scan_changed_and_digests(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "link").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "fifo")
    before = fingerprints.scan(tmp_path)
    assert set(before) == {"d/a.txt", "b.txt"}  # no link followed, no FIFO
    (tmp_path / "d" / "a.txt").write_text("aa")
    (tmp_path / "c.txt").write_text("c")
    after = fingerprints.scan(tmp_path)
    assert fingerprints.changed(before, after) == ["c.txt", "d/a.txt"]
    digests = fingerprints.digests(tmp_path, ["c.txt", "link", "fifo", "gone"])
    assert digests == [{"path": "c.txt", "sha256": hashlib.sha256(b"c").hexdigest(), "size": 1}]
    assert fingerprints.sha256_of(tmp_path, "link") is None


def test_declared_inputs_are_the_workspace_files_a_command_names(tmp_path):
    for name in ("code/fit.py", "data/x.csv", "results/old.json", "a b.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    state = fingerprints.scan(tmp_path)
    command = (f"cd {tmp_path} && mkdir -p results && (python3 code/fit.py --in=data/x.csv;"
               f" cat {tmp_path}/results/old.json)>results/new.json && cat ../etc/passwd")
    assert fingerprints.declared_inputs(tmp_path, command, state) == [
        "code/fit.py", "data/x.csv", "results/old.json"]
    assert fingerprints.declared_inputs(tmp_path, "cat 'a b.txt' /etc/passwd", state) == [
        "a b.txt"]
    # an engine's list wins over the command
    assert fingerprints.declared_inputs(tmp_path, "cat data/x.csv", state,
                                        named=["code/fit.py", "nope"]) == ["code/fit.py"]


def test_no_symbolic_link_is_followed_on_the_way(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    workspace = tmp_path / "ws"
    (workspace / "real").mkdir(parents=True)
    (workspace / "real" / "f").write_text("f")
    (workspace / "swapped").symlink_to(outside)
    assert fingerprints.sha256_of(workspace, "swapped/secret") is None
    assert fingerprints.sha256_of(workspace, "../outside/secret") is None
    assert fingerprints.sha256_of(workspace, "real/f") == (hashlib.sha256(b"f").hexdigest(), 1)
    assert [d["path"] for d in fingerprints.digests(workspace, ["real/f", "swapped/secret"])] == [
        "real/f"]


def test_a_link_to_a_workspace_file_declares_that_file(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "names.txt").write_text("x")
    (tmp_path / "cwl" / "tmp" / "stg1").mkdir(parents=True)
    (tmp_path / "cwl" / "tmp" / "stg1" / "names.txt").symlink_to(tmp_path / "data" / "names.txt")
    (tmp_path / "cwl" / "tmp" / "stg1" / "passwd").symlink_to("/etc/passwd")
    state = fingerprints.scan(tmp_path)
    named = [str(tmp_path / "cwl/tmp/stg1/names.txt"), str(tmp_path / "cwl/tmp/stg1/passwd")]
    assert fingerprints.declared_inputs(tmp_path, "", state, named) == ["data/names.txt"]


def test_tree_state_refresh_relists_only_changed_folders(tmp_path, monkeypatch):
    from reana_commons.workspace import tree_state

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "b.txt").write_text("b")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    first = tree_state.snapshot(tmp_path)
    assert set(first.files) == {"d/a.txt", "e/b.txt"}
    monkeypatch.setattr(tree_state, "RACY_NS", 0)  # folder times need not age here
    (tmp_path / "e" / "new.txt").write_text("n")  # a new entry: e's time changes
    os.utime(tmp_path / "e", ns=(1, 2))
    (tmp_path / "d" / "a.txt").write_text("changed in place")  # d's time does not
    listed = []
    real_list = tree_state._list
    monkeypatch.setattr(tree_state, "_list", lambda root_fd, relative, *a:
                        listed.append(relative) or real_list(root_fd, relative, *a))
    second = tree_state.refresh(tmp_path, first)
    assert set(second.files) == {"d/a.txt", "e/b.txt", "e/new.txt"}
    assert listed == ["e"]  # only the changed folder was read again
    assert second.files["d/a.txt"] == first.files["d/a.txt"]  # in place: not seen here
    assert tree_state.snapshot(tmp_path).files["d/a.txt"] != first.files["d/a.txt"]
    shutil.rmtree(tmp_path / "e")
    assert set(tree_state.refresh(tmp_path, second).files) == {"d/a.txt"}


def test_fine_grained_times_probe(tmp_path, monkeypatch):
    from reana_commons.workspace import tree_state

    found = tree_state.fine_grained_times(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the scratch file is gone
    release = tuple(int(x) for x in os.uname().release.split(".")[:2] if x.isdigit())
    if release < (6, 13):
        assert found is False  # a coarse clock: two writes in one tick keep the time
    assert tree_state.fine_grained_times(tmp_path / "absent") is False
    real_fstat = os.fstat
    monkeypatch.setattr(tree_state.os, "fstat", lambda fd: os.stat_result(
        (*real_fstat(fd)[:8], 1, 1)))  # every mtime the same: a coarse clock
    assert tree_state.fine_grained_times(tmp_path) is False


def test_digest_all_reuses_a_known_digest_only_in_the_same_state(tmp_path):
    for name, text in (("a/x", "x"), ("b/y", "y"), ("a/z", "z")):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    os.mkfifo(tmp_path / "a" / "fifo")
    (tmp_path / "b" / "link").symlink_to(tmp_path / "a" / "x")
    with fingerprints.TreeReader(tmp_path) as reader:
        first = reader.digest_all(["a/x", "b/y", "a/z", "a/fifo", "b/link", "b/../a/x",
                                   "gone/f", "a/.."])
    sha = {text: hashlib.sha256(text.encode()).hexdigest() for text in ("x", "y", "z", "zz")}
    assert [(path, digest, size) for path, digest, size, _, _ in first] == [
        ("a/x", sha["x"], 1), ("b/y", sha["y"], 1), ("a/z", sha["z"], 1)]
    assert all(read_ns for *_, read_ns in first)  # all read
    known = {path: (state, "remembered") for path, _, _, state, _ in first}
    (tmp_path / "a" / "z").write_text("zz")  # a new state: read again
    (tmp_path / "b" / "y").unlink()
    with fingerprints.TreeReader(tmp_path) as reader:
        again = reader.digest_all(["a/x", "a/z", "b/y"], known)
    assert [(path, digest, bool(read_ns)) for path, digest, _, _, read_ns in again] == [
        ("a/x", "remembered", False), ("a/z", sha["zz"], True)]


def test_reading_a_file_leaves_its_access_time(tmp_path):
    """What provenance reads is no access (and an access time written costs a journal entry)."""
    path = tmp_path / "f"
    path.write_text("x")
    os.utime(path, ns=(10**9, path.stat().st_mtime_ns))  # older than mtime: relatime updates it
    assert fingerprints.sha256_of(tmp_path, "f") == (hashlib.sha256(b"x").hexdigest(), 1)
    assert path.stat().st_atime_ns == 10**9


def test_files_not_owned_are_read_without_asking_for_no_access_time(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.setattr(fingerprints, "_noatime", os.O_NOATIME)
    real_open, refused = os.open, []

    def open_(name, flags, *args, **kwargs):
        if flags & os.O_NOATIME:  # what the kernel answers a process not owning the file
            refused.append(name)
            raise PermissionError(1, "Operation not permitted")
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(fingerprints.os, "open", open_)
    for _ in range(2):
        assert fingerprints.sha256_of(tmp_path, "f") == (hashlib.sha256(b"x").hexdigest(), 1)
    assert refused == ["f"]  # asked once, then no more
