"""RunWorkflow, ListRuns, GetRunLog, GetRunStatus, CancelRun and the run's log streams."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from reana_db.database import db_session
from reana_db.enums import RunStatus

from reana_server.api import CHUNK, controller
from reana_server.errors import BadRequest, Forbidden, ServerError
from reana_server.wes import run_views
from reana_server.wes.attachments import Attachment, Attachments, checked_name
from reana_server.wes.run_requests import WesRunRequest, json_object
from reana_server.wes.schemas import JSON_FIELDS, PageQuery, RunRequestForm
from reana_server.wes.submission import submit

blueprint = Blueprint("runs", __name__)


def _user():
    return g.reana_user


def page_args(strict: bool = True) -> dict:
    """``page_size`` and ``page_token``; a bad size is a 400 (``strict``, ListRuns) or the
    default (ListTasks, whose spec declares no 400)."""
    values = {key: request.args.get(key) for key in ("page_size", "page_token")
              if key in request.args}
    errors = PageQuery().validate(values)
    if errors:
        if strict:
            name, problems = next(iter(errors.items()))
            raise BadRequest(f"Field '{name}': {problems[0]}")
        values.pop("page_size", None)
    args = PageQuery().load(values)
    if not strict and args["page_size"] is not None and args["page_size"] < 1:
        args["page_size"] = None
    return args


@blueprint.get("/runs")
def list_runs():
    args = page_args()
    rows, token = run_views.list_runs(db_session(), _user().id_, args["page_size"],
                                      args["page_token"])
    return jsonify(runs=[run_views.run_summary(row) for row in rows], next_page_token=token)


def _form() -> dict:
    """The form's fields; JSON fields may also come as file parts (as Toil accepts)."""
    values = {key: request.form.get(key) for key in request.form}
    for key in (*JSON_FIELDS, "workflow_type", "workflow_type_version", "workflow_url"):
        part = request.files.get(key)
        if key not in values and part is not None:
            values[key] = part.read(1024 * 1024).decode("utf-8", "replace")
    errors = RunRequestForm().validate(values)
    if errors:
        name, problems = next(iter(errors.items()))
        raise BadRequest(f"Field '{name}': {problems[0]}")
    return RunRequestForm().load(values)


@blueprint.post("/runs")
def run_workflow():
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise BadRequest("RunWorkflow takes a multipart/form-data body.")
    form = _form()
    wes_request = WesRunRequest(
        workflow_type=form["workflow_type"],
        workflow_type_version=form["workflow_type_version"],
        workflow_url=form["workflow_url"],
        workflow_params=json_object("workflow_params", form["workflow_params"]),
        tags=json_object("tags", form["tags"], values_are_strings=True),
        workflow_engine_parameters=json_object(
            "workflow_engine_parameters", form["workflow_engine_parameters"]),
        workflow_engine=form["workflow_engine"] or None,
        workflow_engine_version=form["workflow_engine_version"] or None,
    )
    attachments = Attachments([
        Attachment(checked_name(part.filename), part.stream)
        for part in request.files.getlist("workflow_attachment")])
    user = _user()
    workflow = submit(db_session(), user, g.reana_quota_used_up, wes_request, attachments,
                      _uploader(user), _discarder(user))
    return jsonify(run_id=str(workflow.id_))


def upstream_error(upstream, what: str) -> ServerError:
    """The workflow controller's refusal as a WES error (a state conflict is a 403)."""
    try:
        message = upstream.json().get("message")
    except (ValueError, AttributeError):
        message = upstream.text.strip()
    status = {400: 400, 403: 403, 404: 404, 409: 403}.get(upstream.status_code, 500)
    return ServerError(f"{what}: {message}", status_code=status)


def _uploader(user):
    def upload(workflow, attachment: Attachment) -> None:
        attachment.stream.seek(0)
        upstream = controller().upload_file(user.id_, workflow.id_, attachment.name,
                                            iter(lambda: attachment.stream.read(CHUNK), b""))
        if upstream.status_code != 200:
            raise upstream_error(upstream, f"Attachment {attachment.name} could not be stored")
    return upload


def _discarder(user):
    def discard(workflow) -> None:
        controller().set_workflow_status(user.id_, workflow.id_, "deleted", {"workspace": True})
    return discard


def _run(run_id: str) -> run_views.RunRow:
    return run_views.get_run(db_session(), _user().id_, run_id)


def _read_file(user, workflow):
    def read(path: str) -> bytes | None:
        upstream = controller().download_file(user.id_, workflow.id_, path)
        try:
            return upstream.content if upstream.status_code == 200 else None
        finally:
            upstream.close()
    return read


@blueprint.get("/runs/<run_id>")
def get_run_log(run_id):
    from reana_server.api.wes import links

    row = _run(run_id)
    outputs = run_views.outputs(row, links(), _read_file(_user(), row.workflow))
    return jsonify(run_views.run_log(row, links(), outputs))


@blueprint.get("/runs/<run_id>/status")
def get_run_status(run_id):
    row = _run(run_id)
    return jsonify(run_id=str(row.workflow.id_), state=row.state)


@blueprint.post("/runs/<run_id>/cancel")
def cancel_run(run_id):
    row = _run(run_id)
    status = RunStatus(row.workflow.status)
    if status in (RunStatus.queued, RunStatus.pending, RunStatus.running):
        upstream = controller().set_workflow_status(_user().id_, row.workflow.id_, "stop", {})
        if upstream.status_code != 200 and status == RunStatus(
                _run(run_id).workflow.status):
            raise upstream_error(upstream, "The run could not be canceled")
    elif status == RunStatus.created:
        raise Forbidden("The run was created through REANA's API and not started: "
                        "there is nothing to cancel.")
    return jsonify(run_id=str(row.workflow.id_))


@blueprint.get("/runs/<run_id>/<any(stdout, stderr):stream>")
def get_run_stream(run_id, stream):
    """The engine's log of the run (REANA keeps one stream: stdout and stderr are the same)."""
    row = _run(run_id)
    upstream = controller().get_workflow_logs(_user().id_, row.workflow.id_)
    if upstream.status_code != 200:
        raise upstream_error(upstream, "The run's log could not be read")
    body = upstream.json()
    logs = body.get("logs")
    if isinstance(logs, str):
        import json

        try:
            logs = json.loads(logs)
        except ValueError:
            logs = {"workflow_logs": logs}
    text = (logs or {}).get("workflow_logs") or "" if isinstance(logs, dict) else str(logs)
    return Response(text, mimetype="text/plain")
