"""The official ``kubernetes`` client, configured once per process from the settings."""

from __future__ import annotations

import json
import threading

from reana_commons.config import get_config

_lock = threading.Lock()
_clients: dict[tuple, object] = {}


class KubernetesUnavailable(RuntimeError):
    """No Kubernetes API is configured (neither ``KUBECONFIG`` nor in-cluster)."""


def api_client():
    """A shared ``kubernetes.client.ApiClient`` for the configured cluster.

    ``KUBECONFIG`` wins; inside a pod (``KUBERNETES_SERVICE_HOST`` set) the
    service account's token is used, as in REANA.
    """
    from kubernetes import client
    from kubernetes import config as kube_config

    settings = get_config()
    key = (settings.kubeconfig, settings.kubernetes_service_host)
    with _lock:
        if key in _clients:
            return _clients[key]
        configuration = client.Configuration()
        if settings.kubeconfig:
            kube_config.load_kube_config(config_file=settings.kubeconfig,
                                         client_configuration=configuration)
        elif settings.kubernetes_service_host:
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            raise KubernetesUnavailable(
                "No Kubernetes API configured: set KUBECONFIG or run inside a cluster.")
        _clients[key] = client.ApiClient(configuration)
        return _clients[key]


def core_v1():
    """``CoreV1Api`` on the shared client."""
    from kubernetes import client

    return client.CoreV1Api(api_client())


def batch_v1():
    """``BatchV1Api`` on the shared client."""
    from kubernetes import client

    return client.BatchV1Api(api_client())


def apps_v1():
    """``AppsV1Api`` on the shared client."""
    from kubernetes import client

    return client.AppsV1Api(api_client())


def raw(response) -> dict:
    """The JSON body of a call made with ``_preload_content=False``."""
    return json.loads(response.data or b"{}")


def is_not_found(error: Exception) -> bool:
    """Whether ``error`` is the API's 404."""
    return getattr(error, "status", None) == 404


def reset_clients() -> None:
    """Forget the clients (tests switch clusters)."""
    with _lock:
        _clients.clear()
