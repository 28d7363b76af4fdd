"""Trust: what a user (or a job of theirs) puts in a workspace or a request never reaches
another user's data, and no input gets a 500.

The attacker is a second user with their own runs. Their job's doings in the
workspace (hard links, symlinks, FIFOs, odd names) are made here directly on
disk: it is what a job leaves behind, whatever the sandbox it ran in.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile
from urllib.parse import quote

import pytest
from reana_db.models import Workflow
from sqlalchemy import select


@pytest.fixture
def mallory(other_user):
    """The attacker: a second user of the platform."""
    return other_user


@pytest.fixture
def spec(helloworld_spec):
    return helloworld_spec


def _workspace(db, name="helloworld", run=1, owner=None) -> str:
    query = select(Workflow).where(Workflow.name == name, Workflow.run_number_major == run)
    if owner is not None:
        query = query.where(Workflow.owner_id == owner.id_)
    db.expire_all()
    return db.scalars(query).one().workspace_path


def _messages_are_4xx(response, *codes):
    assert response.status_code in codes, (response.status_code, response.get_data()[:300])
    assert isinstance(response.get_json()["message"], str)


# Route 3: workspace.root_path ---------------------------------------------------------


def test_root_path_cannot_reach_into_another_users_workspace(
    spec, client, user, mallory, create_workflow, server_env, tmp_path
):
    create_workflow()  # the victim's run
    victim = _workspace(server_env, owner=user)
    shared = os.path.dirname(victim.split("/users/")[0] + "/users")
    create_workflow(name="mine", token=mallory.test_token)
    mine = _workspace(server_env, name="mine", owner=mallory)
    os.symlink("/", os.path.join(mine, "to_root"))  # what a job of mallory's can do
    os.symlink(victim, os.path.join(mine, "to_victim"))
    attempts = [
        victim,
        os.path.join(victim, "results"),
        os.path.join(shared, "users", str(user.id_)),
        os.path.join(mine, "to_root", "tmp"),
        os.path.join(mine, "to_victim"),
        os.path.join(shared, "..", "elsewhere"),
        str(tmp_path),
    ]
    for root_path in attempts:
        response = client.post(
            "/api/workflows",
            query_string={"workflow_name": "attack", "access_token": mallory.test_token},
            json={**spec, "workspace": {"root_path": root_path}},
        )
        _messages_are_4xx(response, 400)
        assert "Desired workspace" in response.get_json()["message"], root_path
    assert os.listdir(victim) == []
    allowed = client.post(
        "/api/workflows",
        query_string={"workflow_name": "project", "access_token": mallory.test_token},
        json={**spec, "workspace": {"root_path": os.path.join(shared, "projects")}},
    )
    assert allowed.status_code == 201, allowed.get_json()


# Route 4: links made by a job ---------------------------------------------------------


def test_hard_links_made_by_a_job_are_not_served(
    client, user, mallory, create_workflow, upload, server_env, reana_home
):
    create_workflow()
    assert upload("helloworld.1", "private.txt", b"victim's data").status_code == 200
    victim_file = os.path.join(_workspace(server_env, owner=user), "private.txt")
    create_workflow(name="mine", token=mallory.test_token)
    create_workflow(name="mine", token=mallory.test_token)
    mine = _workspace(server_env, name="mine", owner=mallory)
    secret_key = reana_home / "secret-key"
    secret_key.write_text("platform secret key\n")
    os.makedirs(os.path.join(mine, "out"))
    os.link(victim_file, os.path.join(mine, "out", "stolen.txt"))
    os.link(secret_key, os.path.join(mine, "out", "key"))
    with open(os.path.join(mine, "out", "own.txt"), "w") as own:
        own.write("mine\n")
    token = {"access_token": mallory.test_token}
    base = "/api/workflows/mine.1/workspace"
    for name in ("out/stolen.txt", "out/key"):
        for preview in (False, True):
            response = client.get(f"{base}/{name}", query_string={**token, "preview": preview})
            _messages_are_4xx(response, 400)
            assert "other hard links" in response.get_json()["message"]
    listing = client.get(base, query_string=token).get_json()
    assert [item["name"] for item in listing["items"]] == ["out/own.txt"]
    archive = client.get(f"{base}/out", query_string=token)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(archive.data)).namelist() == ["out/own.txt"]
    glob = client.get(f"{base}/out/*", query_string=token)
    assert glob.status_code == 200 and glob.data == b"mine\n"
    diff = client.get("/api/workflows/mine.1/diff/mine.2", query_string=token).get_json()
    listing_text = json.loads(diff["workspace_listing"])
    assert "victim's data" not in listing_text and "platform secret" not in listing_text
    assert "Only in mine.1: out" in listing_text


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["résumé.txt", "日本語/データ.txt", "tab\tand\x01ctl.txt", "line\nbreak.txt"]
)
def test_odd_file_names_are_uploaded_listed_and_downloaded(client, auth, workflow, upload, name):
    assert upload("helloworld.1", name, b"content").status_code == 200
    listed = client.get("/api/workflows/helloworld.1/workspace", query_string=auth).get_json()
    assert name in [item["name"] for item in listed["items"]]
    path = quote(name, safe="/")  # as clients send it
    response = client.get(f"/api/workflows/helloworld.1/workspace/{path}", query_string=auth)
    assert response.status_code == 200 and response.data == b"content"
    import email.message

    header = email.message.Message()
    header["Content-Disposition"] = response.headers["Content-Disposition"]
    assert header.get_filename() == name  # as reana-client 0.9.6 reads it


def test_long_file_names(client, auth, workflow, upload):
    longest = "x" * 255
    assert upload("helloworld.1", longest, b"ok").status_code == 200
    response = client.get(f"/api/workflows/helloworld.1/workspace/{longest}", query_string=auth)
    assert response.status_code == 200 and response.data == b"ok"
    too_long = "y" * 256
    _messages_are_4xx(upload("helloworld.1", too_long, b"no"), 400)
    response = client.get(f"/api/workflows/helloworld.1/workspace/{too_long}", query_string=auth)
    _messages_are_4xx(response, 400)
    assert "longer than 255 bytes" in response.get_json()["message"]


@pytest.mark.parametrize("field", ["page", "size"])
def test_huge_page_numbers(client, auth, workflow, field):
    for path, extra in (
        ("/api/workflows", {"type": "batch"}),
        ("/api/workflows/helloworld.1/workspace", {}),
        ("/api/workflows/helloworld.1/logs", {}),
    ):
        response = client.get(path, query_string={**auth, **extra, field: 2**63})
        _messages_are_4xx(response, 400)
        assert response.get_json()["message"] == f"Field '{field}': Must be at most 2147483647."
        largest = client.get(path, query_string={**auth, **extra, field: 2**31 - 1})
        assert largest.status_code == 200


def test_malformed_bodies(client, auth, workflow, spec):
    def post(path, data, method="POST", **query):
        return client.open(
            path,
            method=method,
            query_string={**auth, **query},
            data=data,
            content_type="application/json",
        )

    _messages_are_4xx(post("/api/secrets/", "null"), 400)
    _messages_are_4xx(post("/api/secrets/", "null", method="DELETE"), 400)
    bad = {**spec, "workspace": [1]}
    _messages_are_4xx(post("/api/workflows", json.dumps(bad), workflow_name="w"), 400)
    bad = {**spec, "inputs": {"files": 5}}
    _messages_are_4xx(post("/api/workflows", json.dumps(bad), workflow_name="w"), 400)
    for depth in (100, 1000, 100_000):
        nested = "[" * depth + "]" * depth
        body = '{"workflow": {"type": "serial"}, "x": ' + nested + "}"
        response = post("/api/workflows", body, workflow_name="w")
        _messages_are_4xx(response, 400)
        assert "nested deeper than" in response.get_json()["message"]
        search = client.get(
            "/api/workflows/helloworld.1/workspace",
            query_string={**auth, "search": '{"name": ' + nested + "}"},
        )
        _messages_are_4xx(search, 400)


def test_globs_are_fast_and_bounded(client, auth, workflow, upload, server_env):
    workspace = _workspace(server_env)
    directory = workspace
    for level in range(15):
        directory = os.path.join(directory, f"d{level}")
        os.makedirs(directory)
        for i in range(5):
            with open(os.path.join(directory, f"f{i}.txt"), "w") as out:
                out.write("x")
    base = "/api/workflows/helloworld.1/workspace"
    start = time.perf_counter()
    for pattern in ("/".join(["**"] * 8) + "/f1.txt", "/".join(["**", "d*"] * 12) + "/none"):
        response = client.get(base, query_string={**auth, "file_name": pattern})
        assert response.status_code == 200
    assert time.perf_counter() - start < 5
    assert client.get(base, query_string={**auth, "file_name": "**/f1.txt"}).get_json()[
        "total"
    ] == 15
    too_complex = "/".join(["*"] * 65)
    for response in (
        client.get(base, query_string={**auth, "file_name": too_complex}),
        client.get(f"{base}/{too_complex}", query_string=auth),
        client.delete(f"{base}/{too_complex}", query_string=auth),
    ):
        _messages_are_4xx(response, 400, 403)
        assert "too complex" in response.get_json()["message"]


# Limits -----------------------------------------------------------------------------


@pytest.fixture
def limits(monkeypatch, server_env):
    """``limits(REANA_MAX_...=n, ...)``: the platform's limits for the rest of the test."""
    from reana_commons.config import reset_config

    def set_limits(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_config()

    yield set_limits
    reset_config()


def test_request_body_limit(client, auth, workflow, upload, limits, spec):
    limits(REANA_MAX_REQUEST_BODY_BYTES=2000)
    big = {**spec, "padding": "x" * 3000}
    response = client.post(
        "/api/workflows", query_string={**auth, "workflow_name": "big"}, json=big
    )
    _messages_are_4xx(response, 400)
    assert "REANA_MAX_REQUEST_BODY_BYTES" in response.get_json()["message"]
    chunked = client.post(
        "/api/workflows",
        query_string={**auth, "workflow_name": "big"},
        input_stream=io.BytesIO(json.dumps(big).encode()),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
    )
    _messages_are_4xx(chunked, 400)
    # Files are not request bodies: they stream to the workspace, bounded by the quota.
    assert upload("helloworld.1", "large.bin", b"y" * 10_000).status_code == 200


def test_secrets_per_user_limit(client, auth, limits):
    limits(REANA_MAX_SECRETS_PER_USER=3)

    def add(names, overwrite=False):
        body = {name: {"value": "c2VjcmV0", "type": "env"} for name in names}
        return client.post(
            "/api/secrets/", query_string={**auth, "overwrite": overwrite}, json=body
        )

    assert add(["A", "B"]).status_code == 201
    refused = add(["C", "D"])
    _messages_are_4xx(refused, 403)
    assert "at most 3 secrets (REANA_MAX_SECRETS_PER_USER)" in refused.get_json()["message"]
    assert add(["A", "C"], overwrite=True).status_code == 201
    assert [s["name"] for s in client.get("/api/secrets", query_string=auth).get_json()] == [
        "A",
        "B",
        "C",
    ]


def test_logs_limits(app, client, auth, user, other_user, workflow, limits, server_env):
    from reana_db.models import Job

    limits(REANA_MAX_LOG_STEPS_FILTER=2, REANA_MAX_LOG_BYTES_PER_JOB=100)
    run = server_env.get(Workflow, uuid.UUID(workflow["workflow_id"]))
    whole = "".join(f"line {i} ünïcode\n" for i in range(200))
    job = Job(workflow_uuid=run.id_, job_name="step1", logs=whole)
    server_env.add(job)
    server_env.commit()
    logs_path = "/api/workflows/helloworld.1/logs"
    refused = client.get(logs_path, query_string=auth, json=["a", "b", "c"])
    _messages_are_4xx(refused, 400)
    assert "REANA_MAX_LOG_STEPS_FILTER" in refused.get_json()["message"]
    assert client.get(logs_path, query_string=auth, json=["a", "step1"]).status_code == 200
    for path in (logs_path, "/api/workflows/helloworld.1/status"):
        shown = json.loads(client.get(path, query_string=auth).get_json()["logs"])
        job_logs = shown["job_logs"] if "job_logs" in shown else shown
        text = job_logs[str(job.id_)]["logs"]
        note, _, tail = text.partition("\n")
        assert "REANA_MAX_LOG_BYTES_PER_JOB" in note and f"/logs/{job.id_}" in note
        assert len(tail.encode()) <= 100 and whole.endswith(tail)
    # The whole log stays downloadable (a route REANA 0.9 does not have: no spec check).
    plain = app.test_client()
    downloaded = plain.get(f"{logs_path}/{job.id_}", query_string=auth)
    assert downloaded.status_code == 200 and downloaded.mimetype == "text/plain"
    assert downloaded.get_data(as_text=True) == whole
    assert 'filename="step1.log"' in downloaded.headers["Content-Disposition"]
    for token, job_id in ((other_user.test_token, job.id_), (auth["access_token"], "nope")):
        missing = plain.get(f"{logs_path}/{job_id}", query_string={"access_token": token})
        assert missing.status_code in (403, 404), missing.get_data()
