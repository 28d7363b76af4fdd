"""The serial specification: which steps run (``FROM``/``TARGET``) and their job requests."""

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
"""Step keys passed through to the job request when the step sets them."""


def _option(options: dict, name: str):
    for key, value in (options or {}).items():
        if key.upper() == name:
            return value
    return None


def targeted_steps(steps: list[dict], options: dict | None) -> list[tuple[int, dict]]:
    """``(index, step)`` of the steps to run, from ``FROM`` to ``TARGET`` included.

    Step names compare case-insensitively; an unknown name leaves that end open,
    and ``FROM`` after ``TARGET`` runs the whole workflow (REANA's behaviour).
    """
    names = [str(step.get("name") or "").lower() for step in steps]
    start, end = 0, len(steps) - 1
    first = _option(options, "FROM")
    last = _option(options, "TARGET")
    if first and str(first).lower() in names:
        start = names.index(str(first).lower())
    if last and str(last).lower() in names:
        end = names.index(str(last).lower())
    if start > end:
        start, end = 0, len(steps) - 1
    return [(index, steps[index]) for index in range(start, end + 1)]


def job_request(step: dict, command: str, workflow_uuid: str, workspace: str) -> dict:
    """The job controller request fields (all but ``cmd``) of one command of ``step``."""
    request = {
        "workflow_uuid": workflow_uuid,
        "workflow_workspace": workspace,
        "docker_img": step.get("environment") or "",
        "job_name": step.get("name") or "",
        "prettified_cmd": command,
    }
    if "unpacked_image" in step and "unpacked_img" not in step:
        request["unpacked_img"] = bool(step["unpacked_image"])
    for key in JOB_FIELDS:
        value = step.get(key)
        if value not in (None, ""):
            request[key] = value
    return request
