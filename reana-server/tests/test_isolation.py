"""Isolation: no answer without a valid token, and another user's runs are invisible."""

from __future__ import annotations

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
