"""A workflow type without an installed engine is refused at create, naming the installed ones."""

from __future__ import annotations

import pytest

YADAGE_SPEC = {
    "version": "0.9.0",
    "workflow": {"type": "yadage", "file": "workflow.yaml", "specification": None},
}


@pytest.fixture
def no_engines_venv(tmp_path, monkeypatch):
    """The yadage engine's venv is gone (an empty one), as on a deployment without it."""
    from reana_commons import engine_inventory
    from reana_server import engines

    monkeypatch.setenv("REANA_WORKFLOW_ENGINES_BIN_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    engine_inventory.forget()
    engines._cache.clear()
    yield
    engine_inventory.forget()
    engines._cache.clear()


def test_a_type_without_engine_is_refused_with_the_installed_list(client, auth, no_engines_venv):
    from reana_commons.engine_inventory import installed_engines

    installed = installed_engines()
    assert "yadage" not in installed and "serial" in installed
    response = client.post("/api/workflows", query_string={**auth, "workflow_name": "y"},
                           json=YADAGE_SPEC)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("No yadage workflow engine is installed in this deployment.")
    for name, version in installed.items():
        assert f"{name} ({version})" in message
    listed = client.get("/api/workflows", query_string={**auth, "type": "batch"}).get_json()
    assert listed["items"] == [], listed  # nothing half-created
    info = client.get("/api/info", query_string=auth).get_json()["supported_workflow_engines"]
    assert not any(v.startswith("yadage") for v in info["value"])


def test_an_installed_type_is_created(client, auth, create_workflow, helloworld_spec):
    assert create_workflow("hello", helloworld_spec)["workflow_name"] == "hello.1"
