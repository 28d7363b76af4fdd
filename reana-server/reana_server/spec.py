"""Our OpenAPI specification (Swagger 2.0, like REANA's), generated from the app's declarations.

Served at ``/api/apispec``; its committed copy lives in reana-commons
(:func:`reana_commons.openapi.specification_path`), where the project's
reana-client loads it; ``scripts/write_openapi_spec.py`` regenerates it.
"""

from __future__ import annotations

import json
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from marshmallow import fields as ma_fields
from reana_commons.config import REANA_VERSION

from reana_server.operations import Operation, get_operation
from reana_server.schemas import CsvList, Message

DESCRIPTIONS = {
    200: "Request succeeded.",
    201: "Request succeeded. The resource has been created.",
    204: "Request succeeded. Nothing to return.",
    302: "Redirection.",
    400: "Request failed. The incoming data seems malformed.",
    401: "Request failed. User not signed in.",
    403: "Request failed. Invalid token, exceeded quota or forbidden action.",
    404: "Request failed. The resource does not exist.",
    409: "Request failed. Conflict with the current state.",
    500: "Request failed. Internal server error.",
    501: "Request failed. Not implemented.",
}

ACCESS_TOKEN = {
    "name": "access_token",
    "in": "query",
    "required": False,
    "type": "string",
    "description": "The API access token of the user (or an Authorization: Bearer header).",
}


def _csv_collection(_converter, field, **kwargs):
    return {"collectionFormat": "csv"} if isinstance(field, CsvList) else {}


def _schema_of(plugin: MarshmallowPlugin, value):
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, ma_fields.Field):
        return plugin.converter.field2property(value)
    if isinstance(value, type) and issubclass(value, Schema):
        return value
    raise TypeError(f"Unsupported schema declaration {value!r}")


def _operation_dict(plugin: MarshmallowPlugin, op: Operation, path_params: list[str]) -> dict:
    parameters: list = [
        {"name": name, "in": "path", "required": True, "type": "string"} for name in path_params
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if op.raw_body is not None:
        parameters.append(op.raw_body)
    elif op.body is not None:
        parameters.append(
            {
                "name": op.body_name,
                "in": "body",
                "required": op.body_required,
                "schema": _schema_of(plugin, op.body),
            }
        )
    if not op.anonymous:
        parameters.append(dict(ACCESS_TOKEN))
    declared = dict(op.responses)
    if not op.anonymous:
        # Authentication answers every protected operation can give (REANA's decorator).
        declared.setdefault(401, Message)
        declared.setdefault(403, Message)
    responses = {}
    for code, schema in sorted(declared.items()):
        response = {"description": DESCRIPTIONS.get(code, "Response.")}
        body = _schema_of(plugin, schema)
        if body is not None:
            response["schema"] = body
        if code == 200 and op.operation_id == "download_file":
            response["schema"] = {"type": "file"}
        responses[str(code)] = response
    result = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": op.summary,
        "parameters": parameters,
        "produces": list(op.produces),
        "responses": responses,
    }
    if op.consumes:
        result["consumes"] = list(op.consumes)
    return result


def _swagger_path(rule: str) -> tuple[str, list[str]]:
    names = re.findall(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", rule)
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule), names


def build_spec(app: Flask) -> dict:
    """The Swagger 2.0 document of every declared endpoint of ``app``."""
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    spec = APISpec(
        title="REANA Server",
        version=REANA_VERSION,
        openapi_version="2.0",
        plugins=[plugin],
        info={"description": "Submit workflows to be run on REANA Cloud"},
    )
    plugin.converter.add_parameter_attribute_function(_csv_collection)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = get_operation(app.view_functions[rule.endpoint])
        if op is None:
            continue
        path, names = _swagger_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation_dict(plugin, op, names)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return json.loads(json.dumps(spec.to_dict(), sort_keys=True))


def render(spec: dict) -> str:
    """The committed text of a spec (stable formatting)."""
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"
