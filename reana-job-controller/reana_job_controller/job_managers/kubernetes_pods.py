"""What a job's pod says about the job: REANA's rules plus unschedulable and deleted pods.

Pure functions over pods as the API's JSON (the watch's ``raw_object``), so
they are tested without a cluster.
"""

from __future__ import annotations

from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState

IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                "CreateContainerConfigError", "CreateContainerError")
"""Waiting reasons that never resolve by themselves: the job failed."""


def containers(pod: dict) -> list[dict]:
    status = pod.get("status") or {}
    return (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])


def unschedulable_message(pod: dict) -> str | None:
    """The scheduler's message when the pod cannot be placed on any node, else None."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if (condition.get("type") == "PodScheduled" and condition.get("status") == "False"
                and condition.get("reason") == "Unschedulable"):
            return condition.get("message") or "no node fits the pod"
    return None


def classify(pod: dict, timeout: int | None = None) -> BackendState | None:
    """The terminal state a pod shows, or None while the job may still succeed."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    if status.get("reason") == "DeadlineExceeded":
        limit = f" of {timeout} s" if timeout else ""
        return BackendState(JobStatus.failed, _exit_code(pod),
                            f"the job exceeded its time limit{limit} (kubernetes_job_timeout): "
                            f"DeadlineExceeded: {status.get('message', '')}".rstrip(": "))
    for container in containers(pod):
        terminated = (container.get("state") or {}).get("terminated") or {}
        if terminated.get("reason") == "OOMKilled":
            return BackendState(JobStatus.failed, terminated.get("exitCode"),
                                f"container {container['name']} was OOMKilled: the job used "
                                "more memory than its limit (kubernetes_memory_limit)")
    if phase == "Succeeded":
        return BackendState(JobStatus.finished, 0)
    if phase == "Failed":
        code = _exit_code(pod)
        return BackendState(JobStatus.failed, code, "" if code else
                            f"the pod failed: {status.get('reason', '')} "
                            f"{status.get('message', '')}".strip())
    for container in containers(pod):
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_ERRORS:
            return BackendState(JobStatus.failed, None,
                                f"container {container['name']} cannot start: "
                                f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": "))
    return None


def _exit_code(pod: dict) -> int | None:
    codes = [((c.get("state") or {}).get("terminated") or {}).get("exitCode")
             for c in containers(pod)]
    codes = [code for code in codes if code is not None]
    nonzero = [code for code in codes if code]
    return nonzero[0] if nonzero else (codes[0] if codes else None)
