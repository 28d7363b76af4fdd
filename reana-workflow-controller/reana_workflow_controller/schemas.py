"""Request schemas of the internal API (REANA 0.9's ``reana_workflow_controller.json``)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from reana_workflow_controller.listing import SORTS


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class UserQuery(_Lenient):
    """Every endpoint: the owner's UUID, trusted (the API is internal)."""

    user = fields.Str(required=True)


MAX_PAGE_NUMBER = 2**31 - 1
"""Largest ``page`` and ``size``: their product (an SQL offset) stays a 64-bit integer."""
PAGE_RANGE = [
    validate.Range(min=1),
    validate.Range(max=MAX_PAGE_NUMBER, error="Must be at most {max}."),
]


class PageQuery(UserQuery):
    """REANA's pagination arguments."""

    page = fields.Int(load_default=1, validate=PAGE_RANGE)
    size = fields.Int(load_default=None, validate=PAGE_RANGE)


class ListWorkflowsQuery(PageQuery):
    type = fields.Str(load_default="batch", validate=validate.OneOf(["batch", "interactive"]))
    verbose = fields.Bool(load_default=False)
    search = fields.Str(load_default=None)
    sort = fields.Str(load_default="desc", validate=validate.OneOf(SORTS))
    status = fields.List(fields.Str(), load_default=list)
    include_progress = fields.Bool(load_default=None)
    include_workspace_size = fields.Bool(load_default=None)
    workflow_id_or_name = fields.Str(load_default=None)
    shared = fields.Bool(load_default=False)
    shared_by = fields.Str(load_default=None)
    shared_with = fields.Str(load_default=None)


class CreateWorkflowQuery(UserQuery):
    workspace_root_path = fields.Str(load_default=None)


class RetentionRuleSchema(_Lenient):
    workspace_files = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    retention_days = fields.Int(required=True, strict=True)


class CreateWorkflowBody(_Lenient):
    reana_specification = fields.Dict(required=True)
    workflow_name = fields.Str(load_default="", allow_none=True)
    operational_options = fields.Dict(load_default=dict, allow_none=True)
    retention_rules = fields.List(
        fields.Nested(RetentionRuleSchema), load_default=list, allow_none=True
    )
    git_data = fields.Dict(load_default=None, allow_none=True)
    launcher_url = fields.Str(load_default=None, allow_none=True)


class SetStatusQuery(UserQuery):
    status = fields.Str(required=True)


class SetStatusBody(_Lenient):
    input_parameters = fields.Dict(load_default=dict, allow_none=True)
    operational_options = fields.Dict(load_default=dict, allow_none=True)
    restart = fields.Bool(load_default=False)
    all_runs = fields.Bool(load_default=False)
    workspace = fields.Bool(load_default=True)


class DiffQuery(UserQuery):
    brief = fields.Bool(load_default=False)
    context_lines = fields.Str(load_default="5")


class ListFilesQuery(PageQuery):
    file_name = fields.Str(load_default=None)
    search = fields.Str(load_default=None)


class UploadQuery(UserQuery):
    file_name = fields.Str(required=True)


class DownloadQuery(UserQuery):
    preview = fields.Bool(load_default=False)


class MoveQuery(UserQuery):
    source = fields.Str(required=True)
    target = fields.Str(required=True)


class DiskUsageQuery(UserQuery):
    summarize = fields.Bool(load_default=False)
    search = fields.Str(load_default=None)


class PruneQuery(UserQuery):
    include_inputs = fields.Bool(load_default=False)
    include_outputs = fields.Bool(load_default=False)


class OpenSessionBody(_Lenient):
    image = fields.Str(load_default=None, allow_none=True)
