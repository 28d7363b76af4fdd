"""Slurm's words: ``sbatch`` options, and what Slurm's job states mean for REANA.

The batch script itself is the shared job wrapper (:mod:`.batch_wrapper`).
"""

from __future__ import annotations

from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState
from reana_job_controller.job_managers.batch_wrapper import (  # noqa: F401 - Slurm's names
    UNPACKED_IMAGES_ROOT,
    batch_script,
    image_reference,
)

EXPORTED_HOST_VARIABLES = "PATH,HOME,USER,LANG"
"""Only these reach a job from the submitting environment (never the controller's secrets)."""

RUNNING_STATES = {"RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING"}
QUEUED_STATES = {"PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD",
                 "SUSPENDED", "STOPPED", "SPECIAL_EXIT"}
FAILED_STATES = {
    "FAILED": "failed",
    "TIMEOUT": "reached its time limit (TIMEOUT)",
    "OUT_OF_MEMORY": "ran out of memory (OUT_OF_MEMORY)",
    "NODE_FAIL": "lost its node (NODE_FAIL)",
    "BOOT_FAIL": "could not boot its node (BOOT_FAIL)",
    "DEADLINE": "missed its deadline (DEADLINE)",
    "PREEMPTED": "was preempted (PREEMPTED)",
    "REVOKED": "was revoked (REVOKED)",
}


def sbatch_options(*, job_name: str, log_path: str, workdir: str, partition: str,
                   time_limit: str) -> list[str]:
    """Command-line options of ``sbatch`` for one job."""
    options = ["--parsable", f"--job-name=reana-{job_name or 'job'}"[:64],
               f"--output={log_path}", f"--chdir={workdir}",
               f"--export={EXPORTED_HOST_VARIABLES}", "--nodes=1", "--ntasks=1"]
    if partition:
        options.append(f"--partition={partition}")
    if time_limit:
        options.append(f"--time={time_limit}")
    return options


def parse_exit_code(text: str) -> int | None:
    """Exit code from sacct's ``code:signal`` or squeue's raw wait status."""
    text = text.strip()
    if not text or text in ("N/A", "None"):
        return None
    if ":" in text:
        code, _, signal = text.partition(":")
        code_value, signal_value = int(code or 0), int(signal or 0)
    else:
        raw = int(text)
        code_value, signal_value = raw >> 8, raw & 0x7F
    if code_value:
        return code_value
    return 128 + signal_value if signal_value else 0


def state_for(slurm_id: str, slurm_state: str, exit_code: int | None,
              stop_requested: bool) -> BackendState:
    """REANA's view of a Slurm job state (``CANCELLED by 0`` → ``CANCELLED``)."""
    state = slurm_state.split()[0].rstrip("+") if slurm_state else ""
    if state in RUNNING_STATES:
        return BackendState(JobStatus.running)
    if state in QUEUED_STATES:
        return BackendState(JobStatus.queued)
    if state == "COMPLETED":
        return BackendState(JobStatus.finished, 0 if exit_code is None else exit_code)
    if state == "CANCELLED":
        if stop_requested:
            return BackendState(JobStatus.stopped, exit_code, f"Slurm job {slurm_id} cancelled")
        return BackendState(JobStatus.failed, exit_code,
                            f"Slurm job {slurm_id} was cancelled on the cluster (CANCELLED)")
    what = FAILED_STATES.get(state, f"ended in state {state or 'unknown'}")
    detail = f" with exit code {exit_code}" if exit_code else ""
    return BackendState(JobStatus.failed, exit_code, f"Slurm job {slurm_id} {what}{detail}")
