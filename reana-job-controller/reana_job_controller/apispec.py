"""The job controller's OpenAPI (Swagger 2.0) document, generated from its schemas."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from reana_job_controller.schemas import JobRequestSchema, JobSchema

_JOB_ID = {"in": "path", "name": "job_id", "required": True, "type": "string"}
_NOT_FOUND = {"description": "The given job ID does not seem to exist."}


def build_apispec(version: str = "0.9.4") -> dict:
    """The spec as a dict (served at ``/apispec``)."""
    spec = APISpec(title="reana-job-controller", version=version, openapi_version="2.0",
                   info={"description": "REANA Job Controller API"},
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("JobRequest", schema=JobRequestSchema)
    spec.components.schema("Job", schema=JobSchema)
    job_ref = {"$ref": "#/definitions/Job"}
    spec.path(path="/jobs", operations={
        "get": {"operationId": "get_jobs", "summary": "Returns list of all jobs.",
                "responses": {"200": {"description": "All jobs of the run, by id."}}},
        "post": {"operationId": "create_job", "summary": "Creates a new job.",
                 "parameters": [{"in": "body", "name": "job", "required": True,
                                 "schema": {"$ref": "#/definitions/JobRequest"}}],
                 "responses": {"201": {"description": "The job has been launched."},
                               "400": {"description": "Malformed request."},
                               "502": {"description": "The compute backend failed."}}},
    })
    spec.path(path="/jobs/{job_id}", operations={
        "get": {"operationId": "get_job", "summary": "Returns details about a given job.",
                "parameters": [_JOB_ID, {"in": "query", "name": "wait", "type": "number",
                                         "description": "Long-poll: seconds to wait for the "
                                                        "job to end."}],
                "responses": {"200": {"description": "The job.", "schema": job_ref},
                              "404": _NOT_FOUND}},
    })
    spec.path(path="/jobs/{job_id}/logs", operations={
        "get": {"operationId": "get_logs", "summary": "Returns the logs for a given job.",
                "parameters": [_JOB_ID], "produces": ["text/plain"],
                "responses": {"200": {"description": "The logs so far."}, "404": _NOT_FOUND}},
    })
    spec.path(path="/jobs/{job_id}/", operations={
        "delete": {"operationId": "delete_job", "summary": "Deletes a given job.",
                   "parameters": [_JOB_ID],
                   "responses": {"204": {"description": "The job is being stopped."},
                                 "404": _NOT_FOUND,
                                 "502": {"description": "The compute backend failed."}}},
    })
    spec.path(path="/shutdown", operations={
        "delete": {"operationId": "shutdown", "summary": "Stop reana-job-controller",
                   "responses": {"200": {"description": "All jobs were stopped."},
                                 "500": {"description": "Some jobs could not be stopped."}}},
    })
    return spec.to_dict()
