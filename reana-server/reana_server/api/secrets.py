"""Secrets endpoints (REANA's slash quirks: GET without, POST/DELETE with a trailing slash)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from marshmallow import fields
from reana_db.database import db_session

from reana_server import schemas, secrets
from reana_server.api import current_user
from reana_server.operations import operation
from reana_server.schemas import Message

blueprint = Blueprint("secrets", __name__)

_NEW_SECRETS = fields.Dict(
    keys=fields.String(), values=fields.Nested(schemas.NewSecret), required=True
)


@blueprint.get("/api/secrets", strict_slashes=False)
@operation(
    "get_secrets",
    "List the user's secrets (names and types, never values).",
    {200: fields.List(fields.Nested(schemas.SecretItem)), 403: Message, 500: Message},
)
def get_secrets():
    return jsonify(secrets.list_secrets(db_session(), current_user()))


@blueprint.post("/api/secrets/", strict_slashes=False)
@operation(
    "add_secrets",
    "Add secrets (base64 values, type env or file).",
    {201: Message, 400: Message, 403: Message, 409: Message, 500: Message},
    query=schemas.AddSecretsQuery,
    body=_NEW_SECRETS,
    body_name="secrets",
    body_required=True,
    consumes=("application/json",),
)
def add_secrets(args, body):
    session = db_session()
    secrets.add_secrets(session, current_user(), body, args["overwrite"])
    session.commit()
    response = jsonify(message="Secret(s) successfully added.")
    response.status_code = 201
    return response


@blueprint.delete("/api/secrets/", strict_slashes=False)
@operation(
    "delete_secrets",
    "Delete secrets by name; 404 lists the missing ones as a JSON array.",
    {
        200: fields.List(fields.String()),
        400: Message,
        403: Message,
        404: fields.List(fields.String()),
        500: Message,
    },
    body=fields.List(fields.String()),
    body_name="secrets",
    body_required=True,
    consumes=("application/json",),
)
def delete_secrets(body):
    session = db_session()
    deleted = secrets.delete_secrets(session, current_user(), body)
    session.commit()
    return jsonify(deleted)
