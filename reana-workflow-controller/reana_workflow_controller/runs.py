"""Start, stop and delete workflow runs (status changes around the run manager).

The REST API calls these with its request session. Statuses change only
through :mod:`reana_db.status`; the runtime side is the configured run manager.
``start_run`` commits itself: the run must be ``pending`` (and its handle
recorded) in the database *before* its engine can publish ``running``,
otherwise the job-status consumer would see a ``queued → running`` jump.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from reana_commons import metrics
from reana_commons.config import get_config
from reana_commons.errors import REANAError
from reana_db.enums import RunStatus
from reana_db.locking import lock_run
from reana_db.models import RunHandle, Workflow
from reana_db.status import set_workflow_status
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reana_workflow_controller.run_managers import RunManagerError, get_run_manager
from reana_workflow_controller.sessions import close_sessions_of

log = logging.getLogger(__name__)

STARTABLE = (RunStatus.created, RunStatus.queued)
STOPPABLE = (RunStatus.queued, RunStatus.pending, RunStatus.running)


class RunStateError(REANAError):
    """A start/stop/delete that the run's status does not allow (409 unless said)."""

    def __init__(self, message: str, status_code: int = 409):
        super().__init__(message, status_code=status_code)


def start_run(
    session: Session, workflow: Workflow, input_parameters: dict, operational_options: dict
) -> None:
    """Launch a created/queued run on the runtime; the run becomes ``pending``."""
    workflow = lock_run(session, workflow.id_) or workflow
    status = RunStatus(workflow.status)
    if status == RunStatus.deleted:
        raise RunStateError(f"Workflow {workflow.id_} has been deleted.", 404)
    if status not in STARTABLE:
        raise RunStateError(
            f"Workflow {workflow.full_name} is already {status.name} and cannot be started "
            "again.",
            409,
        )
    if input_parameters:
        workflow.input_parameters = dict(input_parameters)
    if operational_options:
        workflow.operational_options = dict(operational_options)
    manager = get_run_manager()
    if status == RunStatus.created:
        set_workflow_status(session, workflow, RunStatus.queued)
    set_workflow_status(session, workflow, RunStatus.pending)
    _reset_handle(session, workflow.id_, manager.name)
    session.commit()
    metrics.observe_since(metrics.SCHEDULING_SECONDS.labels("queued_to_pending"),
                          workflow.queued_at, workflow.pending_at)
    run_id = workflow.id_
    try:
        handle = manager.start(workflow, lambda attempt: begin_attempt(session, run_id, attempt))
    except RunManagerError as error:
        _fail_start(session, workflow, str(error))
        message = f"Workflow {workflow.id_} could not be started: {error}"
        raise RunStateError(message, 500) from error
    except Exception as error:
        _fail_start(session, workflow, repr(error))
        raise
    record_handle(session, run_id, manager, handle)


def _reset_handle(session: Session, run_id, runtime: str) -> None:
    """The run's handle row, emptied for a new start (the caller holds the run's lock)."""
    run_handle = session.get(RunHandle, run_id, populate_existing=True)
    if run_handle is None:
        session.add(RunHandle(workflow_id=run_id, runtime=runtime))
        return
    run_handle.runtime = runtime
    run_handle.handle = None
    run_handle.job_controller_url = None
    run_handle.attempt = None


def _update_handle(session: Session, run_id, **values) -> None:
    """Write these columns of the run's handle row only (the others have other writers)."""
    session.execute(update(RunHandle).where(RunHandle.workflow_id == run_id).values(**values))


def begin_attempt(session: Session, run_id, attempt: int) -> None:
    """Record (committed) that the run's processes are being started for the ``attempt``-th
    time: from now on the status writer ignores the reports of earlier attempts."""
    _update_handle(session, run_id, attempt=attempt)
    session.commit()


def record_handle(session: Session, run_id, manager, handle: dict) -> None:
    """Store the started run's handle, only its own columns (the status writer keeps
    ``status_seq``): one SQL update under the run's lock, so neither erases the other.

    A run that already ended (a fast run, or one stopped while it started)
    had no handle for its status writer to clean up with: its processes are
    ended here.
    """
    workflow = lock_run(session, run_id)
    _update_handle(
        session, run_id, handle=handle, job_controller_url=handle.get("job_controller_url")
    )
    ended = workflow is None or RunStatus(workflow.status) not in RunStatus.alive()
    session.commit()
    if ended:
        manager.stop(workflow, handle)
        manager.cleanup(handle)


def _fail_start(session: Session, workflow: Workflow, reason: str) -> None:
    session.rollback()
    session.refresh(workflow)
    if RunStatus(workflow.status) == RunStatus.pending:
        set_workflow_status(
            session, workflow, RunStatus.failed, logs=f"Workflow could not be started: {reason}"
        )
    session.commit()


def stop_run(session: Session, workflow: Workflow) -> None:
    """Stop a queued, pending or running run: status first, then its processes."""
    workflow = lock_run(session, workflow.id_) or workflow
    status = RunStatus(workflow.status)
    if status not in STOPPABLE:
        raise RunStateError(f"Workflow {workflow.id_} is not running.", 409)
    set_workflow_status(session, workflow, RunStatus.stopped)
    run_handle = session.get(RunHandle, workflow.id_)
    # Committed before the processes end: the engine's "failed" on SIGTERM then
    # meets a stopped run and changes nothing.
    session.commit()
    if status != RunStatus.queued and run_handle is not None:
        manager = get_run_manager(run_handle.runtime)
        manager.stop(workflow, run_handle.handle)
        manager.cleanup(run_handle.handle)


def delete_run(session: Session, workflow: Workflow, all_runs: bool) -> list[Workflow]:
    """Delete a run (or all runs of its name) and their workspaces (REANA semantics)."""
    workflow = lock_run(session, workflow.id_) or workflow
    if RunStatus(workflow.status) == RunStatus.running:
        raise RunStateError(
            f"Workflow {workflow.full_name} cannot be deleted as it is currently running.", 500
        )
    targets = [workflow]
    if all_runs:
        targets = list(
            session.scalars(
                select(Workflow)
                .where(
                    Workflow.owner_id == workflow.owner_id,
                    Workflow.name == workflow.name,
                    Workflow.status != RunStatus.running,
                )
                .order_by(Workflow.created)
            )
        )
    deleted, workspaces = [], []
    for run in targets:
        status = RunStatus(run.status)
        if status == RunStatus.pending:
            _end_processes(session, run)
        if status != RunStatus.deleted:
            set_workflow_status(session, run, RunStatus.deleted)
        if run.workspace_path and run.workspace_path not in workspaces:
            workspaces.append(run.workspace_path)
        deleted.append(run)
    session.commit()
    for run in deleted:  # their Jupyter servers end before their workspaces go
        close_sessions_of(session, run, "its workflow was deleted")
    for path in workspaces:
        _remove_workspace(path)
    return deleted


def _end_processes(session: Session, workflow: Workflow) -> None:
    run_handle = session.get(RunHandle, workflow.id_)
    if run_handle is None:
        return
    try:
        manager = get_run_manager(run_handle.runtime)
        manager.stop(workflow, run_handle.handle)
        manager.cleanup(run_handle.handle)
    except RunManagerError as error:
        log.warning("could not end the processes of %s: %s", workflow.id_, error)


def _remove_workspace(path: str) -> None:
    """Remove a run's workspace, only if it lies inside the shared volume."""
    workspace = Path(path).resolve()
    root = get_config().shared_volume_path.resolve()
    if workspace == root or root not in workspace.parents:
        log.warning("refusing to remove %s: outside %s", workspace, root)
        return
    shutil.rmtree(workspace, ignore_errors=True)
