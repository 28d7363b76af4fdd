"""What WES shows of runs: lists (paginated), RunSummary, RunLog, TaskLog, state counts.

Runs are read from the database (the user's own, never deleted ones); logs and
output files are served through the workflow controller by the blueprint, at
the URLs built by :class:`Links`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

from reana_db.enums import JobStatus, RunStatus
from reana_db.models import Job, WesRunRequest, Workflow
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from reana_server.errors import BadRequest, NotFound
from reana_server.wes.states import wes_state

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_A_JOB_FAILED = (
    exists()
    .where(Job.workflow_uuid == Workflow.id_,
           or_(Job.status == JobStatus.failed, and_(Job.exit_code.is_not(None),
                                                    Job.exit_code != 0)))
    .correlate(Workflow)
    .label("a_job_failed")
)


@dataclass
class RunRow:
    """A run with what its WES state and request need."""

    workflow: Workflow
    a_job_failed: bool
    request: dict | None

    @property
    def state(self) -> str:
        return wes_state(self.workflow.status, self.a_job_failed)


@dataclass
class Links:
    """Absolute URLs of a run's logs and files (``root``: the server's public root)."""

    root: str
    prefix: str = "/ga4gh/wes/v1"

    def run_log(self, run_id, stream: str) -> str:
        return f"{self.root}{self.prefix}/runs/{run_id}/{stream}"

    def task_log(self, run_id, task_id) -> str:
        return f"{self.root}{self.prefix}/runs/{run_id}/tasks/{task_id}/stdout"

    def tasks(self, run_id) -> str:
        return f"{self.root}{self.prefix}/runs/{run_id}/tasks"

    def file(self, run_id, path: str) -> str:
        return f"{self.root}/api/workflows/{run_id}/workspace/{path}"


def page_size(value: int | None) -> int:
    """The page size asked for (default 50, at most 1000), or 400."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if value < 1:
        raise BadRequest("page_size must be at least 1.")
    return min(value, MAX_PAGE_SIZE)


def _token(created: datetime, id_: uuid.UUID) -> str:
    raw = f"{created.isoformat()}|{id_}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str | None):
    """The (created, id) a page token stands for, or 400."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created, _, id_ = raw.partition("|")
        return datetime.fromisoformat(created), uuid.UUID(id_)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("page_token is not a token this server gave.") from None


def _row(found) -> RunRow:
    workflow, failed, request = found
    return RunRow(workflow, bool(failed), request)


def _runs_of(owner_id: uuid.UUID):
    return (
        select(Workflow, _A_JOB_FAILED, WesRunRequest.request)
        .outerjoin(WesRunRequest, WesRunRequest.workflow_id == Workflow.id_)
        .where(Workflow.owner_id == owner_id, Workflow.status != RunStatus.deleted)
    )


def list_runs(session: Session, owner_id: uuid.UUID, size: int | None,
              token: str | None) -> tuple[list[RunRow], str]:
    """A page of the user's runs, newest first, and the next page's token ("" at the end)."""
    size = page_size(size)
    query = _runs_of(owner_id)
    after = _after(token)
    if after:
        created, id_ = after
        query = query.where(or_(Workflow.created < created,
                                and_(Workflow.created == created, Workflow.id_ < id_)))
    found = session.execute(
        query.order_by(Workflow.created.desc(), Workflow.id_.desc()).limit(size + 1)).all()
    rows = [_row(f) for f in found[:size]]
    more = len(found) > size
    return rows, _token(rows[-1].workflow.created, rows[-1].workflow.id_) if more else ""


def get_run(session: Session, owner_id: uuid.UUID, run_id: str) -> RunRow:
    """The user's run ``run_id`` (a UUID), or 404."""
    try:
        id_ = uuid.UUID(run_id)
    except ValueError:
        raise NotFound(f"Run {run_id} not found.") from None
    found = session.execute(_runs_of(owner_id).where(Workflow.id_ == id_)).first()
    if found is None:
        raise NotFound(f"Run {run_id} not found.")
    return _row(found)


def state_counts(session: Session, owner_id: uuid.UUID) -> dict[str, int]:
    """How many of the user's runs are in each WES state."""
    query = (select(Workflow.status, _A_JOB_FAILED, func.count())
             .where(Workflow.owner_id == owner_id, Workflow.status != RunStatus.deleted)
             .group_by(Workflow.status, _A_JOB_FAILED))
    counts: dict[str, int] = {}
    for status, failed, count in session.execute(query):
        state = wes_state(status, bool(failed))
        counts[state] = counts.get(state, 0) + count
    return counts


def _time(value: datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value else None


def _tags(row: RunRow) -> dict[str, str]:
    tags = dict((row.request or {}).get("tags") or {})
    tags["reana_workflow_name"] = row.workflow.full_name
    return {str(k): str(v) for k, v in tags.items()}


def run_summary(row: RunRow) -> dict:
    """A RunSummary (RunStatus + start/end times + tags)."""
    workflow = row.workflow
    body = {"run_id": str(workflow.id_), "state": row.state}
    started = _time(workflow.run_started_at)
    ended = _time(workflow.run_finished_at or workflow.run_stopped_at)
    if started:
        body["start_time"] = started
    if ended:
        body["end_time"] = ended
    body["tags"] = _tags(row)
    return body


def run_request(row: RunRow) -> dict:
    """The RunRequest a run was submitted with (a REANA run's is made from its columns)."""
    if row.request:
        return row.request
    workflow = row.workflow
    spec = workflow.reana_specification or {}
    return {
        "workflow_params": workflow.input_parameters or {},
        "workflow_type": "REANA",
        "workflow_type_version": str(spec.get("version") or ""),
        "tags": {},
        "workflow_engine_parameters": {k: str(v) for k, v in
                                       (workflow.operational_options or {}).items()},
        "workflow_url": "reana.yaml",
        "workflow_engine": workflow.type_,
    }


def run_log(row: RunRow, links: Links, outputs: dict) -> dict:
    """A RunLog: the request, the engine's log (as URLs), the tasks' URL, the outputs."""
    workflow = row.workflow
    log = {"name": workflow.full_name, "cmd": [f"run-{workflow.type_}-workflow"],
           "stdout": links.run_log(workflow.id_, "stdout"),
           "stderr": links.run_log(workflow.id_, "stderr"), "system_logs": []}
    summary = run_summary(row)
    for key in ("start_time", "end_time"):
        if key in summary:
            log[key] = summary[key]
    return {
        "run_id": str(workflow.id_),
        "request": run_request(row),
        "state": row.state,
        "run_log": log,
        "task_logs_url": links.tasks(workflow.id_),
        "task_logs": None,
        "outputs": outputs,
    }


def list_tasks(session: Session, workflow: Workflow, size: int | None,
               token: str | None) -> tuple[list[Job], str]:
    """A page of the run's jobs, oldest first, and the next page's token."""
    size = page_size(size)
    query = select(Job).where(Job.workflow_uuid == workflow.id_)
    after = _after(token)
    if after:
        created, id_ = after
        query = query.where(or_(Job.created > created,
                                and_(Job.created == created, Job.id_ > id_)))
    jobs = list(session.scalars(query.order_by(Job.created, Job.id_).limit(size + 1)))
    more = len(jobs) > size
    jobs = jobs[:size]
    return jobs, _token(jobs[-1].created, jobs[-1].id_) if more else ""


def get_task(session: Session, workflow: Workflow, task_id: str) -> Job:
    """The job ``task_id`` of the run, or 404."""
    try:
        id_ = uuid.UUID(task_id)
    except ValueError:
        raise NotFound(f"Task {task_id} not found.") from None
    job = session.scalars(
        select(Job).where(Job.workflow_uuid == workflow.id_, Job.id_ == id_)).first()
    if job is None:
        raise NotFound(f"Task {task_id} not found.")
    return job


def task_log(job: Job, links: Links) -> dict:
    """A TaskLog of one job (its log as a URL; backend, image and backend id as system logs)."""
    body = {"id": str(job.id_), "name": job.job_name or "job",
            "cmd": [job.prettified_cmd or job.cmd or ""],
            "stdout": links.task_log(job.workflow_uuid, job.id_),
            "stderr": links.task_log(job.workflow_uuid, job.id_),
            "system_logs": [f"{name}: {value}" for name, value in (
                ("status", JobStatus(job.status).name), ("compute_backend", job.compute_backend),
                ("docker_img", job.docker_img), ("backend_job_id", job.backend_job_id))
                if value]}
    if job.started_at:
        body["start_time"] = _time(job.started_at)
    if job.finished_at:
        body["end_time"] = _time(job.finished_at)
    if job.exit_code is not None:
        body["exit_code"] = job.exit_code
    return body


def outputs(row: RunRow, links: Links, read_file) -> dict:
    """A complete run's outputs: a CWL run's output object (locations as download URLs),
    else the reana.yaml's ``outputs`` files and directories by path. ``read_file(path)``
    reads a workspace file (None when it is not there)."""
    if row.state != "COMPLETE":
        return {}
    workflow = row.workflow
    if workflow.type_ == "cwl":
        import json

        data = read_file("cwl/outputs.json")
        try:
            found = json.loads(data) if data else {}
        except ValueError:
            found = {}
        roots = {f"file://{workflow.workspace_path}".rstrip("/") + "/",
                 f"{workflow.workspace_path}".rstrip("/") + "/"}
        return _download_urls(found, roots, links, workflow.id_) if isinstance(found, dict) \
            else {}
    declared = (workflow.reana_specification or {}).get("outputs") or {}
    return {path: links.file(workflow.id_, path)
            for key in ("files", "directories") for path in declared.get(key) or []
            if isinstance(path, str)}


def _download_urls(node, roots: set[str], links: Links, run_id):
    if isinstance(node, list):
        return [_download_urls(item, roots, links, run_id) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _download_urls(value, roots, links, run_id) for key, value in node.items()}
    for key in ("location", "path"):
        value = copy.get(key)
        if isinstance(value, str):
            for root in roots:
                if value.startswith(root):
                    copy[key] = links.file(run_id, value[len(root):])
    return copy
