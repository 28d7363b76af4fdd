"""Job requests as REANA's engines build them: image, name, command, per-step hints and
the workflow's own ``resources`` (``workflow.resources`` of reana.yaml)."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

KERBEROS_VARIABLE = "REANA_WORKFLOW_KERBEROS"
CVMFS_VARIABLE = "REANA_MOUNT_CVMFS"

JOB_FIELDS = (
    "compute_backend",
    "kerberos",
    "voms_proxy",
    "rucio",
    "unpacked_img",
    "kubernetes_uid",
    "kubernetes_memory_request",
    "kubernetes_memory_limit",
    "kubernetes_cpu_request",
    "kubernetes_cpu_limit",
    "kubernetes_job_timeout",
    "htcondor_max_runtime",
    "htcondor_accounting_group",
    "slurm_partition",
    "slurm_time",
    "c4p_cpu_cores",
    "c4p_memory_limit",
    "c4p_additional_requirements",
)
"""Per-step keys REANA passes through to the job request (a serial step's keys, a CWL
``reana`` hint's, a Snakemake rule's resources, a yadage step's ``environment.resources``)."""


@dataclass(frozen=True)
class WorkflowResources:
    """``workflow.resources`` of a run, as REANA hands them to its engines: the run manager
    sets ``REANA_WORKFLOW_KERBEROS`` (``"True"``/``"False"``) and ``REANA_MOUNT_CVMFS``
    (the repositories as a Python list literal, ``"['atlas.cern.ch']"``) in the engine's
    environment, and every job of the run gets them (a step's own ``kerberos`` wins)."""

    kerberos: bool = False
    cvmfs: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, environ=None) -> WorkflowResources:
        environ = os.environ if environ is None else environ
        kerberos = str(environ.get(KERBEROS_VARIABLE, "false")).strip().lower() in (
            "true", "1", "yes", "on", "y", "t")
        return cls(kerberos=kerberos, cvmfs=_cvmfs_repositories(environ.get(CVMFS_VARIABLE)))

    def environment(self) -> dict[str, str]:
        """The engine environment (REANA's variables) that describes these resources."""
        env = {KERBEROS_VARIABLE: str(self.kerberos)}
        if self.cvmfs:
            env[CVMFS_VARIABLE] = str(list(self.cvmfs))
        return env

    @classmethod
    def of_specification(cls, specification: dict | None) -> WorkflowResources:
        """The resources of a reana.yaml (``workflow.resources``)."""
        workflow = (specification or {}).get("workflow") or {}
        resources = workflow.get("resources") or {}
        cvmfs = resources.get("cvmfs") or ()
        return cls(kerberos=resources.get("kerberos") is True,
                   cvmfs=tuple(str(name) for name in cvmfs) if isinstance(cvmfs, list) else ())


def _cvmfs_repositories(value: str | None) -> tuple[str, ...]:
    if not value or value.strip().lower() == "false":
        return ()
    try:
        repositories = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        repositories = value.split(",")
    if isinstance(repositories, str):
        repositories = [repositories]
    return tuple(str(name).strip() for name in repositories if str(name).strip())


def job_fields(hints: dict | None) -> dict:
    """The keys of ``hints`` that are :data:`JOB_FIELDS` and set (``unpacked_image`` counts
    as ``unpacked_img``)."""
    hints = hints or {}
    fields = {}
    if "unpacked_image" in hints and "unpacked_img" not in hints:
        fields["unpacked_img"] = bool(hints["unpacked_image"])
    for key in JOB_FIELDS:
        value = hints.get(key)
        if value not in (None, ""):
            fields[key] = value
    return fields


def job_request(run, *, image: str, name: str, command_for_display: str,
                hints: dict | None = None) -> dict:
    """The submit fields (all but ``cmd``) of one job of ``run`` (an :class:`EngineRun`).

    ``run`` needs ``workflow_uuid`` and ``workspace``, and may have ``resources`` (the
    run's :class:`WorkflowResources`: CVMFS repositories for every job, Kerberos unless
    the step says otherwise); ``command_for_display`` is what users see as the job's
    command (REANA's ``prettified_cmd``).
    """
    request = {
        "workflow_uuid": str(run.workflow_uuid),
        "workflow_workspace": str(run.workspace),
        "docker_img": image or "",
        "job_name": name or "",
        "prettified_cmd": command_for_display,
    }
    resources = getattr(run, "resources", None)
    if resources is not None:
        if resources.cvmfs:
            request["cvmfs_mounts"] = str(list(resources.cvmfs))
        if resources.kerberos:
            request["kerberos"] = True
    request.update(job_fields(hints))
    return request
