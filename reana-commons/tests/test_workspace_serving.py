"""Only a workspace's own regular files are served: hard links and special files a job made are not.

A job can ``ln /platform/secret-key mine`` (same file system, no permission
needed to link a readable file): the link is a regular file inside the
workspace, so path checks alone would serve it. Listing, download, zip and
the workspace comparison all refuse a file with more than one link.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import zipfile

import pytest
from reana_commons import workspace as ws
from reana_commons.errors import WorkspaceFileNotFound, WorkspacePathError
from reana_commons.workspace.compare import compare_workspaces


@pytest.fixture
def secret(tmp_path):
    """A file outside every workspace (the platform's secret key)."""
    path = tmp_path / "secret-key"
    path.write_text("platform secret\n")
    return path


@pytest.fixture
def workspace(tmp_path, secret):
    """A workspace holding a job's hard link to ``secret`` and a FIFO."""
    root = tmp_path / "workspace"
    (root / "out").mkdir(parents=True)
    (root / "out" / "result.txt").write_text("result\n")
    os.link(secret, root / "out" / "key")
    os.mkfifo(root / "out" / "pipe")
    return root


def names(entries):
    return sorted(entry["name"] for entry in entries)


def test_hard_link_is_neither_listed_nor_opened(workspace):
    assert names(ws.list_files(workspace)) == ["out/result.txt"]
    assert names(ws.list_files(workspace, "out/*")) == ["out/result.txt"]
    assert names(ws.list_files(workspace, "out/key")) == []
    with pytest.raises(WorkspacePathError, match="other hard links"):
        ws.open_file(workspace, "out/key")
    # Through a symlink inside the workspace it is the same file: still refused.
    os.symlink("out/key", workspace / "alias")
    with pytest.raises(WorkspacePathError, match="other hard links"):
        ws.open_file(workspace, "alias")


def test_hard_link_is_not_zipped(workspace):
    archive = zipfile.ZipFile(io.BytesIO(b"".join(ws.iter_zip(workspace, ["out"]))))
    assert archive.namelist() == ["out/result.txt"]
    with pytest.raises(WorkspaceFileNotFound):
        ws.iter_zip(workspace, ["out/key"])


def test_a_file_linked_after_listing_is_left_out_of_the_zip(workspace, secret):
    (workspace / "out" / "late").write_text("mine\n")
    chunks = ws.iter_zip(workspace, ["out"])  # listed now
    os.unlink(workspace / "out" / "late")
    os.link(secret, workspace / "out" / "late")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.namelist() == ["out/result.txt"]


def test_fifo_is_refused_without_blocking(workspace):
    result = {}

    def attempt():
        try:
            ws.open_file(workspace, "out/pipe")
        except WorkspacePathError as error:
            result["error"] = error.message

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert result == {"error": "out/pipe is not a regular file."}


def test_once_the_outside_link_is_gone_the_file_is_served(workspace, secret):
    secret.unlink()
    with ws.open_file(workspace, "out/key") as stream:
        assert stream.read() == b"platform secret\n"


@pytest.fixture
def two_workspaces(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "data" / "sub").mkdir(parents=True)
        (root / "same.txt").write_text("same\n")
    (a / "data" / "names.txt").write_text("Jane\nJohn\nJim\n")
    (b / "data" / "names.txt").write_text("Jane\nJoan\nJim\n")
    (a / "only_a.txt").write_text("a\n")
    (b / "data" / "sub" / "only_b.txt").write_text("b\n")
    (a / "bin").write_bytes(b"\0\1")
    (b / "bin").write_bytes(b"\0\2")
    (a / "kind").mkdir()
    (b / "kind").write_text("file\n")
    os.symlink("same.txt", a / "link")
    os.symlink("only_a.txt", b / "link")
    return a, b


@pytest.mark.skipif(shutil.which("diff") is None, reason="GNU diff is not installed")
@pytest.mark.parametrize("options", [["--unified=1"], ["-q"]])
def test_comparison_prints_what_gnu_diff_prints(two_workspaces, tmp_path, options):
    a, b = two_workspaces
    gnu = subprocess.run(
        ["diff", "-r", "--no-dereference", *options, "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"TZ": "UTC", "LC_ALL": "C", "PATH": os.environ["PATH"]},
    ).stdout
    # diff repeats its options in its headers (newer versions quote them).
    gnu = gnu.replace("diff -r --no-dereference", "diff -r").replace("'--unified=1'", "--unified=1")
    ours = compare_workspaces(
        str(a), str(b), "a", "b", brief="-q" in options, context_lines=1
    )
    assert ours == gnu


def test_comparison_never_reads_a_hard_link(two_workspaces, secret):
    a, b = two_workspaces
    os.link(secret, a / "key")
    (b / "key").write_text("decoy\n")
    output = compare_workspaces(str(a), str(b), "run.1", "run.2")
    assert "platform secret" not in output
    assert "Not compared: run.1/key has other hard links; such files are not served." in output
    assert str(a) not in output


def test_comparison_output_is_bounded(two_workspaces):
    a, b = two_workspaces
    (a / "big.txt").write_text("".join(f"a{i}\n" for i in range(20000)))
    (b / "big.txt").write_text("".join(f"b{i}\n" for i in range(20000)))
    output = compare_workspaces(str(a), str(b), "a", "b", max_output_bytes=10_000)
    assert len(output) < 11_000
    assert output.rstrip().endswith("(comparison stopped: its output reached 10000 bytes)")
