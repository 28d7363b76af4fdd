"""The run-manager interface: how one workflow run is launched on a runtime.

A run manager owns the runtime side of a run (REANA's "batch pod"): it starts
the run's engine and job controller, tells whether they are still alive, stops
them and cleans up. It never writes statuses ("backends report, the controller
writes"): :mod:`reana_workflow_controller.runs` does, around these calls, and the
status writer and the reconciler record the reasons a manager reports
(:meth:`RunManager.end_cause`, :meth:`RunManager.problem`). A manager describes a
started run with a JSON-able *handle* dict, stored in ``reana_db.models.RunHandle``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from reana_commons.engine.jobs import WorkflowResources
from reana_commons.workflow_types import UnknownWorkflowType, workflow_type
from reana_db.models import Workflow

ENGINE_ENDED_CLEANLY = "its engine ended successfully but its final status never arrived"
"""The reconciler's reason for a run whose engine exited with 0: it waits longer for it."""


class RunManagerError(RuntimeError):
    """The runtime could not start or stop a run (the message says why)."""


class RunManager(ABC):
    """Starts, watches and stops the processes of one workflow run."""

    name: str = ""

    @abstractmethod
    def start(self, workflow: Workflow, begin_attempt: Callable[[int], None] | None = None
              ) -> dict:
        """Launch the run's job controller and engine; returns the handle.

        The handle holds at least ``job_controller_url``. Raises
        :class:`RunManagerError` when the run cannot be launched. Before each
        attempt at launching (1, 2, ...) the manager calls ``begin_attempt(n)``
        and gives the engine ``REANA_RUN_ATTEMPT=n``: the status writer then
        ignores what the processes of an earlier attempt report.
        """

    @abstractmethod
    def stop(self, workflow: Workflow, handle: dict | None) -> None:
        """Stop the run's jobs (keeping their logs) and end its processes."""

    @abstractmethod
    def is_alive(self, handle: dict | None) -> bool:
        """Whether the run's engine and job controller are both still there."""

    @abstractmethod
    def cleanup(self, handle: dict | None) -> None:
        """Release what an ended run still holds (processes, scratch files)."""

    @abstractmethod
    def end_cause(self, handle: dict | None) -> str | None:
        """What ended the run's runtime from outside the run (its Job deleted...), or None.

        Asked when an engine reports its run failed: an engine ended by a
        SIGTERM only knows it was terminated ("Workflow exited unexpectedly."),
        while the runtime can tell who pulled the plug. The status writer puts
        the answer into the run's logs after the engine's words. None while the
        runtime is intact: the run failed for a reason of its own. A user stop
        also ends the runtime, but the run is already ``stopped`` by then, so
        nobody asks.
        """

    def starting(self, workflow_id) -> bool:
        """Whether the run's processes are still being started (the reconciler then waits)."""
        return False

    def problem(self, handle: dict | None) -> str | None:
        """Why the run is dead (the reconciler writes it into the run's logs), or None."""
        if self.is_alive(handle):
            return None
        if self.engine_exited_cleanly(handle):
            return ENGINE_ENDED_CLEANLY
        return "its engine or job controller process is gone"

    def engine_exited_cleanly(self, handle: dict | None) -> bool:
        """Whether the engine ended by itself with success (so its final status is on the way)."""
        return False

    def engine_logs(self, handle: dict | None) -> str:
        """The engine's own output so far ("" when the runtime keeps none)."""
        return ""


def engine_command(workflow: Workflow) -> list[str]:
    """The engine command line of ``workflow`` (REANA's ``run-<type>-workflow`` CLI)."""
    try:
        type_ = workflow_type(workflow.type_)
    except UnknownWorkflowType:
        raise RunManagerError(f"Workflow engine {workflow.type_} is not supported.") from None
    spec = workflow.reana_specification or {}
    workflow_spec = spec.get("workflow", {}) or {}
    parameters = dict((spec.get("inputs") or {}).get("parameters") or {})
    parameters.update(workflow.input_parameters or {})
    return type_.engine_argv(workflow.id_, workflow.workspace_path,
                             workflow_spec.get("specification") or {}, workflow_spec.get("file"),
                             parameters, workflow.operational_options or {})


def engine_environment(workflow: Workflow) -> dict[str, str]:
    """What the engine learns from the environment, as REANA's engines do: the workflow's
    ``resources`` (``REANA_WORKFLOW_KERBEROS``, ``REANA_MOUNT_CVMFS``), which the engine
    kit gives every job of the run."""
    return WorkflowResources.of_specification(workflow.reana_specification).environment()
