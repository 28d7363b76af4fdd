"""Registry of compute backends, loaded lazily by name.

To add a backend: write ``job_managers/<name>.py`` with a
:class:`~reana_job_controller.job_managers.base.JobManager` subclass, add one
line to :data:`JOB_MANAGERS`, and add the name to the conformance suite's
parameter list (``reana-job-controller/tests/test_conformance.py``). See
``docs/adr/0002-job-managers.md``.
"""

from __future__ import annotations

from importlib import import_module

from reana_job_controller.job_managers.base import (
    BackendContext,
    BackendState,
    JobManager,
    JobRecord,
)

JOB_MANAGERS: dict[str, str] = {
    "local": "reana_job_controller.job_managers.local:LocalJobManager",
    "kubernetes": "reana_job_controller.job_managers.kubernetes:KubernetesJobManager",
    "slurm": "reana_job_controller.job_managers.slurm:SlurmJobManager",
    "slurmcern": "reana_job_controller.job_managers.slurm:SlurmJobManager",
    "htcondor": "reana_job_controller.job_managers.htcondor:HTCondorJobManager",
    "htcondorcern": "reana_job_controller.job_managers.htcondor:HTCondorJobManager",
}
"""Backend name → ``"module:Class"`` (imported on first use only)."""

__all__ = [
    "UnknownBackend",
    "JOB_MANAGERS",
    "BackendContext",
    "BackendState",
    "JobManager",
    "JobRecord",
    "known_backends",
    "load_job_manager",
    "prepare_backends",
]


class UnknownBackend(LookupError):
    """No job manager is registered under this name."""


def known_backends() -> list[str]:
    """Names of every registered backend."""
    return sorted(JOB_MANAGERS)


def load_job_manager(name: str) -> type[JobManager]:
    """The job manager class registered as ``name`` (imports its module now)."""
    try:
        target = JOB_MANAGERS[name]
    except KeyError:
        raise UnknownBackend(f"Compute backend {name} is not known.") from None
    module_name, _, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)


def prepare_backends(names) -> None:
    """Import the job managers ``names`` and the libraries they would import on first use
    (:attr:`JobManager.libraries`), skipping unknown or uninstalled ones; connects nowhere."""
    for name in dict.fromkeys(names):
        try:
            manager = load_job_manager(name)
            for library in manager.libraries:
                import_module(library)
        except (UnknownBackend, ImportError):
            continue
