"""Workflow endpoints: list, create, status, logs, parameters, specification, diff, rules."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from reana_workflow_controller import listing, workflow_diff, workflow_responses, workflows
from reana_workflow_controller.api.common import (
    json_body,
    json_list_body,
    owned_workflow,
    owner,
    query,
    readable_workflow,
    session,
)
from reana_workflow_controller.errors import BadRequest, ControllerError
from reana_workflow_controller.pagination import Page
from reana_workflow_controller.schemas import (
    CreateWorkflowBody,
    CreateWorkflowQuery,
    DiffQuery,
    ListWorkflowsQuery,
    PageQuery,
    SetStatusBody,
    SetStatusQuery,
    UserQuery,
)
from reana_workflow_controller.workspace_files import content_disposition

blueprint = Blueprint("workflows", __name__, url_prefix="/api")


@blueprint.get("/workflows")
def list_workflows():
    """A user's runs, paginated (filters: status, search, type, id or name)."""
    args = query(ListWorkflowsQuery)
    user = owner(args)
    verbose = args["verbose"]
    list_query = listing.ListQuery(
        type_=args["type"],
        statuses=tuple(args["status"]),
        search=args["search"],
        sort=args["sort"],
        workflow_id_or_name=args["workflow_id_or_name"],
        include_progress=verbose if args["include_progress"] is None else args["include_progress"],
        include_workspace_size=(
            verbose if args["include_workspace_size"] is None else args["include_workspace_size"]
        ),
        verbose=verbose,
        sharing=listing.sharing_filter(args["shared"], args["shared_by"], args["shared_with"]),
    )
    page = Page(args["page"], args["size"])
    return jsonify(listing.list_workflows(session(), user, list_query, page))


@blueprint.post("/workflows")
def create_workflow():
    """Store a new run and create its workspace: 201 ``{workflow_id, workflow_name}``."""
    args = query(CreateWorkflowQuery)
    body = json_body(CreateWorkflowBody)
    user = owner(args)
    workflow = workflows.create_workflow(
        session(),
        user,
        body["reana_specification"],
        body["workflow_name"],
        operational_options=body["operational_options"],
        retention_rules=body["retention_rules"],
        git_data=body["git_data"],
        launcher_url=body["launcher_url"],
        workspace_root_path=args["workspace_root_path"],
    )
    answer = {
        "message": "Workflow workspace created",
        "workflow_id": str(workflow.id_),
        "workflow_name": workflows.workflow_name(workflow),
    }
    return jsonify(answer), 201


@blueprint.get("/workflows/<workflow_id_or_name>/status")
def get_status(workflow_id_or_name: str):
    """Status, progress and job logs of a run."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    return jsonify(workflow_responses.status_view(session(), workflow))


@blueprint.put("/workflows/<workflow_id_or_name>/status")
def set_status(workflow_id_or_name: str):
    """Start, stop or delete a run (``?status=start|stop|deleted``)."""
    args = query(SetStatusQuery)
    _, workflow = owned_workflow(args, workflow_id_or_name)
    body = json_body(SetStatusBody)
    from reana_workflow_controller import runs

    action = args["status"]
    if action == "start":
        runs.start_run(
            session(),
            workflow,
            body["input_parameters"] or {},
            body["operational_options"] or {},
        )
        message = "Workflow successfully launched"
    elif action == "stop":
        runs.stop_run(session(), workflow)
        message = "Workflow successfully stopped"
    elif action == "deleted":
        if not body["workspace"]:
            raise BadRequest("Workspace must always be deleted when deleting a workflow.")
        runs.delete_run(session(), workflow, bool(body["all_runs"]))
        message = (
            f"All workflows named {workflow.name} successfully deleted."
            if body["all_runs"]
            else "Workflow successfully deleted."
        )
    elif action == "resume":
        raise ControllerError("Status resume is not supported yet.", 501)
    else:
        raise BadRequest(
            f"Unknown status {action}: the status must be one of start, stop, deleted."
        )
    return jsonify(workflow_responses.action_view(workflow, message))


@blueprint.get("/workflows/<workflow_id_or_name>/logs")
def get_logs(workflow_id_or_name: str):
    """Workflow, engine and job logs (JSON body: step names; jobs paginated)."""
    args = query(PageQuery)
    _, workflow = readable_workflow(args, workflow_id_or_name)
    steps = json_list_body()
    page = Page(args["page"], args["size"])
    return jsonify(workflow_responses.logs_view(session(), workflow, steps, page))


@blueprint.get("/workflows/<workflow_id_or_name>/logs/<job_id>")
def get_job_log(workflow_id_or_name: str, job_id: str):
    """One job's whole log as text (the logs answer shows at most the last bytes of each)."""
    args = query(UserQuery)
    _, workflow = readable_workflow(args, workflow_id_or_name)
    job_name, logs = workflow_responses.job_log(session(), workflow, job_id)
    response = Response(logs, mimetype="text/plain")
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"{job_name}.log"
    )
    return response


@blueprint.get("/workflows/<workflow_id_or_name>/parameters")
def get_parameters(workflow_id_or_name: str):
    """The input parameters declared in the run's reana.yaml."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    return jsonify(workflows.parameters_view(workflow))


@blueprint.get("/workflows/<workflow_id_or_name>/specification")
def get_specification(workflow_id_or_name: str):
    """The run's reana.yaml as created and the parameters it was started with."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    return jsonify(workflows.specification_view(workflow))


@blueprint.get("/workflows/<workflow_id_or_name_a>/diff/<workflow_id_or_name_b>")
def get_diff(workflow_id_or_name_a: str, workflow_id_or_name_b: str):
    """Specification and workspace differences of two runs the user may read."""
    args = query(DiffQuery)
    user = owner(args)
    context_lines = workflow_diff.parse_context_lines(args["context_lines"])
    runs_ = []
    for id_or_name in (workflow_id_or_name_a, workflow_id_or_name_b):
        try:
            runs_.append(workflows.get_readable_workflow(session(), user, id_or_name))
        except ControllerError:
            raise ControllerError(f"Workflow {id_or_name} does not exist.", 404) from None
    return jsonify(workflow_diff.diff_view(runs_[0], runs_[1], args["brief"], context_lines))


@blueprint.get("/workflows/<workflow_id_or_name>/retention_rules")
def get_retention_rules(workflow_id_or_name: str):
    """The run's workspace retention rules."""
    _, workflow = readable_workflow(query(UserQuery), workflow_id_or_name)
    return jsonify(workflows.retention_rules_view(session(), workflow))
