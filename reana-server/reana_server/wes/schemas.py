"""marshmallow schemas of what WES requests carry (the GA4GH spec's RunRequest form, paging).

The answers' shapes are the GA4GH 1.1 spec's (committed in reana-commons, see
:func:`reana_commons.openapi.wes_specification_path`); the tests check every
answer against it.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class RunRequestForm(Schema):
    """``POST /runs``'s multipart form fields (JSON ones still encoded)."""

    class Meta:
        unknown = EXCLUDE

    workflow_params = fields.String(load_default=None)
    workflow_type = fields.String(required=True, validate=validate.Length(min=1))
    workflow_type_version = fields.String(required=True, validate=validate.Length(min=1))
    workflow_url = fields.String(required=True, validate=validate.Length(min=1))
    tags = fields.String(load_default=None)
    workflow_engine_parameters = fields.String(load_default=None)
    workflow_engine = fields.String(load_default=None)
    workflow_engine_version = fields.String(load_default=None)


JSON_FIELDS = ("workflow_params", "tags", "workflow_engine_parameters")


class PageQuery(Schema):
    """``page_size`` and ``page_token`` of the lists."""

    class Meta:
        unknown = EXCLUDE

    page_size = fields.Integer(load_default=None, strict=False)
    page_token = fields.String(load_default=None)
