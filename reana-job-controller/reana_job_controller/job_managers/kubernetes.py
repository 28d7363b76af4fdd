"""The ``kubernetes`` backend: one ``batch/v1`` Job per step, followed with the watch API.

A job is the Job ``reana-run-job-<job id>`` (its backend id) running
``bash -c <cmd>`` in the workspace, mounted from the shared volume at its own
path. The run owner's secrets go into the Secret ``reana-secretsstore-<user>``
(created or updated from the database on the first job): env secrets as
``secretKeyRef``s, file secrets as a read-only volume at
``REANA_USER_SECRET_MOUNT_PATH``.

Following is an informer: one thread lists the run's pods, then watches them
from that resource version (re-listing after any error or the watch's timeout),
keeps them in memory and pushes an end as soon as a pod shows one (see
:mod:`.kubernetes_pods`). :meth:`status` answers from that cache, so the
controller's periodic resync costs no API request; it also ends jobs whose pod
stayed unschedulable longer than ``REANA_KUBERNETES_JOBS_UNSCHEDULABLE_TIMEOUT``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence

from reana_commons.config import get_config
from reana_commons.k8s import api, objects
from reana_db.enums import JobStatus

from reana_job_controller.job_managers.base import BackendState, JobManager, JobRecord
from reana_job_controller.job_managers.kubernetes_pods import classify, unschedulable_message

log = logging.getLogger(__name__)

JOB_PREFIX = "reana-run-job-"
WORKFLOW_LABEL = "reana-run-job-workflow-uuid"
CONTAINER = "job"
WATCH_RETRY_SECONDS = 1.0


class KubernetesJobManager(JobManager):
    """Runs each job as a Kubernetes Job in the runtime namespace."""

    name = "kubernetes"
    libraries = ("kubernetes.client", "kubernetes.config", "kubernetes.watch")
    """5 s of CPU to import (every API model): 30 s on a loaded 2-core machine."""
    pushes_completion = True
    logs_while_running = True
    survives_restart = True

    def __init__(self, context):
        super().__init__(context)
        self.config = get_config()
        self.namespace = self.config.runtime_kubernetes_namespace
        self.selector = f"{WORKFLOW_LABEL}={context.workflow_uuid}"
        self._pods: dict[str, dict] = {}
        """Pod name → pod (the informer's cache)."""
        self._synced = threading.Event()
        self._unschedulable_since: dict[str, float] = {}
        self._reported: set[str] = set()
        self._cache_lock = threading.Lock()
        self._secrets_lock = threading.Lock()
        self._secrets: list[tuple[str, str, bytes]] | None = None
        self._owner = None
        self._closing = threading.Event()
        self._watch = None
        self._thread: threading.Thread | None = None

    # --- the run owner's secrets ---------------------------------------------------------
    def _user_secrets(self) -> list[tuple[str, str, bytes]]:
        """The owner's secrets, synced once into ``reana-secretsstore-<user>``."""
        with self._secrets_lock:
            if self._secrets is None:
                owner, secrets = _owner_secrets(self.context.workflow_uuid)
                if secrets:
                    _apply_secret(self.namespace, objects.user_secret(
                        owner, secrets, {"reana-secretsstore-user-uuid": str(owner)}))
                self._owner, self._secrets = owner, secrets
            return self._secrets

    # --- submit --------------------------------------------------------------------------
    def submit(self, job: JobRecord) -> str:
        manifest = self.manifest(job)
        api.batch_v1().create_namespaced_job(self.namespace, manifest)
        return manifest["metadata"]["name"]

    def manifest(self, job: JobRecord) -> dict:
        """The Job of ``job`` (REANA's pod spec, INTERNALS §5.3)."""
        spec, config = job.spec, self.config
        secrets = self._user_secrets()
        labels = {WORKFLOW_LABEL: self.context.workflow_uuid}
        env = objects.env_list({**(job.env_vars or {}),
                                "REANA_WORKSPACE": str(self.context.workspace),
                                "REANA_WORKFLOW_UUID": self.context.workflow_uuid})
        env += objects.user_secret_env(self._owner, secrets)
        volumes = [objects.shared_volume()]
        mounts = [objects.workspace_mount(self.context.workspace)]
        secret_volume = objects.user_secret_volume(self._owner, secrets)
        if secret_volume:
            volumes.append(secret_volume[0])
            mounts.append(secret_volume[1])
            env.append({"name": "REANA_USER_SECRET_MOUNT_PATH",
                        "value": config.user_secret_mount_path})
        uid = spec.get("kubernetes_uid")
        container = {
            "name": CONTAINER,
            "image": job.docker_img,
            "command": ["bash", "-c"],
            "args": [job.cmd],
            "workingDir": str(self.context.workspace),
            "env": env,
            "resources": _resources(spec, config),
            "securityContext": {"allowPrivilegeEscalation": False},
            "volumeMounts": mounts,
        }
        pod_spec = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "activeDeadlineSeconds": _timeout(spec, config),
            "securityContext": {
                "runAsUser": int(uid) if uid is not None and int(uid) >= 100
                else config.workflow_runtime_user_uid,
                "runAsGroup": config.workflow_runtime_user_gid,
            },
            "nodeSelector": objects.node_selector(config.runtime_jobs_node_label),
            "imagePullSecrets": objects.image_pull_secrets(),
            "containers": [container],
            "volumes": volumes,
        }
        return objects.prune({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": _job_name(job), "namespace": self.namespace,
                         "labels": labels},
            "spec": {"backoffLimit": 0,
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
        })

    # --- following (the informer) --------------------------------------------------------
    def start(self, on_completion) -> None:
        super().start(on_completion)
        self._thread = threading.Thread(target=self._inform, name="k8s-pod-watch", daemon=True)
        self._thread.start()

    def _inform(self) -> None:
        from kubernetes import watch

        core = api.core_v1()
        while not self._closing.is_set():
            try:
                listed = api.raw(core.list_namespaced_pod(
                    self.namespace, label_selector=self.selector, _preload_content=False))
                with self._cache_lock:
                    self._pods = {p["metadata"]["name"]: p for p in listed.get("items") or []}
                self._synced.set()
                for pod in listed.get("items") or []:
                    self._observe("ADDED", pod)
                self._watch = watch.Watch()
                for event in self._watch.stream(
                        core.list_namespaced_pod, self.namespace, label_selector=self.selector,
                        resource_version=listed["metadata"]["resourceVersion"],
                        timeout_seconds=self.config.kubernetes_watch_timeout):
                    if self._closing.is_set():
                        break
                    self._observe(event["type"], event["raw_object"])
            except Exception as error:  # noqa: BLE001 - re-list and watch again
                if not self._closing.is_set():
                    log.warning("pod watch of %s ended: %s", self.selector, error)
                    self._closing.wait(WATCH_RETRY_SECONDS)

    def _observe(self, type_: str, pod: dict) -> None:
        name = pod["metadata"]["name"]
        with self._cache_lock:
            if type_ == "DELETED":
                self._pods.pop(name, None)
            else:
                self._pods[name] = pod
        job_name = (pod["metadata"].get("labels") or {}).get("job-name", "")
        if not job_name.startswith(JOB_PREFIX):
            return
        state = self._state_of(pod, deleted=type_ == "DELETED")
        if state is not None and state.is_terminal:
            self._report(job_name, state)

    def _report(self, job_name: str, state: BackendState) -> None:
        with self._cache_lock:
            if job_name in self._reported:
                return
            self._reported.add(job_name)
        if self._on_completion is not None:
            self._on_completion(job_name[len(JOB_PREFIX):], state)

    def _state_of(self, pod: dict, deleted: bool = False) -> BackendState:
        timeout = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        state = classify(pod, timeout)
        if deleted or pod["metadata"].get("deletionTimestamp"):
            if state is None and not deleted:
                return BackendState(JobStatus.running)  # terminating: its end is coming
            if state is None or (state.status == JobStatus.failed and not state.reason):
                return BackendState(JobStatus.failed, state.exit_code if state else None,
                                    "the job's pod was deleted (its Kubernetes Job was removed) "
                                    "before the job ended")
        if state is not None:
            return state
        message = unschedulable_message(pod)
        name = pod["metadata"]["name"]
        if message is None:
            self._unschedulable_since.pop(name, None)
            return BackendState(JobStatus.running)
        since = self._unschedulable_since.setdefault(name, time.monotonic())
        limit = self.config.kubernetes_unschedulable_timeout
        if time.monotonic() - since >= limit:
            return BackendState(JobStatus.failed, None,
                                f"the job's pod could not be scheduled for {limit:g} s "
                                f"(Unschedulable): {message}")
        return BackendState(JobStatus.running)

    # --- status, logs, stop --------------------------------------------------------------
    def status(self, backend_job_ids: Sequence[str]) -> dict[str, BackendState]:
        """From the informer's cache; a Job without a pod is looked up (deleted → failed)."""
        self._synced.wait(10)
        with self._cache_lock:
            by_job = {}
            for pod in self._pods.values():
                by_job[(pod["metadata"].get("labels") or {}).get("job-name")] = pod
        states = {}
        for backend_id in backend_job_ids:
            pod = by_job.get(backend_id)
            if pod is not None:
                states[backend_id] = self._state_of(pod)
            else:
                states[backend_id] = self._without_pod(backend_id)
            if states[backend_id].is_terminal:
                self._report(backend_id, states[backend_id])
        return states

    def _without_pod(self, backend_id: str) -> BackendState:
        try:
            api.batch_v1().read_namespaced_job(backend_id, self.namespace,
                                               _preload_content=False)
        except Exception as error:  # noqa: BLE001
            if api.is_not_found(error):
                return BackendState(JobStatus.failed, None,
                                    f"the Kubernetes Job {backend_id} was deleted before the "
                                    "job ended")
            raise
        return BackendState(JobStatus.running)  # its pod is not created (or not seen) yet

    def logs(self, job: JobRecord) -> str:
        """Output of every container of the job's pod (waiting reasons for unstarted ones)."""
        data = self._pod_output(job)
        return (job.logs or "") if data is None else data.decode(errors="replace")

    def output_since(self, job: JobRecord, offset: int, limit: int) -> bytes:
        """The pod log from ``offset`` (the pod log API has no byte offset: read and cut)."""
        return (self._pod_output(job) or b"")[offset:offset + limit]

    def _pod_output(self, job: JobRecord) -> bytes | None:
        """The pod log of the job (containers one after the other), None without a pod."""
        with self._cache_lock:
            pods = [p for p in self._pods.values()
                    if (p["metadata"].get("labels") or {}).get("job-name") == _job_name(job)]
        if not pods:
            return None
        core = api.core_v1()
        pod = pods[0]
        names = [c["name"] for c in (pod["spec"].get("initContainers") or [])
                 + pod["spec"]["containers"]]
        parts = []
        for name in names:
            try:
                data = core.read_namespaced_pod_log(pod["metadata"]["name"], self.namespace,
                                                    container=name, _preload_content=False).data
            except Exception as error:  # noqa: BLE001 - a waiting container has no log
                if getattr(error, "status", None) not in (400, 404):
                    raise
                data = b""
            parts.append(data if len(names) == 1 else f"--- {name} ---\n".encode() + data)
        return b"".join(parts)

    def environment(self, job: JobRecord) -> dict:
        """The pod's node and the image id its kubelet reports (a digest on real clusters)."""
        with self._cache_lock:
            pods = [p for p in self._pods.values()
                    if (p["metadata"].get("labels") or {}).get("job-name") == _job_name(job)]
        found = {"node": None, "runtime": "kubernetes pod", "image_digest": None}
        if pods:
            pod = pods[0]
            found["node"] = (pod.get("spec") or {}).get("nodeName")
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                found["image_digest"] = status.get("imageID") or found["image_digest"]
        return found

    def stop(self, backend_job_id: str) -> None:
        _delete_job(self.namespace, backend_job_id)

    def cleanup(self, job: JobRecord) -> None:
        keep = self.config.runtime_keep_alive_jobs_with_statuses
        if job.status.name in keep:
            return
        try:
            _delete_job(self.namespace, _job_name(job))
        except Exception:  # noqa: BLE001 - a leftover Job is harmless
            log.warning("could not delete Job %s", _job_name(job), exc_info=True)

    def close(self) -> None:
        self._closing.set()
        if self._watch is not None:
            self._watch.stop()


def _delete_job(namespace: str, name: str) -> None:
    try:
        api.batch_v1().delete_namespaced_job(name, namespace, propagation_policy="Background",
                                             _preload_content=False)
    except Exception as error:  # noqa: BLE001
        if not api.is_not_found(error):
            raise


def _resources(spec: dict, config) -> dict:
    limits = {"memory": spec.get("kubernetes_memory_limit") or config.kubernetes_memory_limit,
              "cpu": spec.get("kubernetes_cpu_limit") or config.kubernetes_cpu_limit}
    requests = {
        "memory": spec.get("kubernetes_memory_request") or config.kubernetes_memory_request,
        "cpu": spec.get("kubernetes_cpu_request") or config.kubernetes_cpu_request}
    return {"limits": {k: str(v) for k, v in limits.items() if v},
            "requests": {k: str(v) for k, v in requests.items() if v}}


def _timeout(spec: dict, config) -> int:
    timeout = int(spec.get("kubernetes_job_timeout") or config.kubernetes_jobs_timeout_limit)
    maximum = int(config.kubernetes_jobs_max_user_timeout_limit)
    if timeout <= 0 or timeout > maximum:
        raise ValueError(f"kubernetes_job_timeout {timeout} s is not within 1..{maximum} s.")
    return timeout


def _apply_secret(namespace: str, manifest: dict) -> None:
    core = api.core_v1()
    name = manifest["metadata"]["name"]
    try:
        core.create_namespaced_secret(namespace, manifest, _preload_content=False)
    except Exception as error:  # noqa: BLE001
        if getattr(error, "status", None) != 409:
            raise
        core.replace_namespaced_secret(name, namespace, manifest, _preload_content=False)


def _owner_secrets(workflow_uuid: str):
    """``(owner id, [(name, type, value)])`` of the run's owner, from the database."""
    from reana_db.models import Workflow
    from sqlalchemy import select

    from reana_job_controller.store import JobStore

    store = JobStore(workflow_uuid)
    try:
        with store.engine.connect() as connection:
            owner = connection.execute(
                select(Workflow.owner_id).where(Workflow.id_ == uuid.UUID(workflow_uuid))
            ).scalar_one()
        return owner, store.owner_secrets()
    finally:
        store.close()


def _job_name(job: JobRecord) -> str:
    """The Kubernetes Job of ``job``: named after the job's id, so it is known even before
    submit returned (the informer may see the job end first) and maps back to the id."""
    return f"{JOB_PREFIX}{job.id}"
