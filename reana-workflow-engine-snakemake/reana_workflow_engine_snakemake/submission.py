"""What one Snakemake job becomes on REANA: a shell command, an image and job fields.

A rule's ``shell:`` command runs in the workspace (which jobs see at the engine's
own absolute path), in the rule's ``container:`` image, with REANA's per-step keys
(``compute_backend``, ``kubernetes_memory_limit``, ``slurm_partition``, ...) taken
from the rule's ``resources:``. A group job is its jobs' commands one after the
other, in dependency order, as one job.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

import snakemake
from reana_commons.engine.jobs import JOB_FIELDS, job_fields

DEFAULT_IMAGE = os.environ.get(
    "REANA_DEFAULT_SNAKEMAKE_ENV_IMAGE", f"docker.io/snakemake/snakemake:v{snakemake.__version__}"
)
"""Image of rules without ``container:`` (REANA: the Snakemake image of its version)."""


class UnsupportedJob(Exception):
    """A job REANA cannot send to a compute backend (a ``run:``/``script:`` rule)."""


@dataclass(frozen=True)
class JobSpec:
    """One job as the job controller receives it."""

    cmd: str
    """The shell string run by the job (``cd <workspace> && ...``)."""
    image: str
    name: str
    """The rule's name (REANA's ``job_name``: the run's current step)."""
    command_for_display: str
    hints: dict
    """REANA's per-step keys (:data:`reana_commons.engine.jobs.JOB_FIELDS`)."""


def image_of(job) -> str:
    """The job's ``container:`` image without ``docker://``, or :data:`DEFAULT_IMAGE`."""
    url = getattr(job, "container_img_url", None)
    if not url:
        return DEFAULT_IMAGE
    return url.removeprefix("docker://")


def hints_of(job) -> dict:
    """REANA's per-step keys among the job's resources; ``threads`` → ``kubernetes_cpu_request``.

    Snakemake passes string resources through (``compute_backend="slurmcern"``);
    a rule's threads become its CPU request on Kubernetes unless the rule sets
    ``kubernetes_cpu_request`` itself.
    """
    resources = job.resources
    hints = {key: resources.get(key) for key in (*JOB_FIELDS, "unpacked_image")
             if resources.get(key) is not None}
    threads = getattr(job, "threads", 1) or 1
    if threads > 1 and "kubernetes_cpu_request" not in hints:
        hints["kubernetes_cpu_request"] = str(threads)
    fields = job_fields(hints)
    for key in ("kubernetes_uid", "kubernetes_job_timeout"):  # integers in REANA's job request
        if key in fields:
            fields[key] = int(fields[key])
    for key, value in fields.items():
        if key not in ("kubernetes_uid", "kubernetes_job_timeout") and not isinstance(value, bool):
            fields[key] = str(value)
    return fields


def shell_command_of(job) -> str:
    """The rule's formatted ``shell:`` command; :class:`UnsupportedJob` for other rules."""
    command = getattr(job, "shellcmd", None)
    if not command:
        kind = "run:" if job.is_run else "script:" if job.is_script else \
            "notebook:" if job.is_notebook else "wrapper:" if job.is_wrapper else "non-shell"
        raise UnsupportedJob(
            f"Rule {job.rule.name}: {kind} rules cannot run on REANA; only shell: rules "
            "are sent to compute backends (declare it in localrules to run it in the engine)."
        )
    return command.strip()


def job_spec(job, workspace: str) -> JobSpec:
    """The job-controller view of a Snakemake job (or group job) run in ``workspace``."""
    flat = ([member for layer in job.toposorted for member in sorted(layer)]
            if job.is_group() else [job])
    commands = [shell_command_of(member) for member in flat]
    first = flat[0]
    display = " && ".join(commands)
    script = " && ".join(f"( {command} )" if len(commands) > 1 else command
                         for command in commands)
    return JobSpec(
        cmd=f"cd {shlex.quote(workspace)} && {script}",
        image=image_of(first),
        name=job.name if job.is_group() else first.rule.name,
        command_for_display=display,
        hints=hints_of(job),
    )
