"""Internal API: workspace files (upload, list, download, delete, move, usage, prune)."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from email.message import Message
from urllib.parse import quote

import psutil
import pytest
from reana_db.models import Workflow

OCTET = "application/octet-stream"


def q(user, **extra):
    return {"user": str(user.id_), **extra}


@pytest.fixture
def run(api, user, make_workflow, db):
    """A run with ``data/names.txt``, ``code/hello.py`` and ``results/out/{a,b}.txt``."""
    created = make_workflow(user)
    files = {
        "/data/names.txt": b"Jane\nJohn\n",
        "/code/hello.py": b"print('hello')\n",
        "/results/out/a.txt": b"a" * 2000,
        "/results/out/b.txt": b"b" * 10,
    }
    for name, content in files.items():
        response = api.post(
            f"/api/workflows/{created['workflow_id']}/workspace",
            query_string=q(user, file_name=name),
            data=content,
            content_type=OCTET,
        )
        assert response.status_code == 200, response.get_json()
    workflow = db.get(Workflow, uuid.UUID(created["workflow_id"]))
    return workflow


def _workspace(run):
    return run.workspace_path


def test_upload_creates_parents_and_answers_reana_message(api, user, run):
    with open(os.path.join(_workspace(run), "data", "names.txt"), "rb") as handle:
        assert handle.read() == b"Jane\nJohn\n"
    answer = api.post(
        "/api/workflows/helloworld.1/workspace",
        query_string=q(user, file_name="/data/names.txt"),
        data=b"overwritten",
        content_type=OCTET,
    )
    assert answer.get_json() == {"message": "/data/names.txt has been successfully uploaded."}
    with open(os.path.join(_workspace(run), "data", "names.txt"), "rb") as handle:
        assert handle.read() == b"overwritten"


def test_upload_refusals(api, user, run, tmp_path):
    url = "/api/workflows/helloworld.1/workspace"
    wrong_type = api.post(
        url, query_string=q(user, file_name="x"), data=b"x", content_type="text/plain"
    )
    assert wrong_type.status_code == 400
    no_name = api.post(url, query_string=q(user), data=b"x", content_type=OCTET)
    assert no_name.status_code == 400
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, os.path.join(_workspace(run), "escape"))
    for name in ("../x.txt", "/../../x.txt", "data/../../x.txt", "escape/x.txt", "data/"):
        response = api.post(
            url, query_string=q(user, file_name=name), data=b"x", content_type=OCTET
        )
        assert response.status_code == 400, name
    # Percent-encoded in the raw query string, decoded by the server before the check.
    raw = api.post(
        f"{url}?user={user.id_}&file_name=%2E%2E%2Fx.txt", data=b"x", content_type=OCTET
    )
    assert raw.status_code == 400
    assert os.listdir(outside) == []
    assert not os.path.exists(os.path.join(os.path.dirname(_workspace(run)), "x.txt"))


class GeneratedBody:
    """A readable stream producing ``size`` bytes on the fly (never all in memory)."""

    def __init__(self, size: int):
        self.size = size
        self.position = 0
        self.block = b"0123456789abcdef" * 65536

    def read(self, count: int = -1) -> bytes:
        remaining = self.size - self.position
        if count is None or count < 0 or count > remaining:
            count = remaining
        count = min(count, len(self.block))
        self.position += count
        return self.block[:count]

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        # werkzeug's test client measures the body by seeking to its end and back.
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position


def test_large_upload_is_streamed_to_disk(api, user, run, monkeypatch):
    from flask import Request

    def forbidden(self, *args, **kwargs):
        raise AssertionError("the upload body must be streamed, never loaded")

    monkeypatch.setattr(Request, "get_data", forbidden)
    size = 200 * 1024 * 1024
    process = psutil.Process()
    before = process.memory_info().rss
    response = api.post(
        "/api/workflows/helloworld.1/workspace",
        query_string=q(user, file_name="big/blob.bin"),
        input_stream=GeneratedBody(size),
        content_length=size,
        content_type=OCTET,
    )
    grown = process.memory_info().rss - before
    assert response.status_code == 200, response.get_json()
    assert os.path.getsize(os.path.join(_workspace(run), "big", "blob.bin")) == size
    assert grown < 50 * 1024 * 1024, grown


def test_list_files_with_glob_search_and_pages(api, user, run, tmp_path):
    (tmp_path / "secret.txt").write_text("s")
    os.symlink(tmp_path / "secret.txt", os.path.join(_workspace(run), "leak.txt"))
    url = "/api/workflows/helloworld.1/workspace"
    body = api.get(url, query_string=q(user)).get_json()
    names = sorted(item["name"] for item in body["items"])
    assert names == ["code/hello.py", "data/names.txt", "results/out/a.txt", "results/out/b.txt"]
    a = next(item for item in body["items"] if item["name"] == "results/out/a.txt")
    assert a["size"] == {"raw": 2000, "human_readable": "1.95 KiB"}
    assert len(a["last-modified"]) == 19
    glob = api.get(url, query_string=q(user, file_name="results/**/*.txt")).get_json()
    assert sorted(i["name"] for i in glob["items"]) == ["results/out/a.txt", "results/out/b.txt"]
    folder = api.get(url, query_string=q(user, file_name="results")).get_json()
    assert folder["total"] == 2
    search = api.get(url, query_string=q(user, search=json.dumps({"name": ["NAMES"]}))).get_json()
    assert [i["name"] for i in search["items"]] == ["data/names.txt"]
    sized = api.get(url, query_string=q(user, search=json.dumps({"size": ["2000"]}))).get_json()
    assert [i["name"] for i in sized["items"]] == ["results/out/a.txt"]
    page = api.get(url, query_string=q(user, page=2, size=3)).get_json()
    assert page["total"] == 4 and len(page["items"]) == 1 and page["has_prev"] is True
    assert api.get(url, query_string=q(user, search="{bad")).status_code == 400
    assert api.get(url, query_string=q(user, file_name="../*")).status_code == 400


def _filename(response) -> str:
    message = Message()
    message["content-disposition"] = response.headers["Content-Disposition"]
    return message.get_filename()


def test_download_single_file(api, user, run):
    response = api.get(
        "/api/workflows/helloworld.1/workspace/data/names.txt",
        query_string=q(user, file_name="data/names.txt"),
    )
    assert response.status_code == 200
    assert response.mimetype == OCTET
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert _filename(response) == "data/names.txt"
    assert response.data == b"Jane\nJohn\n"
    encoded = api.get(
        "/api/workflows/helloworld.1/workspace/data%2Fnames.txt", query_string=q(user)
    )
    assert encoded.status_code == 200 and encoded.data == b"Jane\nJohn\n"
    # reana-client quotes the whole path: "/data/names.txt" arrives as "//data/names.txt".
    leading = api.get(
        "/api/workflows/helloworld.1/workspace/%2Fdata%2Fnames.txt", query_string=q(user)
    )
    assert leading.status_code == 200 and _filename(leading) == "data/names.txt"
    single_glob = api.get(
        "/api/workflows/helloworld.1/workspace/data%2F%2A.txt", query_string=q(user)
    )
    assert single_glob.status_code == 200 and _filename(single_glob) == "data/names.txt"


def test_download_directory_and_glob_as_zip(api, user, run):
    response = api.get("/api/workflows/helloworld.1/workspace/results", query_string=q(user))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    name = _filename(response)
    assert name.startswith("download_helloworld.1_results_") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert sorted(archive.namelist()) == ["results/out/a.txt", "results/out/b.txt"]
        assert archive.read("results/out/a.txt") == b"a" * 2000
    several = api.get(
        "/api/workflows/helloworld.1/workspace/%2A%2A%2F%2A.txt", query_string=q(user)
    )
    assert several.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(several.data)) as archive:
        assert sorted(archive.namelist()) == [
            "data/names.txt",
            "results/out/a.txt",
            "results/out/b.txt",
        ]


def test_download_refusals(api, user, run, tmp_path):
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", os.path.join(_workspace(run), "leak.txt"))
    os.symlink(tmp_path, os.path.join(_workspace(run), "leakdir"))
    os.mkdir(os.path.join(_workspace(run), "empty"))
    base = "/api/workflows/helloworld.1/workspace/"
    missing = api.get(base + "nothing.txt", query_string=q(user))
    assert missing.status_code == 404
    assert missing.get_json() == {"message": "nothing.txt does not exist."}
    assert api.get(base + "empty", query_string=q(user)).status_code == 404
    absolute = quote(str(tmp_path / "secret.txt"), safe="")
    for path in (
        "leak.txt",
        "leakdir/secret.txt",
        "..%2F..%2Fsecret.txt",
        "data/../../x",
        absolute,
        "%2E%2E/%2E%2E/secret.txt",
    ):
        response = api.get(base + path, query_string=q(user))
        assert response.status_code in (400, 404), path
        assert b"top secret" not in response.data
    leakdir = api.get(base + "leakdir", query_string=q(user))
    assert leakdir.status_code in (400, 404) and b"top secret" not in leakdir.data


def test_download_preview(api, user, run):
    api.post(
        "/api/workflows/helloworld.1/workspace",
        query_string=q(user, file_name="plot.png"),
        data=b"\x89PNG fake",
        content_type=OCTET,
    )
    previewed = api.get(
        "/api/workflows/helloworld.1/workspace/plot.png", query_string=q(user, preview="true")
    )
    assert previewed.mimetype == "image/png"
    assert previewed.headers["Content-Disposition"].startswith("inline")
    text = api.get(
        "/api/workflows/helloworld.1/workspace/data/names.txt",
        query_string=q(user, preview="true"),
    )
    assert text.mimetype == OCTET


def test_delete_files_and_globs(api, user, run, tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("keep me")
    os.symlink(target, os.path.join(_workspace(run), "link.txt"))
    base = "/api/workflows/helloworld.1/workspace/"
    response = api.delete(base + "results%2Fout%2F%2A.txt", query_string=q(user))
    assert response.status_code == 200
    assert response.get_json() == {
        "deleted": {"results/out/a.txt": {"size": 2000}, "results/out/b.txt": {"size": 10}},
        "failed": {},
    }
    link = api.delete(base + "link.txt", query_string=q(user))
    assert "link.txt" in link.get_json()["deleted"]
    assert target.read_text() == "keep me"
    absolute = api.delete(base + quote(str(target), safe=""), query_string=q(user))
    assert absolute.get_json() == {"deleted": {}, "failed": {}} and target.exists()
    nothing = api.delete(base + "nothing*", query_string=q(user))
    assert nothing.status_code == 200 and nothing.get_json() == {"deleted": {}, "failed": {}}
    folder = api.delete(base + "data", query_string=q(user))
    assert set(folder.get_json()["deleted"]) == {"data", "data/names.txt"}
    assert api.delete(base + "..%2F%2A", query_string=q(user)).status_code == 400
    listing = api.get("/api/workflows/helloworld.1/workspace", query_string=q(user)).get_json()
    assert [i["name"] for i in listing["items"]] == ["code/hello.py"]


def test_move_files(api, user, run, tmp_path):
    tmp_path = tmp_path / "outside"
    tmp_path.mkdir()
    url = "/api/workflows/move_files/helloworld.1"
    moved = api.put(url, query_string=q(user, source="data/names.txt", target="names2.txt"))
    assert moved.status_code == 200
    assert moved.get_json() == {
        "message": "File(s) data/names.txt were successfully moved",
        "workflow_id": str(run.id_),
        "workflow_name": "helloworld.1",
    }
    assert os.path.isfile(os.path.join(_workspace(run), "names2.txt"))
    into = api.put(url, query_string=q(user, source="names2.txt", target="code"))
    assert into.status_code == 200
    assert os.path.isfile(os.path.join(_workspace(run), "code", "names2.txt"))
    missing = api.put(url, query_string=q(user, source="nope", target="x"))
    assert missing.status_code == 404
    os.symlink(tmp_path, os.path.join(_workspace(run), "out"))
    for source, target in (("code", "../stolen"), ("code/hello.py", "out/x.py"), ("../", "x")):
        response = api.put(url, query_string=q(user, source=source, target=target))
        assert response.status_code == 400, (source, target)
    assert os.listdir(tmp_path) == []
    assert api.put(url, query_string=q(user, source="code")).status_code == 400


def test_disk_quota_follows_uploads_and_deletes(api, user, run):
    def size():
        body = api.get(
            "/api/workflows", query_string=q(user, include_workspace_size="true")
        ).get_json()
        return body["items"][0]["size"]["raw"]

    assert size() == len(b"Jane\nJohn\n") + len(b"print('hello')\n") + 2000 + 10
    api.delete("/api/workflows/helloworld.1/workspace/results", query_string=q(user))
    assert size() == len(b"Jane\nJohn\n") + len(b"print('hello')\n")


def test_disk_usage_and_prune(api, user, run):
    usage = api.get(
        "/api/workflows/helloworld.1/disk_usage", query_string=q(user, summarize="true")
    ).get_json()
    assert usage["workflow_name"] == "helloworld" and usage["user"] == str(user.id_)
    assert [entry["name"] for entry in usage["disk_usage_info"]] == [""]
    assert usage["disk_usage_info"][0]["size"]["raw"] > 0
    detailed = api.get("/api/workflows/helloworld.1/disk_usage", query_string=q(user)).get_json()
    assert "/data/names.txt" in [entry["name"] for entry in detailed["disk_usage_info"]]
    api.post(
        "/api/workflows/helloworld.1/workspace",
        query_string=q(user, file_name="results/greetings.txt"),
        data=b"hi",
        content_type=OCTET,
    )
    pruned = api.post("/api/workflows/helloworld.1/prune", query_string=q(user))
    assert pruned.status_code == 200
    assert pruned.get_json()["message"] == "The workspace has been correctly pruned."
    remaining = sorted(
        i["name"]
        for i in api.get("/api/workflows/helloworld.1/workspace", query_string=q(user))
        .get_json()["items"]
    )
    # helloworld's declared inputs (code/helloworld.py is not there) and outputs are kept.
    assert remaining == ["data/names.txt", "results/greetings.txt"]
    api.post(
        "/api/workflows/helloworld.1/prune",
        query_string=q(user, include_inputs="true", include_outputs="true"),
    )
    files = api.get("/api/workflows/helloworld.1/workspace", query_string=q(user)).get_json()
    assert files["items"] == []
