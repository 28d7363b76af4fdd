"""The provenance of a run: the run's own record and one entry per job (issue 19).

Job rows of ``job_provenance`` are written by the job controller when each job ends; this
module only reads them, for the public API (``GET /api/workflows/{w}/provenance``) and the
RO-Crate export.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, JobProvenance, Workflow


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def job_entry(job: Job, record: JobProvenance | None) -> dict:
    """One job's provenance (from its job row alone when no record was written)."""
    if record is None:
        return {
            "job_id": str(job.id_), "job_name": job.job_name, "status": JobStatus(job.status).name,
            "image": job.docker_img, "image_digest": None, "command": job.cmd,
            "compute_backend": job.compute_backend, "runtime": None, "node": None,
            "parameters": {}, "inputs": None, "outputs": None, "outputs_during": None,
            "started_at": _time(job.started_at), "finished_at": _time(job.finished_at),
            "exit_code": job.exit_code, "cached": False, "cached_from": None,
            "recorded": False,
        }
    return {
        "job_id": str(job.id_), "job_name": record.job_name,
        "status": JobStatus(record.status).name, "image": record.image,
        "image_digest": record.image_digest, "command": record.command,
        "compute_backend": record.compute_backend, "runtime": record.runtime,
        "node": record.node, "parameters": record.parameters or {},
        "inputs": record.inputs, "outputs": record.outputs,
        "outputs_during": record.outputs_during,
        "started_at": _time(record.started_at), "finished_at": _time(record.finished_at),
        "exit_code": record.exit_code, "cached": bool(record.cached),
        "cached_from": str(record.cached_from) if record.cached_from else None,
        "recorded": True,
    }


def run_provenance(session: Session, workflow: Workflow) -> dict:
    """The run (specification, parameters, options, times, status) and its jobs in order."""
    rows = session.execute(
        select(Job, JobProvenance)
        .outerjoin(JobProvenance, JobProvenance.job_id == Job.id_)
        .where(Job.workflow_uuid == workflow.id_)
        .order_by(Job.created)
    ).all()
    return {
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow.full_name,
        "status": RunStatus(workflow.status).name,
        "type": workflow.type_,
        "created": _time(workflow.created),
        "started_at": _time(workflow.run_started_at),
        "finished_at": _time(workflow.run_finished_at),
        "specification": workflow.reana_specification or {},
        "input_parameters": workflow.input_parameters or {},
        "operational_options": workflow.operational_options or {},
        "jobs": [job_entry(job, record) for job, record in rows],
    }
