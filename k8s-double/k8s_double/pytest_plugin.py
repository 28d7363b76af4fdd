"""Pytest fixture ``k8s_cluster``: a started double, with ``KUBECONFIG`` pointing at it."""

from __future__ import annotations

import pytest

from k8s_double import ApiServer, FakeCluster


@pytest.fixture
def k8s_cluster(tmp_path, monkeypatch):
    """A fresh double; fails the test if any request broke a schema or the double erred."""
    cluster = FakeCluster(tmp_path / "k8s-double",
                          nodes={"node-1": {"kubernetes.io/hostname": "node-1",
                                            "reana.io/system": "runtime"}})
    server = ApiServer(cluster)
    server.start()
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    from reana_commons.config import reset_config
    from reana_commons.k8s.api import reset_clients

    reset_config()
    reset_clients()
    cluster.server = server
    yield cluster
    server.stop()
    reset_clients()
    assert not cluster.problems, f"the Kubernetes double failed: {cluster.problems}"
    assert not cluster.rejections, f"objects refused by the schemas: {cluster.rejections}"


@pytest.fixture
def reana_on_k8s(monkeypatch, reana_env, k8s_cluster):  # noqa: F811 - the fixture above
    """The platform configured for the double: kubernetes runtime and backend.

    What Helm would install is created here: the ``reana-secrets`` Secret. The
    job controller's pod port is a free local port, since the double's pods
    share the host's network (a real pod has its own).
    """
    import base64
    import socket

    from reana_commons.config import get_config
    from reana_commons.k8s import api
    from reana_testing.pytest_plugin import apply_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    apply_env(monkeypatch, {"REANA_RUNTIME": "kubernetes",
                            "REANA_COMPUTE_BACKENDS": '["kubernetes"]',
                            "REANA_DEFAULT_COMPUTE_BACKEND": "kubernetes",
                            "REANA_JOB_CONTROLLER_SERVICE_PORT_HTTP": str(port),
                            "REANA_RUNTIME_BATCH_TERMINATION_GRACE_PERIOD": "10"})
    api.core_v1().create_namespaced_secret("default", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "reana-secrets"},
        "type": "Opaque",
        "data": {"REANA_SECRET_KEY": base64.b64encode(get_config().secret_key.encode()).decode()},
    })
    try:
        from reana_workflow_controller.run_managers import reset_run_managers
    except ImportError:
        reset_run_managers = None
    if reset_run_managers:
        reset_run_managers()
    yield k8s_cluster
    if reset_run_managers:
        reset_run_managers()
