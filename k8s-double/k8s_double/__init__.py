"""A Kubernetes API test double driven by the official client.

``FakeCluster`` holds the objects and runs pods as local processes;
``ApiServer`` serves it over HTTP (core/v1 pods, pods/log, secrets; batch/v1
jobs; watch streams). Every created object is validated against the real
OpenAPI schemas (``kubernetes-validate``); refusals are kept in
``FakeCluster.rejections``. ``k8s_double.pytest_plugin`` has the fixture.
"""

from k8s_double.cluster import FakeCluster
from k8s_double.server import ApiServer

__all__ = ["ApiServer", "FakeCluster"]
