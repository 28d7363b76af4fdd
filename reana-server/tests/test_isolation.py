"""Isolation: no answer without a valid token, and another user's runs are invisible."""

from __future__ import annotations

import itertools
import json
import re

import pytest

ANONYMOUS = {("/api/ping", "GET"), ("/api/config", "GET"), ("/metrics", "GET"),
             ("/ga4gh/wes/v1/service-info", "GET"), ("/api/swagger.json", "GET"),
             ("/api/docs", "GET"),
             # the web UI: its pages (the browser asks /api), assets and sign-in
             ("/", "GET"), ("/signin", "GET"), ("/signup", "GET"), ("/profile", "GET"),
             ("/status", "GET"), ("/launch", "GET"), ("/details/<path:workflow_id>", "GET"),
             ("/ui/static/<path:filename>", "GET"), ("/api/login", "POST"),
             ("/api/register", "POST"), ("/api/logout", "POST")}


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<any\((\w+)[^)]*\):\w+>", lambda m: m.group(1), rule.rule)
            path = re.sub(r"<(?:[a-z]+:)?(\w+)>", lambda m: f"x{m.group(1)}", path)
            yield rule.rule, path, method


def test_every_endpoint_needs_a_valid_token(app, client, user):
    checked = 0
    for rule, path, method in _rules(app):
        if (rule, method) in ANONYMOUS:
            continue
        anonymous = client.open(path, method=method, json={})
        assert anonymous.status_code == 401, (method, rule, anonymous.get_json())
        if rule.startswith("/ga4gh/wes/"):  # WES's error shape; also HTTP Basic
            assert anonymous.get_json() == {"msg": "User not signed in", "status_code": 401}
            basic = client.open(path, method=method, headers={"Authorization": "Basic eDp4"})
            assert basic.status_code == 403, (method, rule)
        else:
            assert anonymous.get_json() == {"message": "User not signed in"}
        forged = client.open(path, method=method, query_string={"access_token": "x"}, json={})
        assert forged.status_code == 403, (method, rule)
        bearer = client.open(path, method=method, headers={"Authorization": "Bearer x"}, json={})
        assert bearer.status_code == 403, (method, rule)
        checked += 1
    assert checked >= 25


WORKFLOW_CALLS = [
    ("GET", "/api/workflows/{w}/status", None),
    ("POST", "/api/workflows/{w}/start", {}),
    ("PUT", "/api/workflows/{w}/status?status=start", {}),
    ("PUT", "/api/workflows/{w}/status?status=stop", {"force_stop": True}),
    ("PUT", "/api/workflows/{w}/status?status=deleted", {"all_runs": True, "workspace": True}),
    ("GET", "/api/workflows/{w}/logs", None),
    ("GET", "/api/workflows/{w}/specification", None),
    ("GET", "/api/workflows/{w}/parameters", None),
    ("GET", "/api/workflows/{w}/diff/{w}", None),
    ("GET", "/api/workflows/{w}/retention_rules", None),
    ("GET", "/api/workflows/{w}/disk_usage", {"summarize": False}),
    ("POST", "/api/workflows/{w}/prune", None),
    ("POST", "/api/workflows/{w}/open/jupyter", {}),
    ("POST", "/api/workflows/{w}/close/", None),
    ("GET", "/api/workflows/{w}/workspace", None),
    ("GET", "/api/workflows/{w}/workspace/data/names.txt", None),
    ("DELETE", "/api/workflows/{w}/workspace/data/names.txt", None),
    ("PUT", "/api/workflows/move_files/{w}?source=data/names.txt&target=x.txt", None),
]


def test_workflow_endpoints_cover_the_spec(reana_spec_validator):
    covered = {(m, re.sub(r"\?.*", "", p)) for m, p, _ in WORKFLOW_CALLS}
    for template, operations in reana_spec_validator.raw["paths"].items():
        if "{workflow_id_or_name" not in template:
            continue
        for method in operations:
            if method == "post" and template.endswith("/workspace"):
                continue  # uploads are checked below
            path = (
                template.replace("{workflow_id_or_name_a}", "{w}")
                .replace("{workflow_id_or_name_b}", "{w}")
                .replace("{workflow_id_or_name}", "{w}")
                .replace("{interactive_session_type}", "jupyter")
                .replace("{file_name}", "data/names.txt")
            )
            assert (method.upper(), path) in covered, (method, template)


def _call(client, token, method, path, body):
    base, _, query = path.partition("?")
    kwargs = {"query_string": f"{query}&access_token={token}" if query else f"access_token={token}"}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        kwargs["content_type"] = "application/json"
    return client.open(base, method=method, **kwargs)


@pytest.mark.parametrize("method, path, body", WORKFLOW_CALLS)
def test_another_user_learns_nothing(
    client, user, other_user, workflow, upload, method, path, body
):
    upload("helloworld.1", "data/names.txt", b"Jane Doe\n")
    victim = workflow["workflow_id"]
    for reference, ghost in [("helloworld.1", "ghostflow.1"), (victim, victim[:-4] + "0000")]:
        attempt = _call(client, other_user.test_token, method, path.format(w=reference), body)
        unknown = _call(client, other_user.test_token, method, path.format(w=ghost), body)
        assert attempt.status_code in (403, 404), (method, path, attempt.get_json())
        assert attempt.status_code == unknown.status_code
        assert attempt.data.replace(reference.encode(), b"W") == unknown.data.replace(
            ghost.encode(), b"W"
        )
        assert b"Jane" not in attempt.data
    owner = _call(client, user.test_token, "GET", "/api/workflows/helloworld.1/status", None)
    assert owner.get_json()["status"] == "created"
    files = _call(client, user.test_token, "GET", "/api/workflows/helloworld.1/workspace", None)
    assert [f["name"] for f in files.get_json()["items"]] == ["data/names.txt"]


def test_another_user_cannot_upload(client, other_user, workflow, upload):
    response = upload("helloworld.1", "evil.txt", b"evil", token=other_user.test_token)
    assert response.status_code in (403, 404)


def test_lists_show_only_own_workflows(client, other_user, workflow):
    listing = client.get(
        "/api/workflows", query_string={"access_token": other_user.test_token, "type": "batch"}
    )
    assert listing.get_json()["items"] == []


# Sharing (REANA 0.95's API) -------------------------------------------------------------

SHARE_CALLS = [
    ("POST", "/api/workflows/{w}/share", {"user_email_to_share_with": "jane@example.org"}),
    ("POST", "/api/workflows/{w}/unshare?user_email_to_unshare_with=jane@example.org", None),
    ("GET", "/api/workflows/{w}/share-status", None),
]
READS = [
    ("GET", "/api/workflows/{w}/status", None),
    ("GET", "/api/workflows/{w}/logs", None),
    ("GET", "/api/workflows/{w}/specification", None),
    ("GET", "/api/workflows/{w}/parameters", None),
    ("GET", "/api/workflows/{w}/diff/{w}", None),
    ("GET", "/api/workflows/{w}/retention_rules", None),
    ("GET", "/api/workflows/{w}/disk_usage", {"summarize": False}),
    ("GET", "/api/workflows/{w}/workspace", None),
    ("GET", "/api/workflows/{w}/workspace/data/names.txt", None),
]
WRITES = [call for call in WORKFLOW_CALLS + SHARE_CALLS if call[0] != "GET"] + [
    ("GET", "/api/workflows/{w}/share-status", None)]


@pytest.fixture
def reader(server_env):
    """A user a run is shared with (the owner is ``user``, the third user ``other_user``)."""
    from reana_testing.pytest_plugin import make_user

    return make_user(server_env, "reader@example.org")


@pytest.fixture
def shared_run(client, user, reader, workflow, upload):
    """``helloworld.1`` of ``user``, with a file, shared with ``reader``."""
    upload("helloworld.1", "data/names.txt", b"Jane Doe\n")
    answer = _share(client, user.test_token, "helloworld.1", reader.email)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["workflow_name"] == "helloworld.1"
    return workflow["workflow_id"]


def _share(client, token, workflow, email, **extra):
    return client.post(f"/api/workflows/{workflow}/share", query_string={"access_token": token},
                       json={"user_email_to_share_with": email, **extra})


def _can_read(client, token, reference) -> bool:
    return _call(client, token, "GET", f"/api/workflows/{reference}/status", None).status_code \
        == 200


def test_shared_with_user_reads(client, reader, shared_run):
    # one test over every call: a platform per call would cost a second each
    for (method, path, body), reference in itertools.product(
            READS, ("helloworld.1", "helloworld", shared_run)):
        answer = _call(client, reader.test_token, method, path.format(w=reference), body)
        assert answer.status_code == 200, (method, path, answer.get_data()[:300])
    download = _call(client, reader.test_token, "GET",
                     f"/api/workflows/{shared_run}/workspace/data/names.txt", None)
    assert download.data == b"Jane Doe\n"


def test_shared_with_user_cannot_write(client, user, reader, shared_run):
    for (method, path, body), reference in itertools.product(
            WRITES, ("helloworld.1", shared_run)):
        answer = _call(client, reader.test_token, method, path.format(w=reference), body)
        assert answer.status_code == 403, (method, path, answer.get_json())
        assert answer.get_json()["message"] == (
            "helloworld.1 is shared with you read-only: only its owner can change it.")
    refused = upload_as(client, reader.test_token, shared_run, "evil.txt")
    assert refused.status_code == 403
    status = _call(client, user.test_token, "GET", f"/api/workflows/{shared_run}/status", None)
    assert status.get_json()["status"] == "created"
    files = _call(client, user.test_token, "GET", f"/api/workflows/{shared_run}/workspace", None)
    assert [f["name"] for f in files.get_json()["items"]] == ["data/names.txt"]
    shares = _call(client, user.test_token, "GET", f"/api/workflows/{shared_run}/share-status",
                   None).get_json()["shared_with"]
    assert [s["user_email"] for s in shares] == ["reader@example.org"]


def upload_as(client, token, workflow, name):
    return client.post(f"/api/workflows/{workflow}/workspace",
                       query_string={"file_name": name, "access_token": token},
                       data=b"x", content_type="application/octet-stream")


def test_third_user_sees_nothing_of_a_shared_run(client, other_user, shared_run):
    for (method, path, body), (reference, ghost) in itertools.product(
            READS + WRITES, [("helloworld.1", "ghostflow.1"),
                             (shared_run, shared_run[:-4] + "0000")]):
        attempt = _call(client, other_user.test_token, method, path.format(w=reference), body)
        unknown = _call(client, other_user.test_token, method, path.format(w=ghost), body)
        assert attempt.status_code in (403, 404), (method, path, attempt.get_json())
        assert attempt.status_code == unknown.status_code
        assert attempt.data.replace(reference.encode(), b"W") == unknown.data.replace(
            ghost.encode(), b"W")
        assert b"Jane" not in attempt.data and b"reader@" not in attempt.data
    listing = client.get("/api/workflows", query_string={
        "access_token": other_user.test_token, "type": "batch", "shared": "true"})
    assert listing.get_json()["items"] == []


def test_unshare_ends_access(client, user, reader, shared_run):
    assert _can_read(client, reader.test_token, shared_run)
    gone = _call(client, user.test_token, "POST",
                 f"/api/workflows/{shared_run}/unshare?user_email_to_unshare_with="
                 f"{reader.email}", None)
    assert gone.status_code == 200, gone.get_json()
    for reference in ("helloworld.1", shared_run):
        assert _call(client, reader.test_token, "GET",
                     f"/api/workflows/{reference}/status", None).status_code in (403, 404)
        assert _call(client, reader.test_token, "GET",
                     f"/api/workflows/{reference}/workspace/data/names.txt",
                     None).status_code in (403, 404)
    again = _call(client, user.test_token, "POST",
                  f"/api/workflows/{shared_run}/unshare?user_email_to_unshare_with="
                  f"{reader.email}", None)
    assert again.status_code == 409
    assert again.get_json()["message"] == "helloworld.1 is not shared with reader@example.org."


def test_expiry_ends_access(client, user, reader, workflow):
    import datetime
    import time

    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
    answer = _share(client, user.test_token, "helloworld.1", reader.email,
                    valid_until=until.isoformat())
    assert answer.status_code == 200, answer.get_json()
    status = client.get("/api/workflows/helloworld.1/share-status",
                        query_string={"access_token": user.test_token}).get_json()
    assert status["shared_with"][0]["valid_until"] == until.strftime("%Y-%m-%dT%H:%M:%S")
    assert _can_read(client, reader.test_token, workflow["workflow_id"])
    deadline = time.monotonic() + 60
    while _can_read(client, reader.test_token, workflow["workflow_id"]):
        assert time.monotonic() < deadline, "the share did not expire"
        time.sleep(0.2)
    assert datetime.datetime.now(datetime.UTC) >= until
    listing = client.get("/api/workflows", query_string={
        "access_token": reader.test_token, "type": "batch", "shared_by": "anybody"})
    assert listing.get_json()["items"] == []
    status = client.get("/api/workflows/helloworld.1/share-status",
                        query_string={"access_token": user.test_token}).get_json()
    assert status["shared_with"] == []
    # an expired share is replaced by a new one
    assert _share(client, user.test_token, "helloworld.1", reader.email).status_code == 200
    assert _can_read(client, reader.test_token, "helloworld.1")


@pytest.mark.parametrize("body, status, message", [
    ({"user_email_to_share_with": "jane@example.org"}, 400,
     "Unable to share a workflow with yourself."),
    ({"user_email_to_share_with": "nobody@example.org"}, 404,
     "User with email 'nobody@example.org' does not exist."),
    ({"user_email_to_share_with": "reader@example.org", "valid_until": "2001-01-01"}, 400,
     "The 'valid_until' date cannot be in the past."),
    ({"user_email_to_share_with": "reader@example.org", "valid_until": "tomorrow"}, 400,
     "Date format is not valid. Please use YYYY-MM-DD format."),
    ({"user_email_to_share_with": "reader@example.org", "message": "x" * 5001}, 400,
     "Message is too long. Please keep it under 5000 characters."),
    ({}, 400, "Field 'user_email_to_share_with': Missing data for required field."),
])
def test_share_refusals(client, user, reader, workflow, body, status, message):
    answer = client.post("/api/workflows/helloworld.1/share",
                         query_string={"access_token": user.test_token}, json=body)
    assert (answer.status_code, answer.get_json()) == (status, {"message": message})


def test_share_twice_conflicts(client, user, reader, shared_run):
    again = _share(client, user.test_token, shared_run, reader.email)
    assert again.status_code == 409
    assert again.get_json()["message"] == "helloworld.1 is already shared with reader@example.org."


def test_listing_filters(client, user, reader, other_user, shared_run, create_workflow):
    create_workflow("unshared")
    create_workflow("readers", token=reader.test_token)

    def names(token, **filters):
        answer = client.get("/api/workflows", query_string={
            "access_token": token, "type": "batch", **filters})
        assert answer.status_code == 200, answer.get_json()
        return {item["name"]: (item["owner_email"], item["shared_with"])
                for item in answer.get_json()["items"]}

    assert names(reader.test_token) == {"readers.1": ("reader@example.org", [])}
    assert names(reader.test_token, shared="true") == {
        "readers.1": ("reader@example.org", []),
        "helloworld.1": ("jane@example.org", [])}
    assert names(reader.test_token, shared_by="anybody") == {
        "helloworld.1": ("jane@example.org", [])}
    assert names(reader.test_token, shared_by="jane@example.org") == {
        "helloworld.1": ("jane@example.org", [])}
    assert names(reader.test_token, shared_by="mallory@example.org") == {}
    assert names(user.test_token, shared_with="anybody") == {
        "helloworld.1": ("jane@example.org", ["reader@example.org"])}
    assert names(user.test_token, shared_with="reader@example.org") == {
        "helloworld.1": ("jane@example.org", ["reader@example.org"])}
    assert names(user.test_token, shared_with="mallory@example.org") == {}
    assert names(user.test_token, shared_with="nobody") == {
        "unshared.1": ("jane@example.org", [])}
    both = client.get("/api/workflows", query_string={
        "access_token": user.test_token, "type": "batch", "shared_by": "anybody",
        "shared_with": "anybody"})
    assert both.status_code == 400
    users = client.get("/api/users/shared-with-you",
                       query_string={"access_token": reader.test_token}).get_json()
    assert users == {"users": [{"email": "jane@example.org"}]}
    users = client.get("/api/users/you-shared-with",
                       query_string={"access_token": user.test_token}).get_json()
    assert users == {"users": [{"email": "reader@example.org"}]}
    assert client.get("/api/users/shared-with-you", query_string={
        "access_token": other_user.test_token}).get_json() == {"users": []}
