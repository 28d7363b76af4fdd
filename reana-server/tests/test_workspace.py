"""Workspace files: upload, list, download, delete, move, and refused escapes."""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import pytest


def test_upload_list_download(client, auth, workflow, upload):
    response = upload("helloworld.1", "/data/names.txt", b"Jane Doe\nJoe Bloggs\n")
    assert response.status_code == 200
    assert response.get_json() == {"message": "/data/names.txt has been successfully uploaded."}
    upload("helloworld.1", "/code/helloworld.py", b"print('hi')\n")

    listing = client.get("/api/workflows/helloworld.1/workspace", query_string={**auth, "page": 1})
    names = sorted(i["name"] for i in listing.get_json()["items"])
    assert names == ["code/helloworld.py", "data/names.txt"]
    filtered = client.get(
        "/api/workflows/helloworld.1/workspace",
        query_string={**auth, "file_name": "data/*", "search": '{"name": ["names"]}'},
    )
    assert [i["name"] for i in filtered.get_json()["items"]] == ["data/names.txt"]
    paged = client.get(
        "/api/workflows/helloworld.1/workspace", query_string={**auth, "page": 2, "size": 1}
    )
    assert len(paged.get_json()["items"]) == 1

    single = client.get(
        "/api/workflows/helloworld.1/workspace/data/names.txt",
        query_string={**auth, "file_name": "data/names.txt"},
    )
    assert single.status_code == 200
    assert single.data == b"Jane Doe\nJoe Bloggs\n"
    assert single.headers["Content-Type"].startswith("application/octet-stream")
    assert "names.txt" in single.headers["Content-Disposition"]

    folder = client.get("/api/workflows/helloworld.1/workspace/data", query_string=auth)
    assert folder.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(folder.data)).namelist() == ["data/names.txt"]

    missing = client.get("/api/workflows/helloworld.1/workspace/nope.txt", query_string=auth)
    assert missing.status_code == 404


def test_upload_needs_octet_stream_and_file_name(client, auth, workflow):
    wrong = client.post(
        "/api/workflows/helloworld.1/workspace",
        query_string={**auth, "file_name": "a.txt"},
        json={"a": 1},
    )
    assert wrong.status_code == 400
    no_name = client.post(
        "/api/workflows/helloworld.1/workspace",
        query_string=auth,
        data=b"x",
        content_type="application/octet-stream",
    )
    assert no_name.status_code == 400


def test_delete_glob_percent_encoded_and_move(client, auth, workflow, upload):
    for name in ("data/a.txt", "data/b.txt", "data/c.csv"):
        upload("helloworld.1", name, b"12345")
    deleted = client.delete(
        "/api/workflows/helloworld.1/workspace/data%2F%2A.txt", query_string=auth
    )
    assert deleted.status_code == 200
    assert deleted.get_json() == {
        "deleted": {"data/a.txt": {"size": 5}, "data/b.txt": {"size": 5}},
        "failed": {},
    }
    moved = client.put(
        "/api/workflows/move_files/helloworld.1",
        query_string={**auth, "source": "data/c.csv", "target": "results/c.csv"},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["workflow_name"] == "helloworld.1"
    names = [
        i["name"]
        for i in client.get("/api/workflows/helloworld.1/workspace", query_string=auth).get_json()[
            "items"
        ]
    ]
    assert names == ["results/c.csv"]


ESCAPES = ["../x.txt", "a/../../x.txt", "..%2Fx.txt", "%2e%2e%2fx.txt", "data/..%2F..%2Fx"]


@pytest.mark.parametrize("name", ESCAPES)
def test_upload_escapes_are_refused(client, auth, workflow, upload, reana_home, name):
    from urllib.parse import unquote

    response = upload("helloworld.1", unquote(name), b"evil")
    assert response.status_code == 400
    assert not (reana_home / "x.txt").exists()
    assert not list(reana_home.rglob("x.txt"))


UP = "..%2F" * 5  # from <home>/shared/users/<user>/workflows/<run> back to <home>


@pytest.mark.parametrize(
    "name",
    [UP + "sentinel.txt", "%2e%2e/" * 5 + "sentinel.txt", "a/" + UP + "../sentinel.txt"],
)
def test_download_delete_escapes_are_refused(client, auth, workflow, name, reana_home):
    (reana_home / "sentinel.txt").write_text("s3ntinel-content")
    download = client.get(f"/api/workflows/helloworld.1/workspace/{name}", query_string=auth)
    assert download.status_code in (400, 404)
    assert b"s3ntinel-content" not in download.data
    deleted = client.delete(f"/api/workflows/helloworld.1/workspace/{name}", query_string=auth)
    assert deleted.status_code in (403, 404)
    assert (reana_home / "sentinel.txt").read_text() == "s3ntinel-content"


@pytest.mark.parametrize("name", ["%2Fetc%2Fpasswd", "/etc/passwd", "%2F" + "..%2F" * 8 + "etc"])
def test_absolute_paths_are_refused(client, auth, workflow, name):
    download = client.get(f"/api/workflows/helloworld.1/workspace/{name}", query_string=auth)
    assert download.status_code in (400, 404), download.data  # 404: no route for "//"
    assert b"root:" not in download.data
    deleted = client.delete(f"/api/workflows/helloworld.1/workspace/{name}", query_string=auth)
    assert deleted.status_code in (403, 404)
    listed = client.get(
        "/api/workflows/helloworld.1/workspace", query_string={**auth, "file_name": "/../../etc/*"}
    )
    assert listed.status_code == 400


def test_absolute_and_escaping_moves_are_refused(client, auth, workflow, upload):
    upload("helloworld.1", "a.txt", b"a")
    for source, target in [("a.txt", "../../a.txt"), ("../../reana.db", "b.txt")]:
        response = client.put(
            "/api/workflows/move_files/helloworld.1",
            query_string={**auth, "source": source, "target": target},
        )
        assert response.status_code in (400, 409)


def test_symlink_leaving_the_workspace_is_not_followed(
    client, auth, workflow, upload, server_env, reana_home
):
    from reana_db.models import Workflow
    from reana_db.quota import workspace_path_of

    secret = reana_home / "outside.txt"
    secret.write_text("secret")
    run = server_env.get(Workflow, uuid.UUID(workflow["workflow_id"]))
    workspace = workspace_path_of(run)
    os.symlink(secret, workspace / "link.txt")
    os.symlink(reana_home, workspace / "dirlink")
    download = client.get("/api/workflows/helloworld.1/workspace/link.txt", query_string=auth)
    assert b"secret" not in download.data
    via_dir = client.get(
        "/api/workflows/helloworld.1/workspace/dirlink/outside.txt", query_string=auth
    )
    assert b"secret" not in via_dir.data
    written = upload("helloworld.1", "dirlink/new.txt", b"evil")
    assert written.status_code in (400, 403, 404)
    assert not (reana_home / "new.txt").exists()
    client.delete("/api/workflows/helloworld.1/workspace/dirlink/outside.txt", query_string=auth)
    assert secret.read_text() == "secret"


class _Zeros:
    """``size`` zero bytes, read in chunks (never built in memory)."""

    def __init__(self, size: int):
        self.left = size
        self.size = size

    def __len__(self):
        return self.size

    def read(self, n=-1):
        n = min(self.left, 1024 * 1024 if n is None or n < 0 else n)
        self.left -= n
        return b"\0" * n


@pytest.mark.slow
def test_one_gib_upload_is_streamed(live_server, user, workflow, database_uri):
    """A 1 GiB body goes through server and controller without being held in memory."""
    import resource

    import requests

    if not database_uri.startswith("sqlite"):
        pytest.skip("the streaming path does not depend on the database")
    size = 1024**3
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = requests.post(
        f"{live_server}/api/workflows/helloworld.1/workspace",
        params={"file_name": "big.bin", "access_token": user.test_token},
        data=_Zeros(size),
        headers={"Content-Type": "application/octet-stream"},
        timeout=600,
    )
    assert response.status_code == 200, response.text
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 256 * 1024, f"memory grew by {grown_kib} KiB"
    listing = requests.get(
        f"{live_server}/api/workflows/helloworld.1/workspace",
        params={"access_token": user.test_token},
        timeout=60,
    ).json()
    assert listing["items"][0]["size"]["raw"] == size
    with requests.get(
        f"{live_server}/api/workflows/helloworld.1/workspace/big.bin",
        params={"access_token": user.test_token},
        stream=True,
        timeout=600,
    ) as download:
        received = sum(len(chunk) for chunk in download.iter_content(1024 * 1024))
    assert received == size
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 256 * 1024, f"memory grew by {grown_kib} KiB"
