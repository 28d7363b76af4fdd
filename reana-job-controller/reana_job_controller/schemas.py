"""Request and response schemas of the job controller API (REANA's JobRequest and Job)."""

from __future__ import annotations

import base64
import binascii

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates
from reana_db.enums import JobStatus


class Base64Command(fields.String):
    """A shell command sent base64-encoded (REANA's ``cmd``), loaded as text."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return base64.b64decode(text.encode(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationError("cmd must be a base64-encoded UTF-8 string.") from None


class JobRequestSchema(Schema):
    """REANA 0.9's ``JobRequest`` (unknown fields are ignored)."""

    class Meta:
        unknown = EXCLUDE

    job_name = fields.String(required=True, allow_none=True)
    workflow_workspace = fields.String(required=True)
    workflow_uuid = fields.String(required=True)
    docker_img = fields.String(required=True)
    cmd = Base64Command(load_default="")
    prettified_cmd = fields.String(load_default="")
    cvmfs_mounts = fields.String(load_default="")
    env_vars = fields.Dict(keys=fields.String(), load_default=dict)
    shared_file_system = fields.Boolean(load_default=True)
    compute_backend = fields.String(allow_none=True)
    kerberos = fields.Boolean()
    voms_proxy = fields.Boolean()
    rucio = fields.Boolean()
    unpacked_img = fields.Boolean()
    kubernetes_uid = fields.Integer(allow_none=True)
    kubernetes_cpu_request = fields.String(allow_none=True)
    kubernetes_cpu_limit = fields.String(allow_none=True)
    kubernetes_memory_request = fields.String(allow_none=True)
    kubernetes_memory_limit = fields.String(allow_none=True)
    kubernetes_job_timeout = fields.Integer(allow_none=True)
    htcondor_max_runtime = fields.String(allow_none=True)
    htcondor_accounting_group = fields.String(allow_none=True)
    slurm_partition = fields.String(allow_none=True)
    slurm_time = fields.String(allow_none=True)
    c4p_cpu_cores = fields.String(allow_none=True)
    c4p_memory_limit = fields.String(allow_none=True)
    c4p_additional_requirements = fields.String(allow_none=True)
    input_files = fields.List(fields.String(), load_default=list, metadata={
        "description": "Workspace files the job reads (our addition; provenance and cache): "
                       "when empty, the files its command names."})
    output_files = fields.List(fields.String(), load_default=list, metadata={
        "description": "Workspace files, or folders ending in '/', the job writes (our "
                       "addition; provenance): files changed there while other jobs of the "
                       "run ran too are credited to this job."})

    @validates("kubernetes_job_timeout")
    def _positive_timeout(self, value, **_kwargs):
        if value is not None and value <= 0:
            raise ValidationError("kubernetes_job_timeout must be positive.")


class JobSchema(Schema):
    """REANA 0.9's ``Job`` plus our read-only extras (exit code, times, name, backend)."""

    job_id = fields.String(attribute="id")
    status = fields.Function(lambda job: JobStatus(job.status).name)
    cmd = fields.String()
    docker_img = fields.String()
    cvmfs_mounts = fields.String()
    max_restart_count = fields.Constant(0)
    restart_count = fields.Constant(0)
    exit_code = fields.Integer(allow_none=True)
    job_name = fields.String()
    compute_backend = fields.String()
    started_at = fields.DateTime(format="%Y-%m-%dT%H:%M:%S", allow_none=True)
    finished_at = fields.DateTime(format="%Y-%m-%dT%H:%M:%S", allow_none=True)


class WaitQuerySchema(Schema):
    """``GET /jobs/<id>?wait=<seconds>``: long-poll until the job ends."""

    class Meta:
        unknown = EXCLUDE

    wait = fields.Float(load_default=0.0, validate=lambda v: 0 <= v <= 3600)
