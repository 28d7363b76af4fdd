"""Bodies of the web UI's account endpoints (not in the OpenAPI spec: REANA's are not either)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class LoginBody(Schema):
    """``POST /api/login``: an access token, or an email and a password."""

    access_token = fields.String(validate=validate.Length(min=1, max=512))
    email = fields.String(validate=validate.Length(min=1, max=255))
    password = fields.String(validate=validate.Length(min=1, max=1024))

    @validates_schema
    def _one_way(self, data, **_kwargs):
        if "access_token" in data:
            if "email" in data or "password" in data:
                raise ValidationError("Give an access token, or an email and a password.")
        elif "email" not in data or "password" not in data:
            raise ValidationError("Give an access token, or an email and a password.")


class RegisterBody(Schema):
    """``POST /api/register``."""

    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(max=1024))
    full_name = fields.String(validate=validate.Length(max=255))
