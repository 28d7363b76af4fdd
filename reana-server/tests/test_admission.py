"""Admitting runs cheaply: create and start in the server, lean service processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from reana_db.enums import RunStatus
from reana_db.models import Workflow, WorkspaceRetentionRule
from sqlalchemy import select

SPEC = {
    "version": "0.9.0",
    "inputs": {"options": {"FROM": "step1"}},
    "workspace": {"retention_days": {"out/*.csv": 3}},
    "workflow": {
        "type": "serial",
        "specification": {
            "steps": [{"name": "step1", "environment": "docker.io/library/bash:5",
                       "commands": ["true"]}]
        },
    },
}


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_create_and_start_need_no_workflow_controller(server_env, user):
    """The server stores the run itself: a controller that is down does not stop admission."""
    from reana_server.app import create_app

    app = create_app({"TESTING": True, "WORKFLOW_CONTROLLER_URL": _closed_port_url()})
    client = app.test_client()
    auth = {"access_token": user.test_token}
    created = client.post("/api/workflows", query_string={**auth, "workflow_name": "lean"},
                          json=SPEC)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["workflow_name"] == "lean.1"
    again = client.post("/api/workflows", query_string={**auth, "workflow_name": "lean"},
                        json=SPEC)
    assert again.get_json()["workflow_name"] == "lean.2"

    workflow_id = uuid.UUID(created.get_json()["workflow_id"])
    server_env.expire_all()
    workflow = server_env.get(Workflow, workflow_id)
    assert workflow.status == RunStatus.created
    assert workflow.operational_options == {"FROM": "step1"}
    assert Path(workflow.workspace_path).is_dir()
    assert workflow.workspace_path.endswith(f"users/{user.id_}/workflows/{workflow_id}")
    rules = server_env.scalars(select(WorkspaceRetentionRule.workspace_files).where(
        WorkspaceRetentionRule.workflow_id == workflow_id)).all()
    assert "out/*.csv" in rules

    started = client.post(f"/api/workflows/{workflow_id}/start", query_string=auth, json={})
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "queued"


def test_service_processes_leave_heavy_modules_unimported(reana_env):
    """Memory per service process: no IRI grammar compiler, no cryptography, no Alembic.

    ``rfc3987_syntax`` (pulled in by bravado-core's jsonschema extra) compiles
    lark grammars when imported; cryptography is needed only to show or store
    secrets; Alembic only to migrate (a forked child does it before gunicorn).
    """
    code = """
import json, sys
from reana_server.cli import server
from reana_server.app import create_app
from reana_workflow_controller.app import create_app as create_controller
from reana_server import submission
create_app(); create_controller()
submission.validate_specification(json.loads(sys.argv[1]))
print(json.dumps(sorted(m for m in ("rfc3987_syntax", "lark", "cryptography", "alembic")
                        if sys.modules.get(m) is not None)))
"""
    env = {**os.environ, **{k: str(v) for k, v in reana_env.items()}}
    result = subprocess.run([sys.executable, "-c", code, json.dumps(SPEC)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
