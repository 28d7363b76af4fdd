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
