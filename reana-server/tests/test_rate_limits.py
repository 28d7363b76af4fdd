"""Per-user API rate limits and the per-user cap on queued runs (ADR 0027), on SQLite and
PostgreSQL (the limiter's windows are rows of the platform's database)."""

from __future__ import annotations

import json
import time

import pytest


@pytest.fixture
def limited_app(server_env, controller_url, monkeypatch, user):
    """The API with 5 requests per 6 s for everyone, 8 for Jane (her own limit)."""
    from reana_commons.config import reset_config
    from reana_server.app import create_app

    monkeypatch.setenv("REANA_RATELIMIT_ENABLED", "true")
    monkeypatch.setenv("REANA_RATELIMIT_AUTHENTICATED_USER", "5 per 6 second")
    monkeypatch.setenv("REANA_RATELIMIT_GUEST_USER", "3 per 6 second")
    monkeypatch.setenv("REANA_RATELIMIT_USERS", json.dumps({user.email: "8 per 6 second"}))
    reset_config()
    yield create_app({"TESTING": True, "WORKFLOW_CONTROLLER_URL": controller_url})
    reset_config()


def test_a_user_past_the_limit_gets_429_then_recovers(limited_app, user, other_user):
    client = limited_app.test_client()
    other = {"access_token": other_user.test_token}
    codes = [client.get("/api/you", query_string=other).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    refused = client.get("/api/workflows", query_string=other)
    assert refused.status_code == 429
    body = refused.get_json()
    assert set(body) == {"message"} and "Too many requests: at most 5 per 6 second" in \
        body["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 6
    # Jane's own limit, and her count, are hers.
    mine = {"access_token": user.test_token}
    assert [client.get("/api/you", query_string=mine).status_code for _ in range(9)] == \
        [200] * 8 + [429]
    # WES answers in its own error shape.
    wes = client.get("/ga4gh/wes/v1/runs", headers={"Authorization": f"Bearer "
                                                                      f"{user.test_token}"})
    assert wes.status_code == 429 and wes.get_json()["status_code"] == 429
    assert "Too many requests" in wes.get_json()["msg"] and int(wes.headers["Retry-After"]) >= 1
    assert client.get("/api/ping").status_code == 200  # probes are not limited
    time.sleep(int(refused.headers["Retry-After"]))
    assert client.get("/api/you", query_string=other).status_code == 200


def test_guests_are_limited_by_address(limited_app):
    client = limited_app.test_client()
    codes = [client.get("/ga4gh/wes/v1/service-info").status_code for _ in range(4)]
    assert codes == [200] * 3 + [429]
    other_address = client.get("/ga4gh/wes/v1/service-info",
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 200


def test_limits_can_be_switched_off(server_env, controller_url, monkeypatch, user):
    from reana_commons.config import reset_config
    from reana_server.app import create_app

    monkeypatch.setenv("REANA_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("REANA_RATELIMIT_AUTHENTICATED_USER", "1 per 10 second")
    reset_config()
    client = create_app({"TESTING": True, "WORKFLOW_CONTROLLER_URL": controller_url}).test_client()
    mine = {"access_token": user.test_token}
    assert {client.get("/api/you", query_string=mine).status_code for _ in range(5)} == {200}
    reset_config()


def test_queued_runs_per_user_are_capped(client, user, create_workflow, monkeypatch):
    from reana_commons.config import reset_config

    monkeypatch.setenv("REANA_MAX_QUEUED_WORKFLOWS_PER_USER", "2")
    reset_config()
    auth = {"access_token": user.test_token}
    for name in ("q1", "q2"):
        run = create_workflow(name)["workflow_id"]
        started = client.post(f"/api/workflows/{run}/start", query_string=auth, json={})
        assert started.status_code == 200, started.get_json()
    third = create_workflow("q3")["workflow_id"]
    refused = client.post(f"/api/workflows/{third}/start", query_string=auth, json={})
    assert refused.status_code == 403
    assert "You already have 2 workflows queued" in refused.get_json()["message"]
    assert "REANA_MAX_QUEUED_WORKFLOWS_PER_USER=2" in refused.get_json()["message"]
    status = client.get(f"/api/workflows/{third}/status", query_string=auth).get_json()
    assert status["status"] == "created"  # nothing half-done: it can be started later
    reset_config()
