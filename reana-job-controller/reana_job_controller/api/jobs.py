"""``/jobs`` and ``/shutdown``: parse, call the controller, serialize."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from reana_job_controller.errors import JobRequestError
from reana_job_controller.schemas import JobRequestSchema, JobSchema, WaitQuerySchema

blueprint = Blueprint("jobs", __name__)

_request_schema = JobRequestSchema()
_job_schema = JobSchema()
_wait_schema = WaitQuerySchema()


def _controller():
    return current_app.extensions["job_controller"]


@blueprint.post("/jobs")
def create_job():
    """Create and launch a job (REANA's ``JobRequest``); 201 ``{"job_id"}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise JobRequestError("The request body must be a JSON object.")
    job = _controller().create_job(_request_schema.load(body))
    return jsonify({"job_id": job.id}), 201


@blueprint.get("/jobs")
def list_jobs():
    """Every job of this run, keyed by id."""
    return jsonify({"jobs": {job.id: _job_schema.dump(job) for job in _controller().list_jobs()}})


@blueprint.get("/jobs/<job_id>")
def get_job(job_id):
    """One job; with ``?wait=<s>`` answer as soon as it is terminal (long-poll)."""
    wait = _wait_schema.load(request.args)["wait"]
    controller = _controller()
    job = controller.wait_for_job(job_id, wait) if wait else controller.get_job(job_id)
    return jsonify(_job_schema.dump(job))


@blueprint.get("/jobs/<job_id>/logs")
def get_logs(job_id):
    """The job's logs as plain text (what it printed so far while it runs)."""
    return Response(_controller().job_logs(job_id), mimetype="text/plain")


@blueprint.delete("/jobs/<job_id>/")
@blueprint.delete("/jobs/<job_id>")
def delete_job(job_id):
    """Stop a job (its logs are kept); 204."""
    _controller().stop_job(job_id)
    return "", 204


@blueprint.route("/shutdown", methods=["DELETE", "GET"])
def shutdown():
    """Stop every job of the run and accept no new one; ``stopped``: how many were running.

    A job just signalled may outlive this process (its grace period before SIGKILL
    is this process's timer), which is why the caller is told how many there were.
    """
    stopped, failures = _controller().shutdown()
    if failures:
        return jsonify({"message": f"Could not stop jobs {', '.join(failures)}"}), 500
    return jsonify({"message": "All jobs stopped.", "stopped": len(stopped)})
