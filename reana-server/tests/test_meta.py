"""Meta endpoints and authentication."""

from __future__ import annotations


def test_ping_is_anonymous(client):
    response = client.get("/api/ping")
    assert response.status_code == 200
    assert response.get_json() == {"message": "OK", "status": "200"}


def test_missing_token_is_401(client):
    response = client.get("/api/you")
    assert response.status_code == 401
    assert response.get_json() == {"message": "User not signed in"}


def test_unknown_token_is_403(client, user):
    response = client.get("/api/you", query_string={"access_token": "nope"})
    assert response.status_code == 403
    assert response.get_json() == {"message": "Token not valid."}


def test_revoked_token_is_403(client, user, server_env):
    from reana_db.users import revoke_tokens

    revoke_tokens(server_env, server_env.merge(user))
    server_env.commit()
    response = client.get("/api/you", query_string={"access_token": user.test_token})
    assert response.status_code == 403
    assert response.get_json() == {"message": "User access token revoked."}


def test_you_with_query_token_and_bearer_header(client, user, auth):
    by_query = client.get("/api/you", query_string=auth)
    by_header = client.get("/api/you", headers={"Authorization": f"Bearer {user.test_token}"})
    assert by_query.status_code == by_header.status_code == 200
    body = by_query.get_json()
    assert body == by_header.get_json()
    assert body["email"] == "jane@example.org"
    assert body["reana_token"]["value"] == user.test_token
    assert body["reana_token"]["status"] == "active"
    assert body["reana_token"]["requested_at"].endswith(" GMT")
    assert body["quota"]["disk"]["usage"] == {"raw": 0, "human_readable": "0 Bytes"}
    assert "limit" not in body["quota"]["cpu"]


def test_you_shows_quota_limit_and_health(client, user, auth, server_env):
    from reana_db.quota import set_quota_limit

    set_quota_limit(server_env, server_env.merge(user), "disk", 1024)
    server_env.commit()
    disk = client.get("/api/you", query_string=auth).get_json()["quota"]["disk"]
    assert disk["limit"] == {"raw": 1024, "human_readable": "1 KiB"}
    assert disk["health"] == "healthy"


def test_info_reports_configured_backends(client, auth):
    body = client.get("/api/info", query_string=auth).get_json()
    assert body["compute_backends"]["value"] == ["local"]
    assert body["workspaces_available"]["value"]
    assert body["default_workspace"]["value"] == body["workspaces_available"]["value"][0]
    assert isinstance(body["default_kubernetes_jobs_timeout"]["value"], str)


def test_status_and_config(client, auth):
    status = client.get("/api/status", query_string=auth)
    assert status.status_code == 200
    assert status.get_json()["workflow"]["total"] == 30
    assert client.get("/api/config").status_code == 200


def test_request_token_when_one_is_active(client, auth):
    response = client.put("/api/token", query_string=auth)
    assert response.status_code == 200
    assert response.get_json()["reana_token"]["status"] == "active"


def test_info_lists_the_installed_workflow_engines_with_versions(client, auth):
    from reana_commons.engine_inventory import installed_engines

    listed = client.get("/api/info", query_string=auth).get_json()["supported_workflow_engines"]
    assert listed["title"] == "List of supported workflow engines"
    engines = installed_engines()
    assert "serial" in engines
    assert listed["value"] == [f"{name} ({version})" for name, version in engines.items()]
    assert any(v.startswith("serial (reana-workflow-engine-serial ") for v in listed["value"])


def test_the_spec_and_a_readable_api_page_are_served_without_a_token(client):
    spec = client.get("/api/swagger.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert "/api/workflows" in paths and "post" in paths["/api/workflows"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<script" not in html and "<link" not in html and "cdn" not in html.lower()
    for path, methods in paths.items():
        for method, operation in methods.items():
            assert f"{method.upper()}</span><code>{path}</code>" in html
            assert operation["summary"] in html.replace("&#39;", "'").replace("&#34;", '"')
    assert "/api/swagger.json" in html
