"""HTCondor's words: the submit description of a step, its wrapper, and what job ads mean.

The description (``condor_submit`` syntax) runs one wrapper script with the step's command
base64-encoded in ``arguments`` (so no quoting rule of the submit language can bite), the
step's environment in ``environment`` (new syntax), ``request_cpus``/``request_memory``,
CERN's ``+JobFlavour`` (a flavour name in ``htcondor_max_runtime``) or ``+MaxRuntime``
(seconds), ``accounting_group`` (``htcondor_accounting_group``), and the container universe
with ``container_image`` when the step has an image.

Files: ``should_transfer_files = NO`` runs the job in the workspace (a file system shared
with the execute nodes); ``YES`` sends the workspace's content (``transfer_input_files =
<workspace>/``) and brings back one tarball of the files the job created or changed (the
wrapper packs them; HTCondor would not scan existing subfolders), which the backend unpacks.
"""

from __future__ import annotations

import base64
import re

from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState
from reana_job_controller.job_managers.batch_wrapper import image_reference
from reana_job_controller.quantities import memory_bytes

FLAVOURS = ("espresso", "microcentury", "longlunch", "workday", "tomorrow", "testmatch",
            "nextweek")
"""CERN's job flavours (20 min, 1 h, 2 h, 8 h, 1 d, 3 d, 1 week), REANA's htcondor_max_runtime."""
OUTPUTS_TARBALL = "_reana_outputs.tar"
QUERY_ATTRIBUTES = ("ClusterId", "ProcId", "JobStatus", "ExitCode", "ExitBySignal", "ExitSignal",
                    "HoldReason", "HoldReasonCode", "RemoveReason", "NumJobStarts")
WAIT_HOLD_CODES = {16, 35}
"""Held for spooling input (16) or a transient image problem (35): REANA waits for these."""

WRAPPER = r"""#!/bin/bash
# REANA's HTCondor job wrapper: arguments = <shared|transfer> <base64 of the step's command>
exec 2>&1
mode=$1
cmd=$(printf '%s' "$2" | base64 -d) || { echo "[reana] cannot decode the command"; exit 2; }
if [ -e /.singularity.d ] || [ -e /run/.containerenv ] || [ -e /.dockerenv ]; then
  where="in a container (image ${REANA_HTCONDOR_IMAGE:--})"
else
  where="directly on the node, image ${REANA_HTCONDOR_IMAGE:--} not used"
fi
echo "[reana] HTCondor job on $(hostname) $where"
if [ "$mode" = transfer ]; then
  export REANA_WORKSPACE=$PWD
  touch .reana_job_start
  pack() {
    find . -newer .reana_job_start \( -type f -o -type l \) ! -name .reana_job_start \
      ! -name _condor_stdout ! -name _condor_stderr ! -name "$(basename "$0")" \
      ! -name '""" + OUTPUTS_TARBALL + r"""' -print0 |
      tar --null -cf '""" + OUTPUTS_TARBALL + r"""' -T -
  }
  trap pack EXIT
  bash -c "$cmd"
  exit $?
fi
exec bash -c "$cmd"
"""


def _quote(value: str) -> str:
    """One value in HTCondor's new argument/environment syntax (single-quoted)."""
    return "'" + value.replace("'", "''").replace('"', '""') + "'"


def check_environment(env: dict) -> None:
    """Refuse what HTCondor's ``environment`` command cannot carry (names, line breaks)."""
    for name, value in (env or {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
            raise ValueError(f"environment variable name {name!r} cannot be given to HTCondor")
        if "\n" in str(value) or "\r" in str(value):
            raise ValueError(f"environment variable {name} has a line break, which HTCondor's "
                             "environment command cannot carry")


def environment_value(env: dict[str, str]) -> str:
    check_environment(env)
    items = [f"{name}={_quote(str(value))}" for name, value in sorted(env.items())]
    return '"' + " ".join(items) + '"'


def runtime_commands(max_runtime) -> list[str]:
    """``+JobFlavour`` for a flavour name, ``+MaxRuntime`` for seconds (REANA's two forms)."""
    if max_runtime in (None, ""):
        return []
    text = str(max_runtime).strip()
    if text.lower() in FLAVOURS:
        return [f'+JobFlavour = "{text.lower()}"']
    if text.isdigit() and int(text) > 0:
        return [f"+MaxRuntime = {int(text)}"]
    raise ValueError(f"htcondor_max_runtime {text!r} is neither a number of seconds nor one "
                     f"of {', '.join(FLAVOURS)}")


def memory_megabytes(limit: str | None) -> int | None:
    """A Kubernetes-style memory quantity (``2Gi``, ``500M``) → MiB for request_memory."""
    size = memory_bytes(limit)
    return None if size is None else max(int(size // (1024 * 1024)), 1)


def submit_description(*, wrapper: str, cmd: str, workdir: str, transfer: bool, env: dict,
                       image: str, unpacked: bool, out: str, err: str, outputs: str,
                       job_name: str, cpus: int | None, memory_mb: int | None,
                       max_runtime, accounting_group: str | None) -> str:
    """The text given to ``condor_submit`` for one step."""
    encoded = base64.b64encode(cmd.encode()).decode()
    environment = dict(env)
    if image:
        environment["REANA_HTCONDOR_IMAGE"] = image
    lines = [
        f"universe = {'container' if image else 'vanilla'}",
        f"executable = {wrapper}",
        f"arguments = \"{'transfer' if transfer else 'shared'} {encoded}\"",
        f"environment = {environment_value(environment)}",
        f"initialdir = {workdir}",
        f"output = {out}",
        f"error = {err}",
        f"batch_name = reana-{re.sub(r'[^A-Za-z0-9_.-]', '_', job_name or 'job')}",
        f"request_cpus = {cpus or 1}",
    ]
    if image:
        lines.append(f"container_image = {image_reference(image, unpacked)}")
    if memory_mb:
        lines.append(f"request_memory = {memory_mb}")
    if transfer:
        lines += ["should_transfer_files = YES", "when_to_transfer_output = ON_EXIT",
                  f"transfer_input_files = {workdir.rstrip('/')}/",
                  f"transfer_output_files = {OUTPUTS_TARBALL}",
                  f'transfer_output_remaps = "{OUTPUTS_TARBALL}={outputs}"',
                  "stream_output = True", "stream_error = True"]
    else:
        lines.append("should_transfer_files = NO")
    lines += runtime_commands(max_runtime)
    if accounting_group:
        lines.append(f"accounting_group = {accounting_group}")
    lines.append("queue 1")
    return "\n".join(lines) + "\n"


def state_for(cluster: str, ad: dict, stop_requested: bool) -> BackendState:
    """REANA's view of one job ad from ``condor_q``/``condor_history``."""
    status = ad.get("JobStatus")
    starts = ad.get("NumJobStarts") or 0
    evicted = f" (after {starts - 1} eviction(s))" if starts > 1 else ""
    if status in (1, 7):
        return BackendState(JobStatus.queued)
    if status in (2, 6):
        return BackendState(JobStatus.running)
    if status == 4:
        if ad.get("ExitBySignal"):
            signal = ad.get("ExitSignal") or 0
            return BackendState(JobStatus.failed, 128 + signal,
                                f"HTCondor job {cluster} was killed by signal {signal}{evicted}")
        code = ad.get("ExitCode")
        code = 0 if code is None else int(code)
        if code == 0:
            return BackendState(JobStatus.finished, 0, evicted.strip(" ()") and
                                f"HTCondor job {cluster} completed{evicted}")
        return BackendState(JobStatus.failed, code,
                            f"HTCondor job {cluster} failed with exit code {code}{evicted}")
    if status == 3:
        reason = ad.get("RemoveReason") or "removed"
        if stop_requested:
            return BackendState(JobStatus.stopped, None, f"HTCondor job {cluster} removed")
        return BackendState(JobStatus.failed, None,
                            f"HTCondor job {cluster} was removed: {reason}{evicted}")
    if status == 5:
        code = ad.get("HoldReasonCode")
        if code in WAIT_HOLD_CODES:
            return BackendState(JobStatus.queued)
        return BackendState(JobStatus.failed, None,
                            f"HTCondor job {cluster} was held (HoldReasonCode {code}): "
                            f"{ad.get('HoldReason') or 'no reason given'}")
    return BackendState(JobStatus.failed, None,
                        f"HTCondor job {cluster} is in an unknown state {status!r}")
