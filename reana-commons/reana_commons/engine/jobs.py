"""Job requests as REANA's engines build them: image, name, command and per-step hints."""

from __future__ import annotations

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

    ``run`` needs only ``workflow_uuid`` and ``workspace``; ``command_for_display`` is
    what users see as the job's command (REANA's ``prettified_cmd``).
    """
    request = {
        "workflow_uuid": str(run.workflow_uuid),
        "workflow_workspace": str(run.workspace),
        "docker_img": image or "",
        "job_name": name or "",
        "prettified_cmd": command_for_display,
    }
    request.update(job_fields(hints))
    return request
