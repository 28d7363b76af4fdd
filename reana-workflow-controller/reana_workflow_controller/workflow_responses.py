"""REANA 0.9's response bodies of a run: progress, status, logs (read-only, no Flask)."""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict

from reana_commons.config import get_config
from reana_commons.live_logs import read_live_log
from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, Workflow
from reana_db.run_numbers import parse_uuid
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from reana_workflow_controller.errors import NotFound
from reana_workflow_controller.pagination import Page
from reana_workflow_controller.workflows import format_time, workflow_name

PROGRESS_COUNTERS = ("total", "running", "finished", "failed")


def _counter(job_progress: dict | None, key: str) -> dict:
    value = (job_progress or {}).get(key)
    if not isinstance(value, dict):
        return {"total": 0, "job_ids": []}
    return {"total": int(value.get("total") or 0), "job_ids": list(value.get("job_ids") or [])}


def progress_view(workflow: Workflow, include_counters: bool, current_job=None) -> dict:
    """``progress``: the three ``run_*_at`` times, plus counters and current command."""
    progress = {
        "run_started_at": format_time(workflow.run_started_at),
        "run_finished_at": format_time(workflow.run_finished_at),
        "run_stopped_at": format_time(workflow.run_stopped_at),
    }
    if include_counters:
        for key in PROGRESS_COUNTERS:
            progress[key] = _counter(workflow.job_progress, key)
        progress["current_command"] = current_job[0] if current_job else None
        progress["current_step_name"] = current_job[1] if current_job else None
    return progress


def latest_jobs(session: Session, workflow_ids: list[uuid.UUID]) -> dict:
    """``{workflow id: (prettified_cmd, job_name)}`` of each run's most recent job, in one query."""
    if not workflow_ids:
        return {}
    ranked = (
        select(
            Job.workflow_uuid,
            Job.prettified_cmd,
            Job.job_name,
            func.row_number()
            .over(partition_by=Job.workflow_uuid, order_by=(Job.created.desc(), Job.id_.desc()))
            .label("rank"),
        )
        .where(Job.workflow_uuid.in_(workflow_ids))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.workflow_uuid, ranked.c.prettified_cmd, ranked.c.job_name).where(
            ranked.c.rank == 1
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


JOB_LOG_COLUMNS = (
    Job.id_,
    Job.workflow_uuid,
    Job.job_name,
    Job.compute_backend,
    Job.backend_job_id,
    Job.docker_img,
    Job.prettified_cmd,
    Job.status,
    Job.started_at,
    Job.finished_at,
)


def _log_tail(limit: int):
    """The last ``limit`` characters of a job's logs, cut in the database (never all of it)."""
    length = func.length(Job.logs)
    return case(
        (length > limit, func.substr(Job.logs, length - limit + 1)), else_=Job.logs
    ).label("logs"), (length > limit).label("logs_truncated")


def _truncation_note(limit: int, workflow: Workflow, job_id) -> str:
    return (
        f"[Only the last {limit} bytes of this log are shown (REANA_MAX_LOG_BYTES_PER_JOB). "
        f"The whole log: GET /api/workflows/{workflow.id_}/logs/{job_id}]\n"
    )


def shown_log(job, limit: int, workflow: Workflow) -> str:
    """A job's log as one answer shows it: its last ``limit`` bytes, with a note when cut.

    ``REANA_MAX_LOG_BYTES_PER_JOB`` bounds what a status or logs answer carries
    per job; the whole log stays downloadable from ``.../logs/<job id>``.
    """
    text = job.logs or ""
    data = text.encode("utf-8", "surrogatepass")
    if not job.logs_truncated and len(data) <= limit:
        return text
    tail = data[-limit:].decode("utf-8", "ignore")
    return _truncation_note(limit, workflow, job.id_) + tail


def _running(job) -> bool:
    return job.status is not None and JobStatus(job.status) not in JobStatus.terminal()


def _live_logs(session: Session, workflow: Workflow, jobs: list, limit: int) -> dict:
    """``{job id: shown log}`` of the running ones among ``jobs``, from their live log files.

    A running job without a live file either has not written yet or ended since
    it was read (its file goes once its whole log is stored): the database is
    read again for those, so an end between the two reads loses nothing.
    """
    shown, missing = {}, []
    for job in jobs:
        if not _running(job):
            continue
        live = read_live_log(workflow.id_, job.id_, tail=limit)
        if live is None:
            missing.append(job.id_)
        elif live.truncated:
            shown[job.id_] = _truncation_note(limit, workflow, job.id_) + live.text
        else:
            shown[job.id_] = live.text
    if missing:
        query = select(Job.id_, *_log_tail(limit)).where(Job.id_.in_(missing))
        for job in session.execute(query):
            shown[job.id_] = shown_log(job, limit, workflow)
    return shown


def job_logs(
    session: Session, workflow: Workflow, steps: list[str] | None = None, page: Page | None = None
) -> OrderedDict:
    """``{job id: {the 10 keys}}`` of the run's jobs by creation, filtered by step name.

    Only the shown columns are read, as plain rows: status is polled often and a
    job row also holds its whole request (``spec``, ``env_vars``) as JSON.
    """
    limit = get_config().max_log_bytes_per_job
    query = select(*JOB_LOG_COLUMNS, *_log_tail(limit)).where(Job.workflow_uuid == workflow.id_)
    if steps:
        query = query.where(Job.job_name.in_(steps))
    query = query.order_by(Job.created, Job.id_)
    if page is not None and page.size:
        query = query.offset(page.from_idx).limit(page.size)
    jobs = session.execute(query).all()
    live = _live_logs(session, workflow, jobs, limit)
    logs = OrderedDict()
    for job in jobs:
        logs[str(job.id_)] = {
            "workflow_uuid": str(job.workflow_uuid),
            "job_name": job.job_name or "",
            "compute_backend": job.compute_backend or "",
            "backend_job_id": job.backend_job_id or "",
            "docker_img": job.docker_img or "",
            "cmd": job.prettified_cmd or "",
            "status": job.status.name if job.status is not None else "",
            "logs": live[job.id_] if job.id_ in live else shown_log(job, limit, workflow),
            "started_at": format_time(job.started_at),
            "finished_at": format_time(job.finished_at),
        }
    return logs


def job_log(session: Session, workflow: Workflow, job_id: str) -> tuple[str, str]:
    """``(job name, whole log)`` of one job of the run; another run's job is not found."""
    as_uuid = parse_uuid(job_id)
    row = None
    if as_uuid is not None:
        query = select(Job.job_name, Job.logs, Job.status).where(
            Job.id_ == as_uuid, Job.workflow_uuid == workflow.id_
        )
        row = session.execute(query).first()
    if row is None:
        raise NotFound(f"Job {job_id} does not exist in workflow {workflow_name(workflow)}.")
    if _running(row):
        live = read_live_log(workflow.id_, as_uuid)
        if live is not None:
            return row.job_name or str(as_uuid), live.text
        row = session.execute(query).first()  # ended meanwhile (or no output yet)
    return row.job_name or str(as_uuid), row.logs or ""


def status_view(session: Session, workflow: Workflow) -> dict:
    """``GET .../status``: identity, status, full progress and the jobs' logs as JSON text."""
    current = latest_jobs(session, [workflow.id_]).get(workflow.id_)
    return {
        "id": str(workflow.id_),
        "name": workflow_name(workflow),
        "created": format_time(workflow.created),
        "status": RunStatus(workflow.status).name,
        "user": str(workflow.owner_id),
        "progress": progress_view(workflow, True, current),
        "logs": json.dumps(job_logs(session, workflow)),
    }


def logs_view(
    session: Session, workflow: Workflow, steps: list[str] | None, page: Page
) -> dict:
    """``GET .../logs``: REANA's JSON-string ``logs`` (workflow, engine and job logs)."""
    logs = {
        "workflow_logs": None if steps else (workflow.logs or ""),
        "job_logs": job_logs(session, workflow, steps, page),
        "engine_specific": None if steps else _engine_specific(workflow.engine_specific),
    }
    return {
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow_name(workflow),
        "user": str(workflow.owner_id),
        "logs": json.dumps(logs),
    }


def _engine_specific(value) -> str | None:
    if value in (None, "", {}):
        return None
    return value if isinstance(value, str) else json.dumps(value)


def action_view(workflow: Workflow, message: str) -> dict:
    """Answer of ``PUT .../status``: message, run identity and its new status."""
    return {
        "message": message,
        "workflow_id": str(workflow.id_),
        "workflow_name": workflow_name(workflow),
        "status": RunStatus(workflow.status).name,
        "user": str(workflow.owner_id),
    }
