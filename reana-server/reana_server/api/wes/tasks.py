"""ListTasks and GetTask (WES 1.1): the run's jobs, and a job's log."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from reana_db.database import db_session

from reana_server.api import CHUNK, controller
from reana_server.errors import BadRequest, NotFound
from reana_server.wes import run_views

blueprint = Blueprint("tasks", __name__)


def _workflow(run_id: str):
    return run_views.get_run(db_session(), g.reana_user.id_, run_id).workflow


@blueprint.get("/runs/<run_id>/tasks")
def list_tasks(run_id):
    from reana_server.api.wes import links
    from reana_server.api.wes.runs import page_args

    args = page_args(strict=False)
    workflow = _workflow(run_id)
    try:
        jobs, token = run_views.list_tasks(db_session(), workflow, args["page_size"],
                                           args["page_token"])
    except BadRequest as error:  # a token not given for this list: no such page
        raise NotFound(error.message) from None
    return jsonify(task_logs=[run_views.task_log(job, links()) for job in jobs],
                   next_page_token=token)


@blueprint.get("/runs/<run_id>/tasks/<task_id>")
def get_task(run_id, task_id):
    from reana_server.api.wes import links

    job = run_views.get_task(db_session(), _workflow(run_id), task_id)
    return jsonify(run_views.task_log(job, links()))


@blueprint.get("/runs/<run_id>/tasks/<task_id>/stdout")
def get_task_stdout(run_id, task_id):
    """The job's whole log as text (the TaskLog's ``stdout`` and ``stderr`` URL)."""
    from reana_server.api.wes.runs import upstream_error

    workflow = _workflow(run_id)
    job = run_views.get_task(db_session(), workflow, task_id)
    upstream = controller().get_job_log(g.reana_user.id_, workflow.id_, job.id_)
    if upstream.status_code != 200:
        try:
            raise upstream_error(upstream, "The task's log could not be read")
        finally:
            upstream.close()
    response = Response(upstream.iter_content(CHUNK), mimetype="text/plain")
    response.call_on_close(upstream.close)
    return response
