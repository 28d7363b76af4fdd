"""Kubernetes runtime: a session is a Deployment and a Service (``reana-run-session-<uuid>``).

As in REANA, one pod from the Jupyter docker-stacks image (``REANA_INTERACTIVE_SESSION_
JUPYTER_IMAGE``, or the image asked for at open) serves the run's workspace (a subPath of
the shared volume, at its own path) on port 8888 under ``base_url=/<workflow uuid>/``, as the
runtime's unprivileged user. Unlike REANA, the pod does not get the user's API token and no
Ingress of its own: Jupyter's only token is the session's secret (in a Secret of its own,
read into ``JUPYTER_TOKEN``), and users reach it through reana-server, which the platform's
Ingress sends every path to and which proxies ``/<uuid>/`` to the Service after checking
who asks (:mod:`reana_server.session_access`). The Service is the handle's ``endpoint``.
"""

from __future__ import annotations

import base64

from reana_commons.config import get_config
from reana_commons.k8s import api, objects

from reana_workflow_controller.session_managers.base import (
    SessionManager,
    SessionManagerError,
    SessionRequest,
)

PREFIX = "reana-run-session-"
WORKFLOW_LABEL = "reana-run-session-workflow-uuid"
PORT = 8888
DEFAULT_UMASK = "0002"


def _name(workflow_id) -> str:
    return f"{PREFIX}{workflow_id}"


class KubernetesSessionManager(SessionManager):
    """Runs each session's Jupyter server as a Deployment behind a ClusterIP Service."""

    name = "kubernetes"

    def start(self, request: SessionRequest) -> dict:
        namespace = get_config().runtime_kubernetes_namespace
        name = _name(request.workflow_id)
        try:
            secret, deployment, service = self.manifests(request)
            api.core_v1().create_namespaced_secret(namespace, secret, _preload_content=False)
            api.apps_v1().create_namespaced_deployment(namespace, deployment,
                                                       _preload_content=False)
            api.core_v1().create_namespaced_service(namespace, service, _preload_content=False)
        except (objects.ManifestError, api.KubernetesUnavailable) as error:
            self._delete(namespace, name)
            raise SessionManagerError(str(error)) from error
        except Exception as error:  # noqa: BLE001 - the API's refusal, with its reason
            self._delete(namespace, name)
            raise SessionManagerError(f"Kubernetes refused the session's objects: "
                                      f"{getattr(error, 'body', None) or error}") from error
        return {"namespace": namespace, "name": name, "base_url": request.base_url,
                "endpoint": f"http://{name}.{namespace}.svc:{PORT}"}

    def manifests(self, request: SessionRequest) -> tuple[dict, dict, dict]:
        """The session's Secret, Deployment and Service."""
        config = get_config()
        name = _name(request.workflow_id)
        labels = {"reana_workflow_mode": "session", WORKFLOW_LABEL: str(request.workflow_id)}
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": name, "labels": labels},
                  "data": {"token": base64.b64encode(request.secret.encode()).decode()}}
        workspace = str(request.workspace)
        container = {
            "name": "jupyter",
            "image": request.image or config.interactive_session_image,
            "command": ["start-notebook.sh"],
            "args": [f"--ServerApp.base_url={request.base_url}",
                     f"--ServerApp.root_dir={workspace}", f"--ServerApp.port={PORT}",
                     "--ServerApp.ip=0.0.0.0", "--ServerApp.allow_remote_access=True",
                     "--LabApp.news_url="],
            "ports": [{"containerPort": PORT, "name": "http", "protocol": "TCP"}],
            "env": [{"name": "JUPYTER_TOKEN",
                     "valueFrom": {"secretKeyRef": {"name": name, "key": "token"}}},
                    *objects.env_list({"NB_GID": 0, "NB_UMASK": DEFAULT_UMASK,
                                       "REANA_WORKSPACE": workspace})],
            "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 5},
            "volumeMounts": [objects.workspace_mount(request.workspace)],
            "securityContext": {"runAsUser": config.workflow_runtime_user_uid,
                                "runAsGroup": config.workflow_runtime_user_gid,
                                "allowPrivilegeEscalation": False},
        }
        pod = {
            "nodeSelector": objects.node_selector(config.runtime_batch_node_label),
            "imagePullSecrets": objects.image_pull_secrets(),
            "enableServiceLinks": False,
            "automountServiceAccountToken": False,  # notebook code gets no API credential
            "containers": [container],
            "volumes": [objects.shared_volume()],
        }
        deployment = objects.prune({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": pod}},
        })
        service = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {"type": "ClusterIP", "selector": labels,
                     "ports": [{"name": "http", "port": PORT, "targetPort": PORT,
                                "protocol": "TCP"}]},
        }
        return secret, deployment, service

    def stop(self, handle: dict | None) -> None:
        if handle and handle.get("name"):
            self._delete(handle["namespace"], handle["name"])

    def is_alive(self, handle: dict | None) -> bool:
        if not handle or not handle.get("name"):
            return False
        try:
            deployment = api.raw(api.apps_v1().read_namespaced_deployment(
                handle["name"], handle["namespace"], _preload_content=False))
        except Exception as error:  # noqa: BLE001
            if api.is_not_found(error):
                return False
            raise
        return not (deployment.get("metadata") or {}).get("deletionTimestamp")

    @staticmethod
    def _delete(namespace: str, name: str) -> None:
        """Delete the session's objects (each may be missing; the pod goes with its owner)."""
        calls = (
            lambda: api.apps_v1().delete_namespaced_deployment(
                name, namespace, propagation_policy="Background", _preload_content=False),
            lambda: api.core_v1().delete_namespaced_service(name, namespace,
                                                            _preload_content=False),
            lambda: api.core_v1().delete_namespaced_secret(name, namespace,
                                                           _preload_content=False),
        )
        for call in calls:
            try:
                call()
            except api.KubernetesUnavailable:
                return
            except Exception as error:  # noqa: BLE001
                if not api.is_not_found(error):
                    raise SessionManagerError(f"Kubernetes did not delete {name}: "
                                              f"{getattr(error, 'body', None) or error}") from error
