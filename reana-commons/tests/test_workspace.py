"""Workspace helpers: REANA-compatible listings and sizes, and no way out of the workspace."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile

import pytest
from reana_commons import workspace as ws
from reana_commons.errors import WorkspaceFileNotFound, WorkspaceNotFound, WorkspacePathError


@pytest.fixture
def tree(tmp_path):
    """A workspace with files, an outside directory and symlinks of every kind."""
    root = tmp_path / "workspace"
    outside = tmp_path / "outside"
    (root / "data" / "sub").mkdir(parents=True)
    (root / "code").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "data" / "names.txt").write_text("Jane\nJohn\n")
    (root / "data" / "sub" / "deep.csv").write_text("1,2,3")
    (root / "code" / "hello.py").write_text("print('hello')\n")
    (root / "reana.yaml").write_text("version: 0.9.0\n")
    (root / ".hidden").write_text("x")
    os.symlink(outside, root / "out_dir")
    os.symlink(outside / "secret.txt", root / "data" / "out_file")
    os.symlink("names.txt", root / "data" / "in_file")
    os.symlink("../../outside", root / "code" / "relative_out")
    return root


def names(entries):
    return sorted(e["name"] for e in entries)


def test_resolve_inside(tree):
    assert ws.resolve(tree, "data/names.txt") == tree / "data" / "names.txt"
    assert ws.resolve(tree, "./data//names.txt") == tree / "data" / "names.txt"
    assert ws.resolve(tree, "") == tree
    assert ws.resolve(tree, "data/in_file") == tree / "data" / "names.txt"
    assert ws.resolve(tree, "new/dir/file") == tree / "new" / "dir" / "file"


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.txt",
        "data/../../outside",
        "data/..",
        "/etc/passwd",
        "/",
        "out_dir/secret.txt",
        "out_dir",
        "data/out_file",
        "code/relative_out/secret.txt",
        "data\x00/names.txt",
    ],
)
def test_resolve_refuses_escapes(tree, path):
    with pytest.raises(WorkspacePathError):
        ws.resolve(tree, path)


def test_resolve_must_exist_and_missing_workspace(tree, tmp_path):
    with pytest.raises(WorkspaceFileNotFound, match="nope.txt does not exist"):
        ws.resolve(tree, "nope.txt", must_exist=True)
    with pytest.raises(WorkspaceNotFound, match="Workspace does not exist."):
        ws.resolve(tmp_path / "missing", "a")


def test_list_files_all_skips_outside_links(tree):
    listed = list(ws.list_files(tree))
    assert names(listed) == [
        ".hidden",
        "code/hello.py",
        "data/in_file",
        "data/names.txt",
        "data/sub/deep.csv",
        "reana.yaml",
    ]
    entry = next(e for e in listed if e["name"] == "data/names.txt")
    assert entry["size"] == 10
    assert len(entry["last-modified"]) == 19 and entry["last-modified"][10] == "T"


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ("data", ["data/in_file", "data/names.txt", "data/sub/deep.csv"]),
        ("data/", ["data/in_file", "data/names.txt", "data/sub/deep.csv"]),
        ("/data/*.txt", ["data/names.txt"]),
        ("data/*", ["data/in_file", "data/names.txt", "data/sub/deep.csv"]),
        ("**/*.csv", ["data/sub/deep.csv"]),
        ("**/*.py", ["code/hello.py"]),
        ("*.yaml", ["reana.yaml"]),
        ("data/**", ["data/in_file", "data/names.txt", "data/sub/deep.csv"]),
        ("data/na?es.[st]xt", ["data/names.txt"]),
        ("data/[!n]*", ["data/in_file", "data/sub/deep.csv"]),
        ("out_dir", []),
        ("out_dir/*", []),
        ("nothing*", []),
        ("reana.yaml", ["reana.yaml"]),
    ],
)
def test_list_files_patterns(tree, pattern, expected):
    assert names(ws.list_files(tree, pattern)) == expected


def test_patterns_refuse_dotdot(tree):
    with pytest.raises(WorkspacePathError):
        list(ws.list_files(tree, "../*"))
    with pytest.raises(WorkspacePathError):
        list(ws.list_files(tree, "data/a**b"))


def test_filter_entries_like_reana(tree):
    listed = list(ws.list_files(tree))
    assert names(ws.filter_entries(listed, '{"name": ["DATA", "txt"]}')) == ["data/names.txt"]
    assert names(ws.filter_entries(listed, {"size": ["10"]})) == ["data/in_file", "data/names.txt"]
    assert names(ws.filter_entries(listed, None)) == names(listed)
    with pytest.raises(ValueError):
        list(ws.filter_entries(listed, "{not json"))


def test_human_readable_bytes():
    assert ws.human_readable_bytes(0) == "0 Bytes"
    assert ws.human_readable_bytes(20) == "20 Bytes"
    assert ws.human_readable_bytes(3256) == "3.18 KiB"
    assert ws.human_readable_bytes(1024 * 1024) == "1 MiB"
    assert ws.human_readable_bytes(1536) == "1.5 KiB"
    assert ws.human_readable_bytes(5 * 1024**4) == "5 TiB"
    assert ws.size_dict(20) == {"raw": 20, "human_readable": "20 Bytes"}


def test_disk_usage_like_du(tree):
    usage = ws.disk_usage(tree)
    by_name = {e["name"]: e["size"]["raw"] for e in usage}
    assert usage[-1]["name"] == ""
    assert "/data/sub/deep.csv" in by_name and "/data/sub" in by_name and "/data" in by_name
    # a directory counts its content (du -a semantics) and the total is the sum
    assert by_name["/data"] >= by_name["/data/sub"] + by_name["/data/names.txt"]
    names_order = [e["name"] for e in usage]
    assert names_order.index("/data/sub/deep.csv") < names_order.index("/data/sub")
    assert by_name[""] == ws.workspace_size_bytes(tree)
    summary = ws.disk_usage(tree, summarize=True)
    assert [e["name"] for e in summary] == [""]
    filtered = ws.disk_usage(tree, search='{"name": ["sub"]}')
    assert [e["name"] for e in filtered] == ["/data/sub/deep.csv", "/data/sub"]
    apparent = ws.workspace_size_bytes(tree, apparent=True)
    links = sum(os.lstat(p).st_size for p in tree.rglob("*") if p.is_symlink())
    # file sizes plus symlink lengths; nothing outside is counted
    assert apparent == 10 + 5 + 15 + 15 + 1 + links


@pytest.mark.skipif(not shutil.which("du"), reason="GNU du not installed")
def test_disk_usage_matches_gnu_du(tree):
    (tree / "big.bin").write_bytes(os.urandom(70_000))
    out = subprocess.run(
        ["du", "-a", "--block-size=1", str(tree)], capture_output=True, text=True, check=True
    ).stdout
    expected = {}
    for line in out.splitlines():
        size, path = line.split("\t", 1)
        rel = os.path.relpath(path, tree)
        expected["" if rel == "." else "/" + rel] = int(size)
    assert {e["name"]: e["size"]["raw"] for e in ws.disk_usage(tree)} == expected


def test_hard_links_counted_once(tree):
    big = tree / "big.bin"
    big.write_bytes(b"x" * 100_000)
    before = ws.workspace_size_bytes(tree)
    os.link(big, tree / "big-link.bin")
    assert ws.workspace_size_bytes(tree) == before


def test_save_stream_atomic_and_parents(tree):
    written = ws.save_stream(tree, "new/deeper/out.bin", io.BytesIO(b"a" * 3_000_000), 65536)
    assert written == 3_000_000
    assert (tree / "new" / "deeper" / "out.bin").stat().st_size == 3_000_000
    assert ws.save_stream(tree, "new/deeper/out.bin", [b"abc", b"", b"def"]) == 6
    assert (tree / "new" / "deeper" / "out.bin").read_bytes() == b"abcdef"
    assert not [p for p in (tree / "new" / "deeper").iterdir() if p.name.endswith(".part")]


def test_save_stream_failure_leaves_old_content(tree):
    def broken():
        yield b"partial"
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        ws.save_stream(tree, "data/names.txt", broken())
    assert (tree / "data" / "names.txt").read_text() == "Jane\nJohn\n"
    assert sorted(p.name for p in (tree / "data").iterdir()) == [
        "in_file",
        "names.txt",
        "out_file",
        "sub",
    ]


@pytest.mark.parametrize("path", ["out_dir/new.txt", "data/out_file", "data", "", "../x"])
def test_save_stream_refused(tree, path):
    with pytest.raises(WorkspacePathError):
        ws.save_stream(tree, path, [b"x"])
    assert sorted(os.listdir(tree.parent / "outside")) == ["secret.txt"]
    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret"


def test_save_stream_through_file_component_refused(tree):
    with pytest.raises(WorkspacePathError):
        ws.save_stream(tree, "reana.yaml/inner.txt", [b"x"])


def test_writes_refuse_a_directory_swapped_for_a_symlink(tree):
    """The check-then-use race: the resolved path changes before the write."""
    root = str(tree)
    resolved = ws.resolve(tree, "data/sub")
    os.rename(tree / "data" / "sub", tree / "moved")
    os.symlink(tree.parent / "outside", tree / "data" / "sub")
    from reana_commons.workspace.paths import open_real_dir

    with pytest.raises(WorkspacePathError):
        with open_real_dir(root, str(resolved)):
            pass
    assert sorted(os.listdir(tree.parent / "outside")) == ["secret.txt"]


def test_open_file(tree):
    with ws.open_file(tree, "data/in_file") as fh:
        assert fh.read() == b"Jane\nJohn\n"
    with pytest.raises(WorkspacePathError):
        ws.open_file(tree, "data/out_file")
    with pytest.raises(WorkspacePathError):
        ws.open_file(tree, "data")
    with pytest.raises(WorkspaceFileNotFound):
        ws.open_file(tree, "data/none.txt")


def test_delete_file_glob_and_directory(tree):
    result = ws.delete(tree, "data/*.txt")
    assert result == {"deleted": {"data/names.txt": {"size": 10}}, "failed": {}}
    result = ws.delete(tree, "data")
    assert set(result["deleted"]) == {
        "data",
        "data/sub",
        "data/sub/deep.csv",
        "data/in_file",
        "data/out_file",
    }
    assert result["deleted"]["data/sub/deep.csv"] == {"size": 5}
    assert not (tree / "data").exists()
    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret"
    assert ws.delete(tree, "nothing*") == {"deleted": {}, "failed": {}}


def test_delete_symlinks_never_follows(tree):
    result = ws.delete(tree, "out_dir")
    assert list(result["deleted"]) == ["out_dir"]
    assert (tree.parent / "outside" / "secret.txt").exists()
    ws.delete(tree, "code/**")
    assert (tree.parent / "outside" / "secret.txt").exists()
    assert os.listdir(tree / "code") == []


@pytest.mark.parametrize("pattern", ["", ".", "/", "../outside", "out_dir/secret.txt"])
def test_delete_refused_or_empty(tree, pattern):
    try:
        result = ws.delete(tree, pattern)
    except WorkspacePathError:
        pass
    else:
        assert result == {"deleted": {}, "failed": {}}
    assert (tree.parent / "outside" / "secret.txt").exists()
    assert (tree / "reana.yaml").exists()


def test_move(tree):
    assert ws.move(tree, "data/names.txt", "renamed.txt") == "renamed.txt"
    assert (tree / "renamed.txt").read_text() == "Jane\nJohn\n"
    assert ws.move(tree, "renamed.txt", "code") == "code/renamed.txt"
    assert ws.move(tree, "code", "results/code") == "results/code"
    assert (tree / "results" / "code" / "hello.py").exists()
    with pytest.raises(WorkspaceFileNotFound):
        ws.move(tree, "nope", "x")
    with pytest.raises(WorkspacePathError):
        ws.move(tree, "results", "results/code/inner")
    with pytest.raises(WorkspacePathError):
        ws.move(tree, "reana.yaml", "out_dir/stolen.yaml")
    with pytest.raises(WorkspacePathError):
        ws.move(tree, "../outside/secret.txt", "here.txt")
    with pytest.raises(WorkspacePathError):
        ws.move(tree, "", "x")
    assert sorted(os.listdir(tree.parent / "outside")) == ["secret.txt"]


def test_zip_paths_and_iter_zip(tree):
    buffer = io.BytesIO()
    assert ws.zip_paths(tree, ["data", "reana.yaml"], buffer) == 4
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert sorted(archive.namelist()) == [
            "data/in_file",
            "data/names.txt",
            "data/sub/deep.csv",
            "reana.yaml",
        ]
        assert archive.read("data/sub/deep.csv") == b"1,2,3"
    streamed = b"".join(ws.iter_zip(tree, ["**/*.py"]))
    with zipfile.ZipFile(io.BytesIO(streamed)) as archive:
        assert archive.namelist() == ["code/hello.py"]
    with pytest.raises(WorkspaceFileNotFound):
        ws.iter_zip(tree, ["out_dir"])


def test_writes_through_an_inside_symlink_land_in_its_target(tree):
    os.symlink("data", tree / "alias")
    assert ws.save_stream(tree, "alias/sub/new.txt", [b"via link"]) == 8
    assert (tree / "data" / "sub" / "new.txt").read_bytes() == b"via link"
    with ws.open_file(tree, "alias/sub/new.txt") as fh:
        assert fh.read() == b"via link"
    assert "alias/sub/new.txt" in names(ws.list_files(tree, "alias"))
