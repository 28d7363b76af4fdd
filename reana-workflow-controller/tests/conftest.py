"""Fixtures of the workflow-controller tests (the shared chain comes from reana_commons)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from reana_testing.examples import HELLOWORLD_SPEC
from reana_testing.pytest_plugin import SHARED_DIR

REFERENCE = Path(os.environ.get("REANA_REFERENCE", str(SHARED_DIR / "reference" / "reana-0.9")))
RWC_SPEC_PATH = REFERENCE / "spec" / "reana_workflow_controller.json"
# webargs' argument errors: REANA answers 400 on any operation without declaring it.
UNDECLARED_BUT_REANA = {400}

def _nullable(schema):
    """Swagger 2.0's ``x-nullable`` as JSON schema (``type: [t, "null"]``)."""
    if isinstance(schema, dict):
        schema = {key: _nullable(value) for key, value in schema.items()}
        if schema.pop("x-nullable", False) and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        return schema
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    return schema


def _load_operations():
    if not RWC_SPEC_PATH.is_file():
        return []
    spec = json.loads(RWC_SPEC_PATH.read_text())
    operations = []
    for path, methods in spec["paths"].items():
        pattern = re.sub(r"\{file_name\}", r"(?P<file_name>.+)", path)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        for method, operation in methods.items():
            operations.append((method.upper(), re.compile(pattern + "$"), operation, path))
    return operations


RWC_OPERATIONS = _load_operations()


def check_against_reana_spec(method: str, path: str, response) -> None:
    """Fail when a response of a REANA operation breaks ``reana_workflow_controller.json``."""
    import jsonschema

    for op_method, pattern, operation, spec_path in RWC_OPERATIONS:
        if op_method != method or not pattern.match(path):
            continue
        code = str(response.status_code)
        declared = operation["responses"]
        assert code in declared or response.status_code in UNDECLARED_BUT_REANA, (
            f"{method} {spec_path}: status {code} is not declared ({sorted(declared)})"
        )
        schema = (declared.get(code) or {}).get("schema")
        if response.mimetype == "application/json":
            body = response.get_json()
            if response.status_code >= 400:
                assert isinstance(body.get("message"), str), body
            if schema and schema.get("type") != "file":
                jsonschema.validate(body, _nullable(schema))
        return


class SpecCheckingClient(FlaskClient):
    """A test client checking every answer against REANA's spec of the internal API."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        check_against_reana_spec(request.method, request.path, response)
        return response


@pytest.fixture
def api_app(db):
    """The internal API on the test's database."""
    from reana_workflow_controller.app import create_app

    app = create_app({"TESTING": True})
    app.test_client_class = SpecCheckingClient
    yield app
    from reana_workflow_controller.session_managers.local import stop_recorded_sessions

    stop_recorded_sessions()  # a test that opened a session and did not close it


@pytest.fixture
def api(api_app):
    """A Flask test client of the internal API, presenting the service credential."""
    from reana_commons.service_auth import service_credential

    client = api_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {service_credential()}"
    return client


@pytest.fixture
def make_workflow(api):
    """``make_workflow(user, name="helloworld", spec=None, **body)``: create a run (201)."""

    def create(user, name="helloworld", spec=None, **body):
        payload = {
            "reana_specification": spec or HELLOWORLD_SPEC,
            "workflow_name": name,
            "operational_options": {},
            "retention_rules": [],
            **body,
        }
        response = api.post(
            "/api/workflows", query_string={"user": str(user.id_)}, json=payload
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def spec():
    """A copy of the helloworld reana.yaml (as the client sends it)."""
    import copy

    return copy.deepcopy(HELLOWORLD_SPEC)


@pytest.fixture
def reana_rwc_spec():
    """``(operations, check)``: REANA's operations of the internal API and the checker."""
    if not RWC_OPERATIONS:
        pytest.skip(f"REANA's reana_workflow_controller.json is not at {RWC_SPEC_PATH}")
    return RWC_OPERATIONS, check_against_reana_spec
