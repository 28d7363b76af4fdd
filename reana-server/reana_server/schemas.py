"""Request and response schemas: the single source of validation and of the OpenAPI spec.

Shapes follow REANA 0.9's ``reana_server.json`` (the schema reana-client 0.9.6
validates every answer against): a field REANA marks ``x-nullable`` is
``allow_none=True`` here, every other one must never be ``null``.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate
from marshmallow import Schema as _MarshmallowSchema


class Schema(_MarshmallowSchema):
    """Base of every schema: unknown keys are ignored (REANA's spec allows extra properties)."""

    class Meta:
        unknown = EXCLUDE


class _Query(Schema):
    class Meta:
        unknown = EXCLUDE


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


AT_LEAST_ONE = validate.Range(min=1, error="Must be at least {min}.")
MAX_PAGE_NUMBER = 2**31 - 1
"""Largest ``page`` and ``size``: their product (an SQL offset) stays a 64-bit integer."""
PAGE_RANGE = [AT_LEAST_ONE, validate.Range(max=MAX_PAGE_NUMBER, error="Must be at most {max}.")]


class CsvList(fields.List):
    """A list sent as one comma-separated query value (bravado's default for arrays)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part for part in value.split(",") if part]
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            value = [part for part in value[0].split(",") if part]
        return super()._deserialize(value, attr, data, **kwargs)


# Generic ---------------------------------------------------------------------------


class Message(Schema):
    message = fields.String()


class Size(Schema):
    raw = fields.Integer()
    human_readable = fields.String()


class JobIds(Schema):
    total = fields.Integer()
    job_ids = fields.List(fields.String())


class Progress(Schema):
    run_started_at = fields.String(allow_none=True)
    run_finished_at = fields.String(allow_none=True)
    run_stopped_at = fields.String(allow_none=True)
    current_command = fields.String(allow_none=True)
    current_step_name = fields.String(allow_none=True)
    total = fields.Nested(JobIds)
    running = fields.Nested(JobIds)
    finished = fields.Nested(JobIds)
    failed = fields.Nested(JobIds)


class Paginated(_Query):
    page = fields.Integer(validate=PAGE_RANGE, load_default=1)
    size = fields.Integer(validate=PAGE_RANGE)


# Meta ------------------------------------------------------------------------------


class Ping(Schema):
    message = fields.String()
    status = fields.String()


class QuotaValue(Schema):
    raw = fields.Float()
    human_readable = fields.String()


class QuotaResource(Schema):
    usage = fields.Nested(QuotaValue)
    limit = fields.Nested(QuotaValue)
    health = fields.String()


class Quota(Schema):
    cpu = fields.Nested(QuotaResource)
    disk = fields.Nested(QuotaResource)


class Token(Schema):
    value = fields.String()
    status = fields.String()
    requested_at = fields.String()


class You(Schema):
    email = fields.String()
    full_name = fields.String()
    username = fields.String()
    reana_server_version = fields.String()
    reana_token = fields.Nested(Token)
    quota = fields.Nested(Quota)


class TokenRequested(Schema):
    reana_token = fields.Nested(Token(only=("status", "requested_at")))


def _info_item(value_field):
    return type("InfoItem", (Schema,), {"title": fields.String(), "value": value_field})


_InfoList = _info_item(fields.List(fields.String()))
_InfoString = _info_item(fields.String())
_InfoNullable = _info_item(fields.String(allow_none=True))


class Info(Schema):
    workspaces_available = fields.Nested(_InfoList)
    default_workspace = fields.Nested(_InfoString)
    compute_backends = fields.Nested(_InfoList)
    default_kubernetes_cpu_request = fields.Nested(_InfoNullable)
    default_kubernetes_cpu_limit = fields.Nested(_InfoNullable)
    default_kubernetes_memory_request = fields.Nested(_InfoNullable)
    default_kubernetes_memory_limit = fields.Nested(_InfoNullable)
    kubernetes_max_cpu_request = fields.Nested(_InfoNullable)
    kubernetes_max_cpu_limit = fields.Nested(_InfoNullable)
    kubernetes_max_memory_request = fields.Nested(_InfoNullable)
    kubernetes_max_memory_limit = fields.Nested(_InfoNullable)
    maximum_workspace_retention_period = fields.Nested(_InfoNullable)
    default_kubernetes_jobs_timeout = fields.Nested(_InfoString)
    maximum_kubernetes_jobs_timeout = fields.Nested(_InfoString)
    maximum_interactive_session_inactivity_period = fields.Nested(_InfoNullable)
    supported_workflow_engines = fields.Nested(_InfoList)


class UiConfig(Schema):
    admin_email = fields.String()
    announcement = fields.String(allow_none=True)
    docs_url = fields.String()
    forum_url = fields.String()
    chat_url = fields.String()
    polling_secs = fields.Integer()
    local_users = fields.Boolean()
    hide_signup = fields.Boolean()
    sso = fields.Boolean()


class _HealthCounts(Schema):
    total = fields.Float()
    available = fields.Float()
    percentage = fields.Float()
    health = fields.String()
    sort = fields.Float()


class _NodeStatus(_HealthCounts):
    unschedulable = fields.Float()


class _JobStatus(_HealthCounts):
    running = fields.Float()
    pending = fields.Float()


class _WorkflowStatus(_HealthCounts):
    running = fields.Float()
    pending = fields.Float()
    queued = fields.Float()


class _SessionStatus(Schema):
    active = fields.Float()
    sort = fields.Float()


class ClusterStatus(Schema):
    node = fields.Nested(_NodeStatus)
    job = fields.Nested(_JobStatus)
    workflow = fields.Nested(_WorkflowStatus)
    session = fields.Nested(_SessionStatus)


# Workflows -------------------------------------------------------------------------


class WorkflowListQuery(Paginated):
    type = fields.String(required=True, validate=validate.OneOf(["batch", "interactive"]))
    verbose = fields.Boolean(load_default=False)
    search = fields.String()
    sort = fields.String(validate=validate.OneOf(["asc", "desc", "disk-desc", "cpu-desc"]))
    status = CsvList(fields.String())
    include_progress = fields.Boolean()
    include_workspace_size = fields.Boolean()
    workflow_id_or_name = fields.String()
    shared = fields.Boolean(metadata={
        "description": "List the user's runs and those shared with them (REANA 0.95)."})
    shared_by = fields.String(metadata={
        "description": "Only runs shared with the user by this e-mail, or by 'anybody'."})
    shared_with = fields.String(metadata={
        "description": "Only the user's runs shared with this e-mail, 'anybody' or 'nobody'."})


class WorkflowListItem(Schema):
    id = fields.String()
    name = fields.String()
    status = fields.String()
    user = fields.String()
    created = fields.String()
    launcher_url = fields.String(allow_none=True)
    progress = fields.Nested(Progress)
    size = fields.Nested(Size)
    session_type = fields.String()
    session_uri = fields.String()
    session_status = fields.String()
    owner_email = fields.String()
    shared_with = fields.List(fields.String())


class WorkflowList(Schema):
    items = fields.List(fields.Nested(WorkflowListItem))
    total = fields.Integer()
    page = fields.Integer()
    has_next = fields.Boolean()
    has_prev = fields.Boolean()
    user_has_workflows = fields.Boolean()


class CreateWorkflowQuery(_Query):
    workflow_name = fields.String(required=True)
    spec = fields.String()


class WorkflowCreated(Schema):
    message = fields.String()
    workflow_id = fields.String()
    workflow_name = fields.String()


class WorkflowStatus(Schema):
    id = fields.String()
    name = fields.String()
    created = fields.String()
    status = fields.String()
    user = fields.String()
    logs = fields.String()
    progress = fields.Nested(Progress)


class StartBody(_Body):
    input_parameters = fields.Dict()
    operational_options = fields.Dict()
    restart = fields.Boolean()
    reana_specification = fields.Dict()


class StatusChangeQuery(_Query):
    status = fields.String(required=True, validate=validate.OneOf(["start", "stop", "deleted"]))


class StatusChangeBody(StartBody):
    all_runs = fields.Boolean()
    workspace = fields.Boolean()
    force_stop = fields.Boolean()


class StatusChanged(Schema):
    message = fields.String()
    workflow_id = fields.String()
    workflow_name = fields.String()
    status = fields.String()
    user = fields.String()


class WorkflowStarted(StatusChanged):
    run_number = fields.String()


class WorkflowLogs(Schema):
    workflow_id = fields.String()
    workflow_name = fields.String()
    user = fields.String()
    logs = fields.String()


class _SpecInputs(Schema):
    files = fields.List(fields.String())
    directories = fields.List(fields.String())
    parameters = fields.Dict()
    options = fields.Dict()


class _SpecOutputs(Schema):
    files = fields.List(fields.String())
    directories = fields.List(fields.String())


class _SpecWorkflowBody(Schema):
    steps = fields.List(fields.Dict())


class _SpecWorkflow(Schema):
    type = fields.String()
    file = fields.String()
    specification = fields.Nested(_SpecWorkflowBody, allow_none=True)


class _Specification(Schema):
    version = fields.String()
    inputs = fields.Nested(_SpecInputs)
    outputs = fields.Nested(_SpecOutputs)
    workflow = fields.Nested(_SpecWorkflow)


class WorkflowSpecification(Schema):
    specification = fields.Nested(_Specification)
    parameters = fields.Dict()


class WorkflowParameters(Schema):
    id = fields.String()
    name = fields.String()
    type = fields.String()
    parameters = fields.Dict()


class DiffQuery(_Query):
    brief = fields.Boolean(load_default=False)
    context_lines = fields.String(load_default="5")


class WorkflowDiff(Schema):
    reana_specification = fields.String()
    workspace_listing = fields.String()


class RetentionRule(Schema):
    id = fields.String()
    workspace_files = fields.String()
    retention_days = fields.Integer()
    apply_on = fields.String(allow_none=True)
    status = fields.String()


class RetentionRules(Schema):
    workflow_id = fields.String()
    workflow_name = fields.String()
    retention_rules = fields.List(fields.Nested(RetentionRule))


class PruneQuery(_Query):
    include_inputs = fields.Boolean(load_default=False)
    include_outputs = fields.Boolean(load_default=False)


class WorkflowMessage(Schema):
    message = fields.String()
    workflow_id = fields.String()
    workflow_name = fields.String()


class DiskUsageBody(_Body):
    summarize = fields.Boolean(load_default=False)
    search = fields.String()


class DiskUsageItem(Schema):
    name = fields.String()
    size = fields.Nested(Size)


class DiskUsage(Schema):
    workflow_id = fields.String()
    workflow_name = fields.String()
    user = fields.String()
    disk_usage_info = fields.List(fields.Nested(DiskUsageItem))


class OpenSessionBody(_Body):
    image = fields.String()


class SessionOpened(Schema):
    path = fields.String()


class SessionClosed(Schema):
    path = fields.String()
    message = fields.String()


class LaunchBody(_Body):
    url = fields.String(required=True)
    name = fields.String()
    parameters = fields.String()
    specification = fields.String()


class _ValidationWarnings(Schema):
    additional_properties = fields.List(fields.String())


class Launched(Schema):
    workflow_id = fields.String(required=True)
    workflow_name = fields.String(required=True)
    message = fields.String(required=True)
    validation_warnings = fields.Nested(_ValidationWarnings)


# Workspace -------------------------------------------------------------------------


class UploadQuery(_Query):
    file_name = fields.String(required=True)
    preview = fields.Boolean()


class FilesQuery(Paginated):
    file_name = fields.String()
    search = fields.String()


class FileItem(Schema):
    name = fields.String()
    size = fields.Nested(Size)
    last_modified = fields.String(data_key="last-modified")


class FileList(Schema):
    items = fields.List(fields.Nested(FileItem))
    total = fields.Integer()
    page = fields.Integer()
    has_next = fields.Boolean()
    has_prev = fields.Boolean()


class DownloadQuery(_Query):
    preview = fields.Boolean(load_default=False)
    file_name = fields.String()


class _DeletedSize(Schema):
    size = fields.Integer()


class _FailedError(Schema):
    error = fields.String()


class FilesDeleted(Schema):
    deleted = fields.Dict(keys=fields.String(), values=fields.Nested(_DeletedSize))
    failed = fields.Dict(keys=fields.String(), values=fields.Nested(_FailedError))


class MoveQuery(_Query):
    source = fields.String(required=True)
    target = fields.String(required=True)


# Secrets ---------------------------------------------------------------------------


class SecretItem(Schema):
    name = fields.String()
    type = fields.String()


class AddSecretsQuery(_Query):
    overwrite = fields.Boolean(load_default=False)


class NewSecret(Schema):
    value = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["env", "file"]))
    name = fields.String()


# GitLab ----------------------------------------------------------------------------


class GitlabWebhookBody(_Body):
    project_id = fields.String(required=True)


class GitlabWebhookDeleteBody(GitlabWebhookBody):
    hook_id = fields.Integer(required=True)
