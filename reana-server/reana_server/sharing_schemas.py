"""Schemas of the sharing endpoints (REANA 0.95's API; reana-client 0.9.6 has no such calls)."""

from __future__ import annotations

from marshmallow import fields

from reana_server.schemas import Schema, _Body, _Query


class ShareBody(_Body):
    user_email_to_share_with = fields.String(required=True, metadata={
        "description": "E-mail of the user who may read the run."})
    message = fields.String(metadata={"description": "Optional note for that user."})
    valid_until = fields.String(metadata={
        "description": "Optional expiry: YYYY-MM-DD (access ends after that day, UTC) or an "
                       "ISO 8601 time."})


class UnshareQuery(_Query):
    user_email_to_unshare_with = fields.String(required=True)


class SharedWorkflow(Schema):
    message = fields.String()
    workflow_id = fields.String()
    workflow_name = fields.String()


class ShareEntry(Schema):
    user_email = fields.String()
    valid_until = fields.String(allow_none=True)


class ShareStatus(Schema):
    workflow_id = fields.String()
    workflow_name = fields.String()
    shared_with = fields.List(fields.Nested(ShareEntry))


class SharingUser(Schema):
    email = fields.String()


class SharingUsers(Schema):
    users = fields.List(fields.Nested(SharingUser))
