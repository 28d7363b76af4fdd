"""What one Snakemake job becomes on REANA: a shell command, an image and job fields.

A rule's ``shell:`` command runs in the workspace (which jobs see at the engine's
own absolute path), in the rule's ``container:`` image, with REANA's per-step keys
(``compute_backend``, ``kubernetes_memory_limit``, ``slurm_partition``, ...) taken
from the rule's ``resources:``. A group job is its jobs' commands one after the
other, in dependency order, as one job.

A rule without a shell command (``run:``, ``script:``, ``notebook:``, ``wrapper:``)
runs as Snakemake runs any job on a cluster: the job is Snakemake itself
(``python -m snakemake --target-jobs ... --mode remote``, the executor's
``format_job_exec``) executing that one job in the workspace, so the job's
environment (the rule's image, or the host) needs Snakemake.
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
    """A job REANA cannot send to a compute backend."""


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


def kind_of(job) -> str:
    """``shell:``, ``run:``, ``script:``, ``notebook:`` or ``wrapper:``: what the rule runs."""
    if getattr(job, "shellcmd", None):
        return "shell:"
    return "run:" if job.is_run else "script:" if job.is_script else \
        "notebook:" if job.is_notebook else "wrapper:" if job.is_wrapper else "no command"


def job_spec(job, workspace: str, snakemake_command=None) -> JobSpec:
    """The job-controller view of a Snakemake job (or group job) run in ``workspace``.

    ``snakemake_command(job)`` is the command of a job that Snakemake itself must run
    in the job (a ``run:``/``script:``... rule in it); without it such a job is an
    :class:`UnsupportedJob`.
    """
    flat = ([member for layer in job.toposorted for member in sorted(layer)]
            if job.is_group() else [job])
    first = flat[0]
    name = job.name if job.is_group() else first.rule.name
    others = [member for member in flat if kind_of(member) != "shell:"]
    if others:
        if snakemake_command is None:
            member = others[0]
            raise UnsupportedJob(f"Rule {member.rule.name}: {kind_of(member)} rules need "
                                 "Snakemake in the job, which this engine cannot start.")
        command = snakemake_command(job).strip()
        display = f"{name}: {kind_of(others[0])} rule run by Snakemake in the job: {command}"
        return JobSpec(cmd=f"cd {shlex.quote(workspace)} && {command}", image=image_of(first),
                       name=name, command_for_display=display, hints=hints_of(job))
    commands = [member.shellcmd.strip() for member in flat]
    display = " && ".join(commands)
    script = " && ".join(f"( {command} )" if len(commands) > 1 else command
                         for command in commands)
    return JobSpec(
        cmd=f"cd {shlex.quote(workspace)} && {script}",
        image=image_of(first),
        name=name,
        command_for_display=display,
        hints=hints_of(job),
    )
