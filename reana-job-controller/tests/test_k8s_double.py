"""The Kubernetes API double itself, driven by the official client (faithfulness checks)."""

from __future__ import annotations

import threading
import time

import pytest
from k8s_double import ApiServer, FakeCluster
from k8s_double.store import ApiError, parse_selector
from kubernetes import client, config, watch


@pytest.fixture
def double(tmp_path):
    cluster = FakeCluster(tmp_path / "double")
    server = ApiServer(cluster)
    server.start()
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(cluster.kubeconfig),
                            client_configuration=configuration)
    api_client = client.ApiClient(configuration)
    yield cluster, client.CoreV1Api(api_client), client.BatchV1Api(api_client)
    server.stop()


def job(name, command, containers=None, **pod):
    containers = containers or [{"name": "main", "image": "docker.io/library/bash:5",
                                 "command": ["bash", "-c", command]}]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {"app": "t"}},
            "spec": {"backoffLimit": 0, "template": {
                "metadata": {"labels": {"app": "t"}},
                "spec": {"restartPolicy": "Never", "containers": containers, **pod}}}}


def wait_pod(core, predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod("default", label_selector="app=t").items
        if pods and predicate(pods[0]):
            return pods[0]
        time.sleep(0.05)
    raise AssertionError("pod never reached the state")


def test_errors_are_status_objects(double):
    cluster, core, batch = double
    batch.create_namespaced_job("default", job("a", "true"))
    with pytest.raises(client.ApiException) as error:
        batch.create_namespaced_job("default", job("a", "true"))
    assert error.value.status == 409 and '"reason": "AlreadyExists"' in error.value.body
    with pytest.raises(client.ApiException) as error:
        batch.read_namespaced_job("missing", "default")
    assert error.value.status == 404
    with pytest.raises(client.ApiException) as error:
        batch.create_namespaced_job("default", {**job("b", "true"), "bogus": 1})
    assert error.value.status == 422 and "bogus" in error.value.body
    assert cluster.rejections and "bogus" in cluster.rejections[0]
    cluster.rejections.clear()


def test_watch_streams_changes_and_resumes_from_a_version(double):
    cluster, core, batch = double
    listed = core.list_namespaced_pod("default", label_selector="app=t")
    events = []

    def follow():
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_pod, "default", label_selector="app=t",
                                   resource_version=listed.metadata.resource_version,
                                   timeout_seconds=10):
            events.append((event["type"], event["object"].status.phase))
            if event["object"].status.phase == "Succeeded":
                stream.stop()

    thread = threading.Thread(target=follow)
    thread.start()
    batch.create_namespaced_job("default", job("w", "echo out; sleep 0.2"))
    thread.join(20)
    assert events[0][0] == "ADDED" and events[-1] == ("MODIFIED", "Succeeded")
    assert ("MODIFIED", "Running") in events
    pod = wait_pod(core, lambda p: p.status.phase == "Succeeded")
    assert pod.metadata.labels["job-name"] == "w"
    assert core.read_namespaced_pod_log(pod.metadata.name, "default") == "out\n"
    assert batch.read_namespaced_job("w", "default").status.succeeded == 1


def test_logs_of_a_two_container_pod_need_a_container(double):
    cluster, core, batch = double
    containers = [{"name": n, "image": "docker.io/library/bash:5",
                   "command": ["bash", "-c", f"echo {n}"]} for n in ("one", "two")]
    batch.create_namespaced_job("default", job("m", "", containers=containers))
    pod = wait_pod(core, lambda p: p.status.phase == "Succeeded")
    with pytest.raises(client.ApiException) as error:
        core.read_namespaced_pod_log(pod.metadata.name, "default")
    assert error.value.status == 400 and "choose one of: [one two]" in error.value.body
    assert core.read_namespaced_pod_log(pod.metadata.name, "default", container="two") == "two\n"


def test_a_container_that_ends_is_reported_while_the_other_runs(double):
    """A real kubelet reports each container's end at once; the pod stays Running."""
    cluster, core, batch = double
    containers = [{"name": "quick", "image": "docker.io/library/bash:5",
                   "command": ["bash", "-c", "exit 3"]},
                  {"name": "slow", "image": "docker.io/library/bash:5",
                   "command": ["bash", "-c", "sleep 30"]}]
    batch.create_namespaced_job("default", job("c", "", containers=containers))

    def quick_ended(pod):
        states = {s.name: s.state for s in pod.status.container_statuses or []}
        return states.get("quick") is not None and states["quick"].terminated is not None

    pod = wait_pod(core, quick_ended)
    assert pod.status.phase == "Running"
    states = {s.name: s.state for s in pod.status.container_statuses}
    assert states["quick"].terminated.exit_code == 3
    assert states["quick"].terminated.reason == "Error"
    assert states["slow"].running is not None
    ready = [c for c in pod.status.conditions if c.type == "Ready"]
    assert ready and ready[0].status == "False"
    batch.delete_namespaced_job("c", "default", propagation_policy="Background")


def test_deleting_a_job_runs_pre_stop_and_kills_the_processes(double, tmp_path):
    cluster, core, batch = double
    marker = tmp_path / "terminated"
    command = f"trap 'echo term > {marker}; exit 0' TERM; while true; do sleep 0.05; done"
    batch.create_namespaced_job("default", job("d", command, terminationGracePeriodSeconds=5))
    wait_pod(core, lambda p: p.status.phase == "Running")
    time.sleep(0.2)
    batch.delete_namespaced_job("d", "default", propagation_policy="Background")
    deadline = time.monotonic() + 20
    while core.list_namespaced_pod("default").items:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert marker.read_text() == "term\n"


def test_orphan_is_the_default_propagation_of_jobs(double):
    cluster, core, batch = double
    batch.create_namespaced_job("default", job("o", "sleep 30"))
    wait_pod(core, lambda p: p.status.phase == "Running")
    batch.delete_namespaced_job("o", "default")
    time.sleep(0.3)
    assert core.list_namespaced_pod("default", label_selector="app=t").items  # orphaned


def test_label_selectors():
    matches = parse_selector("a=1,b!=2,c,!d,e in (x, y)")
    assert matches({"a": "1", "c": "", "e": "x"})
    assert not matches({"a": "1", "b": "2", "c": "", "e": "x"})
    assert not matches({"a": "1", "c": "", "d": "", "e": "y"})
    assert not matches({"a": "1", "c": "", "e": "z"})
    with pytest.raises(ApiError):
        parse_selector("a=1,(")
