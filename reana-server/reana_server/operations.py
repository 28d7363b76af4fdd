"""The ``@operation`` decorator: one declaration per endpoint for parsing and for the spec.

A view declares its operationId, query schema, body (schema or field) and
responses once; the decorator parses and validates the request with webargs
from those schemas and stores the declaration for :mod:`reana_server.spec`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields
from reana_commons.config import get_config
from reana_commons.errors import REANAValidationError
from reana_commons.json_input import load_json
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from reana_server.errors import BadRequest


def _first_error(messages: Any) -> tuple[str | None, str]:
    if isinstance(messages, dict):
        for name, errors in messages.items():
            inner_name, text = _first_error(errors)
            if isinstance(name, int):
                return inner_name or str(name), text
            return name, text
    if isinstance(messages, list) and messages:
        return _first_error(messages[0])
    return None, str(messages)


def validation_message(error: ValidationError) -> str:
    """REANA's (webargs) ``Field 'page': Must be at least 1.``."""
    name, text = _first_error(error.messages)
    if name in (None, "_schema"):
        return text
    return f"Field '{name}': {text}"


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:
            location = next(iter(messages))
            if location in self.__location_map__ and isinstance(messages[location], dict):
                messages = messages[location]
        raise BadRequest(validation_message(ValidationError(messages)))


parser = _Parser()


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    """One instance per schema class: building a marshmallow schema costs more than loading."""
    return schema()


@dataclass
class Operation:
    """Everything the spec needs to know about one endpoint."""

    operation_id: str
    summary: str
    responses: dict[int, tuple[str, Any]]
    query: type[Schema] | None = None
    body: type[Schema] | ma_fields.Field | None = None
    body_name: str = "parameters"
    body_required: bool = False
    consumes: tuple[str, ...] | None = None
    produces: tuple[str, ...] = ("application/json",)
    anonymous: bool = False
    path_params: dict[str, str] = field(default_factory=dict)
    raw_body: dict | None = None


def _body_bytes() -> bytes:
    """The request body, refused (400) beyond ``REANA_MAX_REQUEST_BODY_BYTES``.

    Uploads do not come through here: they stream to the workspace and are
    bounded by the disk quota.
    """
    limit = get_config().max_request_body_bytes
    request.max_content_length = limit  # also bounds a chunked body while it is read
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise BadRequest(
            f"The request body is larger than {limit} bytes (REANA_MAX_REQUEST_BODY_BYTES)."
        ) from None


def _read_json_body(required: bool) -> Any:
    data = _body_bytes()
    if not data.strip():
        if required:
            raise BadRequest("Malformed request: a JSON body is required.")
        return None
    try:
        return load_json(data, "The request body")
    except REANAValidationError as error:  # nested too deeply
        raise BadRequest(error.message) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("Your request contains not valid JSON.") from error


def _parse_body(op: Operation) -> Any:
    raw = _read_json_body(op.body_required)
    if isinstance(op.body, ma_fields.Field):
        if raw is None:
            if op.body_required:
                raise BadRequest(f"Field '{op.body_name}': Field may not be null.")
            return None
        try:
            return op.body.deserialize(raw)
        except ValidationError as error:
            text = _first_error(error.messages)[1]
            raise BadRequest(f"Field '{op.body_name}': {text}") from error
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequest("Malformed request: the JSON body must be an object.")
    try:
        return _instance(op.body).load(raw)
    except ValidationError as error:
        raise BadRequest(validation_message(error)) from error


def operation(
    operation_id: str,
    summary: str,
    responses: dict[int, Any],
    **options,
):
    """Declare an endpoint; the view gets ``args`` (query) and ``body`` keyword arguments.

    ``responses`` maps status codes to a schema class, a marshmallow field
    (arrays), a raw Swagger schema dict or ``None`` (no body schema).
    """
    normalized = {int(code): schema for code, schema in responses.items()}
    op = Operation(operation_id=operation_id, summary=summary, responses=normalized, **options)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if op.query is not None:
                kwargs["args"] = parser.parse(_instance(op.query), request, location="query")
            if op.body is not None:
                kwargs["body"] = _parse_body(op)
            return view(*args, **kwargs)

        wrapper.reana_operation = op
        return wrapper

    return decorate


def get_operation(view) -> Operation | None:
    """The declaration of a view function, if it has one."""
    return getattr(view, "reana_operation", None)
