"""Our generated OpenAPI spec: committed copy, REANA coverage, usable by bravado."""

from __future__ import annotations

import json

from reana_commons.openapi import specification_path
from reana_server.spec import build_spec, render

COMMITTED_SPEC = specification_path("reana_server")
REGENERATE = "run: .venv/bin/python scripts/write_openapi_spec.py"


def test_committed_spec_is_up_to_date(app):
    assert COMMITTED_SPEC.exists(), REGENERATE
    assert COMMITTED_SPEC.read_text() == render(build_spec(app)), "stale spec: " + REGENERATE


def test_every_reana_operation_exists_with_its_operation_id(app, reana_spec_validator):
    ours = build_spec(app)["paths"]
    for path, operations in reana_spec_validator.raw["paths"].items():
        for method, operation in operations.items():
            assert method in ours.get(path, {}), f"{method.upper()} {path} is missing"
            assert ours[path][method]["operationId"] == operation["operationId"]
            declared = set(operation["responses"])
            assert declared <= set(ours[path][method]["responses"]), (method, path)


def test_spec_is_valid_swagger_2_and_loads_in_bravado():
    from bravado_core.spec import Spec
    from swagger_spec_validator.validator20 import validate_spec

    spec = json.loads(COMMITTED_SPEC.read_text())
    assert spec["swagger"] == "2.0"
    validate_spec(spec)
    loaded = Spec.from_dict(spec, config={"validate_responses": True, "use_models": True})
    for operation_id in ("get_workflows", "upload_file", "get_you", "delete_secrets"):
        assert hasattr(loaded.resources["api"], operation_id)


def test_spec_is_served(client, auth):
    served = client.get("/api/apispec", query_string=auth)
    assert served.status_code == 200
    assert (
        served.get_json()["paths"].keys() == json.loads(COMMITTED_SPEC.read_text())["paths"].keys()
    )
