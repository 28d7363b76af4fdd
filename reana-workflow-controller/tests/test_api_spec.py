"""Our internal API against REANA 0.9's ``reana_workflow_controller.json``."""

from __future__ import annotations

import re

import jsonschema
import pytest
from flask import Response
from werkzeug.exceptions import MethodNotAllowed, NotFound


def test_every_reana_operation_is_routed(api_app, reana_rwc_spec):
    operations, _ = reana_rwc_spec
    adapter = api_app.url_map.bind("localhost")
    for method, _pattern, _operation, spec_path in operations:
        example = re.sub(r"\{(\w+)\}", "x", spec_path)
        try:
            endpoint, _ = adapter.match(example, method=method)
        except (NotFound, MethodNotAllowed):
            pytest.fail(f"{method} {spec_path} is not served")
        assert endpoint


def test_the_spec_check_catches_bad_answers(reana_rwc_spec):
    _, check = reana_rwc_spec
    good = Response('{"id": "x", "name": "a.1", "created": "2024-01-01T00:00:00"}', 200,
                    mimetype="application/json")
    check("GET", "/api/workflows/a.1/status", good)
    null_name = Response('{"name": null}', 200, mimetype="application/json")
    with pytest.raises(jsonschema.ValidationError):
        check("GET", "/api/workflows/a.1/status", null_name)
    undeclared = Response('{"message": "x"}', 418, mimetype="application/json")
    with pytest.raises(AssertionError):
        check("GET", "/api/workflows/a.1/status", undeclared)
    nullable = Response(
        '{"retention_rules": [{"apply_on": null, "retention_days": 1}]}', 200,
        mimetype="application/json",
    )
    check("GET", "/api/workflows/a.1/retention_rules", nullable)
