"""Response schemas of the provenance endpoints (issue 19; our addition to REANA's API)."""

from __future__ import annotations

from marshmallow import fields

from reana_server.schemas import Schema


class FileDigest(Schema):
    path = fields.String(metadata={"description": "Relative to the workspace."})
    sha256 = fields.String()
    size = fields.Integer()


class FileWrittenDuring(FileDigest):
    jobs = fields.List(fields.String(), metadata={
        "description": "The other jobs of the run that were running when it was written."})


class JobProvenance(Schema):
    job_id = fields.String()
    job_name = fields.String(allow_none=True)
    status = fields.String()
    image = fields.String(allow_none=True)
    image_digest = fields.String(allow_none=True, metadata={
        "description": "Where the runtime reports one (podman, a Kubernetes kubelet)."})
    command = fields.String(allow_none=True)
    compute_backend = fields.String(allow_none=True)
    runtime = fields.String(allow_none=True, metadata={
        "description": "How the job ran: podman and its version, the host sandbox, a "
                       "Kubernetes pod, Slurm with Apptainer or on the node, or 'cache'."})
    node = fields.String(allow_none=True)
    parameters = fields.Dict(metadata={"description": "Environment, resources, backend options."})
    inputs = fields.List(fields.Nested(FileDigest), allow_none=True, metadata={
        "description": "Declared inputs as they were when the job started (null: unknown)."})
    outputs = fields.List(fields.Nested(FileDigest), allow_none=True, metadata={
        "description": "Files the job created or changed, as they were when it ended."})
    outputs_during = fields.List(fields.Nested(FileWrittenDuring), allow_none=True, metadata={
        "description": "Files created or changed while this job and other jobs of the run "
                       "ran (which of them wrote each cannot be told): not in outputs."})
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    exit_code = fields.Integer(allow_none=True)
    cached = fields.Boolean()
    cached_from = fields.String(allow_none=True, metadata={
        "description": "The earlier job whose outputs were restored (CACHE=on)."})
    recorded = fields.Boolean(metadata={
        "description": "False for jobs that ended before provenance was recorded."})


class RunProvenance(Schema):
    workflow_id = fields.String()
    workflow_name = fields.String()
    status = fields.String()
    type = fields.String()
    created = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    specification = fields.Dict()
    input_parameters = fields.Dict()
    operational_options = fields.Dict()
    jobs = fields.List(fields.Nested(JobProvenance))
