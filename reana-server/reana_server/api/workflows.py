"""Workflow endpoints: list, create, status, start, logs, specification, diff, rules, du, prune."""

from __future__ import annotations

from flask import Blueprint, jsonify
from marshmallow import fields
from reana_commons.config import get_config
from reana_db.database import db_session
from reana_db.enums import RunStatus

from reana_server import engines, schemas, submission
from reana_server.api import controller, current_user, forward, quota_used_up, stream
from reana_server.errors import BadRequest, NotFound, NotImplementedYet, ServerError
from reana_server.operations import operation
from reana_server.schemas import Message
from reana_server.workflows import (
    check_quota,
    create_run,
    get_readable_workflow,
    get_user_workflow,
)

blueprint = Blueprint("workflows", __name__)

W = "/api/workflows/<workflow_id_or_name>"
ERRORS = {400: Message, 403: Message, 404: Message, 500: Message}


def _user_id():
    return current_user().id_


@blueprint.get("/api/workflows")
@operation(
    "get_workflows",
    "List the user's workflows (filters, sorting, pagination).",
    {200: schemas.WorkflowList, **ERRORS},
    query=schemas.WorkflowListQuery,
)
def get_workflows(args):
    params = dict(args)
    if "status" in params:
        params["status"] = ",".join(params["status"])
    return forward(controller().list_workflows(_user_id(), **params))


@blueprint.post("/api/workflows")
@operation(
    "create_workflow",
    "Create a workflow and its empty workspace from a REANA specification.",
    {201: schemas.WorkflowCreated, **ERRORS, 501: Message},
    query=schemas.CreateWorkflowQuery,
    body=fields.Dict(),
    body_name="reana_specification",
    consumes=("application/json",),
)
def create_workflow(args, body):
    if "spec" in args:
        raise NotImplementedYet("Not implemented")
    session = db_session()
    created = create_run(session, current_user(), args.get("workflow_name"), body, get_config(),
                         quota_used_up(), engines=engines.installed(controller()))
    session.commit()
    response = jsonify(
        message="Workflow workspace created",
        workflow_id=str(created.id_),
        workflow_name=created.full_name,
    )
    response.status_code = 201
    return response


@blueprint.get(W + "/status")
@operation(
    "get_workflow_status",
    "Get the status and progress of a workflow run.",
    {200: schemas.WorkflowStatus, **ERRORS},
)
def get_workflow_status(workflow_id_or_name):
    return forward(controller().get_workflow_status(_user_id(), workflow_id_or_name))


def _start(workflow_id_or_name: str, body: dict, with_run_number: bool):
    session = db_session()
    user = current_user()
    workflow = get_user_workflow(session, user, workflow_id_or_name)
    queued, parameters = submission.start(session, user, workflow, body, quota_used_up())
    session.commit()
    try:
        submission.publish(user, queued, parameters)
    except Exception as error:
        from reana_db.status import set_workflow_status

        set_workflow_status(session, queued, RunStatus.failed, logs=f"Submission failed: {error}")
        session.commit()
        raise ServerError(f"The workflow could not be submitted: {error}") from error
    answer = submission.start_response(user, queued)
    if not with_run_number:
        answer.pop("run_number")
        answer["workflow_name"] = queued.full_name
    return jsonify(answer)


@blueprint.post(W + "/start")
@operation(
    "start_workflow",
    "Start a created workflow, or restart a finished or failed one.",
    {200: schemas.WorkflowStarted, **ERRORS, 409: Message, 501: Message},
    body=schemas.StartBody,
    consumes=("application/json",),
)
def start_workflow(workflow_id_or_name, body):
    return _start(workflow_id_or_name, body, with_run_number=True)


@blueprint.put(W + "/status")
@operation(
    "set_workflow_status",
    "Start, stop or delete a workflow run.",
    {200: schemas.StatusChanged, **ERRORS, 409: Message, 501: Message},
    query=schemas.StatusChangeQuery,
    body=schemas.StatusChangeBody,
    consumes=("application/json",),
)
def set_workflow_status(workflow_id_or_name, args, body):
    status = args["status"]
    if status == "start":
        return _start(workflow_id_or_name, body, with_run_number=False)
    if status == "deleted" and body.get("workspace") is False:
        raise BadRequest("Workspace must always be deleted when deleting a workflow.")
    parameters = {k: body[k] for k in ("all_runs", "workspace") if k in body}
    if status == "deleted":
        parameters.setdefault("workspace", True)
    return forward(
        controller().set_workflow_status(_user_id(), workflow_id_or_name, status, parameters)
    )


@blueprint.get(W + "/logs")
@operation(
    "get_workflow_logs",
    "Get the workflow and job logs (JSON body on GET: optional array of step names).",
    {200: schemas.WorkflowLogs, **ERRORS},
    query=schemas.Paginated,
    body=fields.List(fields.String()),
    body_name="steps",
)
def get_workflow_logs(workflow_id_or_name, args, body):
    limit = get_config().max_log_steps_filter
    if body and len(body) > limit:
        raise BadRequest(
            f"At most {limit} step names can filter the logs (REANA_MAX_LOG_STEPS_FILTER); "
            f"{len(body)} were given."
        )
    return forward(
        controller().get_workflow_logs(
            _user_id(),
            workflow_id_or_name,
            steps=body,
            page=args.get("page"),
            size=args.get("size"),
        )
    )


@blueprint.get(W + "/logs/<job_id>")
@operation(
    "get_job_logs",
    "Download one job's whole log as text (the logs answer shows at most "
    "REANA_MAX_LOG_BYTES_PER_JOB bytes of each job).",
    {200: None, **ERRORS},
    produces=("text/plain", "application/json"),
)
def get_job_logs(workflow_id_or_name, job_id):
    return stream(controller().get_job_log(_user_id(), workflow_id_or_name, job_id))


@blueprint.get(W + "/specification")
@operation(
    "get_workflow_specification",
    "Get the REANA specification and the input parameters of a run.",
    {200: schemas.WorkflowSpecification, 403: Message, 404: Message, 500: Message},
)
def get_workflow_specification(workflow_id_or_name):
    workflow = get_readable_workflow(db_session(), current_user(), workflow_id_or_name)
    return jsonify(
        specification=workflow.reana_specification or {},
        parameters=workflow.input_parameters or {},
    )


@blueprint.get(W + "/parameters")
@operation(
    "get_workflow_parameters",
    "Get the input parameters declared in the workflow's specification.",
    {200: schemas.WorkflowParameters, **ERRORS},
)
def get_workflow_parameters(workflow_id_or_name):
    return forward(controller().get_workflow_parameters(_user_id(), workflow_id_or_name))


@blueprint.get("/api/workflows/<workflow_id_or_name_a>/diff/<workflow_id_or_name_b>")
@operation(
    "get_workflow_diff",
    "Compare the specifications and workspaces of two runs.",
    {200: schemas.WorkflowDiff, **ERRORS},
    query=schemas.DiffQuery,
)
def get_workflow_diff(workflow_id_or_name_a, workflow_id_or_name_b, args):
    return forward(
        controller().get_workflow_diff(
            _user_id(),
            workflow_id_or_name_a,
            workflow_id_or_name_b,
            brief=args["brief"],
            context_lines=args["context_lines"],
        )
    )


@blueprint.get(W + "/retention_rules")
@operation(
    "get_workflow_retention_rules",
    "Get the workspace retention rules of a run.",
    {200: schemas.RetentionRules, 401: Message, 403: Message, 404: Message, 500: Message},
)
def get_workflow_retention_rules(workflow_id_or_name):
    return forward(controller().get_workflow_retention_rules(_user_id(), workflow_id_or_name))


@blueprint.get(W + "/disk_usage")
@operation(
    "get_workflow_disk_usage",
    "Get the disk usage of a workspace (JSON body on GET: summarize, search).",
    {200: schemas.DiskUsage, **ERRORS},
    body=schemas.DiskUsageBody,
)
def get_workflow_disk_usage(workflow_id_or_name, body):
    workflow = get_readable_workflow(db_session(), current_user(), workflow_id_or_name)
    return forward(
        controller().get_disk_usage(
            _user_id(), workflow.id_, summarize=body["summarize"], search=body.get("search")
        )
    )


@blueprint.post(W + "/prune")
@operation(
    "prune_workspace",
    "Delete every workspace file that is not a declared input or output.",
    {200: schemas.WorkflowMessage, **ERRORS},
    query=schemas.PruneQuery,
)
def prune_workspace(workflow_id_or_name, args):
    workflow = get_user_workflow(db_session(), current_user(), workflow_id_or_name)
    upstream = controller().prune_workspace(
        _user_id(), workflow.id_, args["include_inputs"], args["include_outputs"]
    )
    if upstream.status_code != 200:
        return forward(upstream)
    return jsonify(
        message="The workspace has been correctly pruned.",
        workflow_id=str(workflow.id_),
        workflow_name=workflow.name,
    )


SESSIONS_UNAVAILABLE = "Interactive sessions are not available yet on this REANA server."


@blueprint.post(W + "/open/<interactive_session_type>")
@operation(
    "open_interactive_session",
    "Open an interactive session (not available yet: 404).",
    {200: schemas.SessionOpened, **ERRORS},
    body=schemas.OpenSessionBody,
    body_name="interactive_session_configuration",
    consumes=("application/json",),
)
def open_interactive_session(workflow_id_or_name, interactive_session_type, body):
    get_user_workflow(db_session(), current_user(), workflow_id_or_name, status_code=404)
    check_quota(db_session(), current_user(), quota_used_up())
    raise NotFound(SESSIONS_UNAVAILABLE)


@blueprint.post(W + "/close/", strict_slashes=False)
@operation(
    "close_interactive_session",
    "Close an interactive session (not available yet: 404).",
    {200: schemas.SessionClosed, **ERRORS},
    consumes=("application/json",),
)
def close_interactive_session(workflow_id_or_name):
    get_user_workflow(db_session(), current_user(), workflow_id_or_name, status_code=404)
    raise NotFound(SESSIONS_UNAVAILABLE)
