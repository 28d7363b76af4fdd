"""Kubernetes runtime: each run is the ``batch/v1`` Job ``reana-run-batch-<uuid>`` (REANA §4.2).

The Job's pod has two containers sharing the workspace (a subPath of the
shared volume, mounted at its own path): ``workflow-engine`` runs the engine
command, ``job-controller`` serves the run's jobs on a fixed port of the pod
(``REANA_JOB_CONTROLLER_SERVICE_PORT_HTTP``, 5000), which the engine reaches at
``http://localhost:<port>``. Deleting the Job (Background propagation) ends
the pod; the job controller's ``preStop`` hook (``GET /shutdown``) first stops
the run's jobs and stores their logs. :meth:`problem` tells the reconciler why
a run is dead: its Job failed or vanished, a container ended, or its pod
cannot start (image pull, unschedulable for too long); :meth:`end_cause` tells
the status writer that the Job (or its pod) was deleted under a failing run.
The job controller also mounts the run's live-log folder (ADR 0026), created
here before the Job, where it writes the output of running jobs.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import time

from reana_commons.config import get_config, job_controller_settings
from reana_commons.k8s import api, objects
from reana_commons.live_logs import make_run_live_dir, run_live_dir
from reana_commons.service_auth import TOKEN_VARIABLE, run_token
from reana_commons.workflow_types import UnknownWorkflowType, workflow_type
from reana_db.models import Workflow

from reana_workflow_controller.run_managers.base import (
    ENGINE_ENDED_CLEANLY,
    RunManager,
    RunManagerError,
    engine_command,
    engine_environment,
)

log = logging.getLogger(__name__)

JOB_PREFIX = "reana-run-batch-"
WORKFLOW_LABEL = "reana-run-batch-workflow-uuid"
ENGINE, JOB_CONTROLLER = "workflow-engine", "job-controller"
CAUSE_TIMEOUT = 5.0
"""Seconds :meth:`KubernetesRunManager.end_cause` waits for the API server."""
POD_BROKEN = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName",
              "CreateContainerConfigError", "CreateContainerError")


class KubernetesRunManager(RunManager):
    """Runs the engine and job controller of a run as one Kubernetes Job."""

    name = "kubernetes"

    def __init__(self):
        self._unschedulable_since: dict[str, float] = {}

    # --- start ---------------------------------------------------------------------------
    def start(self, workflow: Workflow, begin_attempt=None) -> dict:
        """Create the run's Job; the handle names it (the job controller is pod-local).

        One attempt: the Job's pod is the run's own network namespace, so the job
        controller's fixed port cannot be taken by another run.
        """
        if not workflow.workspace_path:
            raise RunManagerError(f"Workflow {workflow.id_} has no workspace.")
        if begin_attempt is not None:
            begin_attempt(1)
        config = get_config()
        try:
            _live_log_folder(workflow, config)
            manifest = self.manifest(workflow)
            api.batch_v1().create_namespaced_job(config.runtime_kubernetes_namespace, manifest,
                                                 _preload_content=False)
        except (objects.ManifestError, api.KubernetesUnavailable, OSError) as error:
            raise RunManagerError(str(error)) from error
        except Exception as error:  # noqa: BLE001 - the API's refusal, with its reason
            raise RunManagerError(f"Kubernetes refused the run's Job: "
                                  f"{getattr(error, 'body', None) or error}") from error
        return {
            "workflow_uuid": str(workflow.id_),
            "namespace": config.runtime_kubernetes_namespace,
            "job_name": manifest["metadata"]["name"],
            "job_controller_url": f"http://localhost:{config.job_controller_port}",
        }

    def manifest(self, workflow: Workflow) -> dict:
        """The batch Job of ``workflow``."""
        config = get_config()
        run_id = str(workflow.id_)
        labels = {"reana_workflow_mode": "batch", WORKFLOW_LABEL: run_id}
        port = config.job_controller_port
        # The job controller listens on the pod network, where the run's job pods (and every
        # other pod) can reach it: it answers only callers with the run token.
        token = run_token(run_id)
        common = _common_env(workflow) + objects.env_list({TOKEN_VARIABLE: token})
        mounts = [objects.workspace_mount(workflow.workspace_path)]
        security = {"runAsUser": config.workflow_runtime_user_uid,
                    "runAsGroup": config.workflow_runtime_user_gid,
                    "allowPrivilegeEscalation": False}
        engine = {
            "name": ENGINE,
            "image": _engine_image(workflow.type_),
            "command": ["/bin/bash", "-c"],
            "args": [shlex.join(engine_command(workflow))],
            "env": common + objects.env_list({
                "REANA_JOB_CONTROLLER_URL": f"http://localhost:{port}",
                "REANA_RUN_ATTEMPT": 1,
                "REANA_JOB_CONTROLLER_SERVICE_HOST": "localhost",
                "REANA_JOB_CONTROLLER_SERVICE_PORT_HTTP": port,
                "POLLING_INTERVAL": config.polling_interval,
                **engine_environment(workflow),
            }),
            "volumeMounts": mounts,
            "securityContext": security,
        }
        job_controller = {
            "name": JOB_CONTROLLER,
            "image": config.job_controller_image,
            "command": ["reana-job-controller"],
            "args": ["--workflow-uuid", run_id, "--workspace", str(workflow.workspace_path),
                     "--host", "0.0.0.0", "--port", str(port)],
            "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
            "lifecycle": {"preStop": {"httpGet": {
                "path": "/shutdown", "port": port,
                "httpHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}}},
            "env": common + _job_controller_env(config),
            "volumeMounts": [*mounts, objects.workspace_mount(run_live_dir(run_id, config))],
            "securityContext": security,
        }
        pod_spec = {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": config.runtime_batch_termination_grace_period,
            "serviceAccountName": config.runtime_kubernetes_serviceaccount_name or None,
            "nodeSelector": objects.node_selector(config.runtime_batch_node_label),
            "imagePullSecrets": objects.image_pull_secrets(),
            "enableServiceLinks": False,
            "containers": [engine, job_controller],
            "volumes": [objects.shared_volume()],
        }
        return objects.prune({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{JOB_PREFIX}{run_id}",
                         "namespace": config.runtime_kubernetes_namespace, "labels": labels},
            "spec": {"backoffLimit": 0,
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
        })

    # --- follow --------------------------------------------------------------------------
    def end_cause(self, handle: dict | None) -> str | None:
        """The run's Job or pod deleted (or the pod evicted) by someone else, or None.

        When the engine's SIGTERM report arrives, a deleted Job is already
        gone from the API (Background propagation) or marked for deletion
        (Foreground); a pod deleted or evicted on its own is marked or
        ``Evicted``. Requests time out quickly: the caller holds a transaction.
        """
        if not handle or not handle.get("job_name"):
            return None
        namespace, name = handle["namespace"], handle["job_name"]
        job = _read_job(namespace, name, timeout=CAUSE_TIMEOUT)
        if job is None or (job.get("metadata") or {}).get("deletionTimestamp"):
            return _deleted(name)
        for pod in _pods(namespace, name, timeout=CAUSE_TIMEOUT):
            pod_name = pod["metadata"]["name"]
            if pod["metadata"].get("deletionTimestamp"):
                return f"its pod {pod_name} (Kubernetes Job {name}) was deleted"
            status = pod.get("status") or {}
            if status.get("reason") == "Evicted":
                return (f"its pod {pod_name} (Kubernetes Job {name}) was evicted: "
                        f"{status.get('message', '')}".rstrip(": "))
        return None

    def problem(self, handle: dict | None) -> str | None:
        """Why the run's Job is dead (None while it runs or is starting)."""
        if not handle or not handle.get("job_name"):
            return "its runtime handle names no Kubernetes Job"
        namespace, name = handle["namespace"], handle["job_name"]
        job = _read_job(namespace, name)
        if job is None or (job.get("metadata") or {}).get("deletionTimestamp"):
            return _deleted(name)
        status = job.get("status") or {}
        for condition in status.get("conditions") or []:
            ended = condition.get("status") == "True"
            if ended and condition.get("type") in ("Failed", "Complete"):
                verb = "failed" if condition["type"] == "Failed" else "ended"
                return (f"its Kubernetes Job {name} {verb}: {condition.get('reason', '')} "
                        f"{condition.get('message', '')}".strip())
        pods = _pods(namespace, name)
        return self._pod_problem(name, pods[0]) if pods else None

    def _pod_problem(self, name: str, pod: dict) -> str | None:
        status = pod.get("status") or {}
        for container in status.get("containerStatuses") or []:
            state = container.get("state") or {}
            if "terminated" in state:
                # The kubelet reports each container's end at once, while the pod runs on:
                # an engine that died leaves its job controller serving an orphaned run.
                ended = state["terminated"]
                if container["name"] == ENGINE and ended.get("exitCode") == 0:
                    return ENGINE_ENDED_CLEANLY  # its final status is on the way
                return (f"its {container['name']} container ended ({ended.get('reason')}, "
                        f"exit code {ended.get('exitCode')})")
            waiting = state.get("waiting") or {}
            if waiting.get("reason") in POD_BROKEN:
                return (f"its {container['name']} container cannot start: {waiting['reason']}: "
                        f"{waiting.get('message', '')}".rstrip(": "))
        for condition in status.get("conditions") or []:
            if condition.get("reason") == "Unschedulable" and condition.get("status") == "False":
                since = self._unschedulable_since.setdefault(name, time.monotonic())
                limit = get_config().kubernetes_unschedulable_timeout
                if time.monotonic() - since >= limit:
                    return (f"its pod could not be scheduled for {limit:g} s: "
                            f"{condition.get('message', '')}")
                return None
        self._unschedulable_since.pop(name, None)
        return None

    def is_alive(self, handle: dict | None) -> bool:
        """The Job exists, has not ended, and both containers run (or are starting)."""
        return self.problem(handle) is None

    def engine_logs(self, handle: dict | None) -> str:
        """The ``workflow-engine`` container's output, while its pod exists."""
        if not handle or not handle.get("job_name"):
            return ""
        try:
            pods = _pods(handle["namespace"], handle["job_name"])
            if not pods:
                return ""
            response = api.core_v1().read_namespaced_pod_log(
                pods[0]["metadata"]["name"], handle["namespace"], container=ENGINE,
                _preload_content=False)
            return response.data.decode(errors="replace")
        except Exception:  # noqa: BLE001 - the output is a bonus
            return ""

    # --- stop ----------------------------------------------------------------------------
    def stop(self, workflow: Workflow | None, handle: dict | None) -> None:
        """Delete the Job (Background): the pod's preStop hook stops the run's jobs."""
        if handle and handle.get("job_name"):
            _delete_job(handle["namespace"], handle["job_name"])

    def cleanup(self, handle: dict | None) -> None:
        """Delete what is left of the Job (idempotent)."""
        if handle and handle.get("job_name"):
            self._unschedulable_since.pop(handle["job_name"], None)
            _delete_job(handle["namespace"], handle["job_name"])


def _deleted(name: str) -> str:
    return f"its Kubernetes Job {name} was deleted"


def _read_job(namespace: str, name: str, timeout: float | None = None) -> dict | None:
    """The Job, or None when it no longer exists."""
    options = {"_request_timeout": timeout} if timeout else {}
    try:
        return api.raw(api.batch_v1().read_namespaced_job(name, namespace,
                                                          _preload_content=False, **options))
    except Exception as error:  # noqa: BLE001
        if api.is_not_found(error):
            return None
        raise


def _pods(namespace: str, job_name: str, timeout: float | None = None) -> list[dict]:
    options = {"_request_timeout": timeout} if timeout else {}
    return api.raw(api.core_v1().list_namespaced_pod(
        namespace, label_selector=f"job-name={job_name}", _preload_content=False,
        **options))["items"]


def _delete_job(namespace: str, name: str) -> None:
    try:
        api.batch_v1().delete_namespaced_job(name, namespace, propagation_policy="Background",
                                             _preload_content=False)
    except Exception as error:  # noqa: BLE001
        if not api.is_not_found(error):
            raise RunManagerError(f"Could not delete the Kubernetes Job {name}: {error}") \
                from error


def _engine_image(type_: str) -> str:
    try:
        setting = workflow_type(type_).image_setting
    except UnknownWorkflowType:
        raise RunManagerError(f"Workflow engine {type_} is not supported.") from None
    image = getattr(get_config(), setting, None)
    if not image:
        raise RunManagerError(f"No engine image is configured for {type_} workflows.")
    return image


def _common_env(workflow: Workflow) -> list[dict]:
    """What both processes need: database, broker, workspace root, secret key (a Secret)."""
    config = get_config()
    values = {
        "REANA_SQLALCHEMY_DATABASE_URI": config.database_uri,
        "RABBIT_MQ": config.broker_url,
        "SHARED_VOLUME_PATH": str(config.shared_volume_path),
        "REANA_COMPONENT_PREFIX": config.component_prefix,
        "REANA_RUNTIME_KUBERNETES_NAMESPACE": config.runtime_kubernetes_namespace,
        "REANA_USER_ID": str(workflow.owner_id),
        "REANA_WORKFLOW_UUID": str(workflow.id_),
        "REANA_LOG_LEVEL": config.log_level,
        "REANA_HOME": "/tmp/reana",
    }
    if config.queue_prefix:
        values["REANA_QUEUE_PREFIX"] = config.queue_prefix
    return objects.env_list(values) + [{
        "name": "REANA_SECRET_KEY",
        "valueFrom": {"secretKeyRef": {"name": config.secrets_name, "key": "REANA_SECRET_KEY"}},
    }]


def _live_log_folder(workflow: Workflow, config) -> None:
    """The run's live-log folder, writable by the job controller's user (runAsUser)."""
    folder = make_run_live_dir(workflow.id_, config)
    if os.geteuid() == 0:
        os.chown(folder, config.workflow_runtime_user_uid, config.workflow_runtime_user_gid)


def _job_controller_env(config) -> list[dict]:
    """The job controller's settings (the rule of ``Config.JOB_CONTROLLER_SETTINGS``, as
    this workflow controller was given them) and its compute backends."""
    values = job_controller_settings()
    values["REANA_COMPUTE_BACKENDS"] = json.dumps(list(config.compute_backends))
    return objects.env_list(values)
