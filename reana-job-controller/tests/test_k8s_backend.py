"""The ``kubernetes`` backend against the Kubernetes API double (k8s-double).

The official client talks HTTP to the double, which validates every object
against the real OpenAPI schemas and runs each pod's command as a local
process; failures (OOM, image pull, deadline, unschedulable, deleted Job) are
simulated there as a cluster shows them.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from k8s_double.pytest_plugin import k8s_cluster  # noqa: F401 - fixture
from reana_db.crypto import encrypt
from reana_db.enums import JobStatus, SecretType
from reana_db.models import UserSecret
from reana_job_controller.controller import JobController
from reana_job_controller.errors import BackendError
from reana_testing.pytest_plugin import apply_env

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


@pytest.fixture
def k8s_env(monkeypatch, reana_env, k8s_cluster, tmp_path):  # noqa: F811
    apply_env(monkeypatch, {"REANA_COMPUTE_BACKENDS": '["kubernetes"]',
                            "REANA_DEFAULT_COMPUTE_BACKEND": "kubernetes",
                            "REANA_USER_SECRET_MOUNT_PATH": str(tmp_path / "mnt" / "secrets")})
    return k8s_cluster


@pytest.fixture
def controller(k8s_env, workflow):
    controller = JobController(workflow.id_, workflow.workspace_path, resync_interval=0.1)
    controller.start_monitor()
    yield controller
    controller.shutdown()
    controller.close()


def request_for(workflow, cmd, **extra):
    return {"workflow_uuid": str(workflow.id_), "workflow_workspace": workflow.workspace_path,
            "docker_img": "docker.io/library/python:3.11", "job_name": "step",
            "cmd": f"cd {workflow.workspace_path} && {cmd}", **extra}


def run(controller, workflow, cmd, timeout=30, **extra):
    job = controller.create_job(request_for(workflow, cmd, **extra))
    ended = controller.wait_for_job(job.id, timeout=timeout)
    return ended, controller.get_job(job.id).logs


def test_job_manifest_is_reanas(controller, workflow, k8s_env):
    job = controller.create_job(request_for(
        workflow, "sleep 30", kubernetes_uid=2000, kubernetes_memory_limit="256Mi",
        kubernetes_job_timeout=600, env_vars={"FOO": "bar"}))
    manifest = k8s_env.store.get("jobs", "default", f"reana-run-job-{job.id}")
    assert manifest["metadata"]["labels"] == {"reana-run-job-workflow-uuid": str(workflow.id_)}
    assert manifest["spec"]["backoffLimit"] == 0
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["activeDeadlineSeconds"] == 600
    assert pod["securityContext"] == {"runAsUser": 2000, "runAsGroup": 0}
    (container,) = pod["containers"]
    assert container["command"] == ["bash", "-c"]
    assert container["args"] == [f"cd {workflow.workspace_path} && sleep 30"]
    assert container["resources"]["limits"] == {"memory": "256Mi"}
    assert {"name": "FOO", "value": "bar"} in container["env"]
    mount = container["volumeMounts"][0]
    assert mount["mountPath"] == workflow.workspace_path
    assert workflow.workspace_path.endswith(mount["subPath"])
    assert pod["volumes"][0]["hostPath"]["path"] == str(Path(k8s_env_shared(controller)))
    assert controller.get_job(job.id).status == JobStatus.running


def k8s_env_shared(controller):
    from reana_commons.config import get_config

    return get_config().shared_volume_path


def test_user_secrets_as_a_secret_env_and_files(db, user, controller, workflow, k8s_env):
    db.add(UserSecret(user_id=user.id_, name="MY_TOKEN", type_=SecretType.env,
                      value_encrypted=encrypt("s3cr3t")))
    db.add(UserSecret(user_id=user.id_, name="cert.pem", type_=SecretType.file,
                      value_encrypted=encrypt(b"-----CERT-----\n")))
    db.commit()
    ended, logs = run(controller, workflow,
                      'echo "token=$MY_TOKEN"; cat "$REANA_USER_SECRET_MOUNT_PATH/cert.pem"')
    assert ended.status == JobStatus.finished, logs
    assert "token=s3cr3t" in logs and "-----CERT-----" in logs
    secret = k8s_env.store.get("secrets", "default", f"reana-secretsstore-{user.id_}")
    assert base64.b64decode(secret["data"]["MY_TOKEN"]) == b"s3cr3t"
    (manifest,) = k8s_env.sent("Job")
    env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MY_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": f"reana-secretsstore-{user.id_}", "key": "MY_TOKEN"}}} in env
    assert "s3cr3t" not in str(manifest)


def test_oom_killed_step_fails_with_the_reason(controller, workflow):
    ended, logs = run(controller, workflow,
                      "echo before; python3 -c 'x = bytearray(400 * 2**20); "
                      "import time; time.sleep(30)'", kubernetes_memory_limit="64Mi")
    assert ended.status == JobStatus.failed
    assert ended.exit_code == 137
    assert "before" in logs and "OOMKilled" in logs and "memory" in logs


def test_image_pull_error_fails_the_job(controller, workflow):
    ended, logs = run(controller, workflow, "true", docker_img="unpullable.example/none:1")
    assert ended.status == JobStatus.failed
    assert "ErrImagePull" in logs or "ImagePullBackOff" in logs
    assert "unpullable.example/none:1" in logs


def test_deadline_exceeded_is_a_timeout(controller, workflow):
    started = time.monotonic()
    ended, logs = run(controller, workflow, "echo started; sleep 60", kubernetes_job_timeout=1)
    assert time.monotonic() - started < 15
    assert ended.status == JobStatus.failed
    assert "DeadlineExceeded" in logs and "time limit of 1 s" in logs and "started" in logs


def test_unschedulable_pod_fails_after_the_configured_time(monkeypatch, k8s_env, workflow):
    apply_env(monkeypatch, {"REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL": "gpu=yes",
                            "REANA_KUBERNETES_JOBS_UNSCHEDULABLE_TIMEOUT": "1"})
    controller = JobController(workflow.id_, workflow.workspace_path, resync_interval=0.1)
    controller.start_monitor()
    try:
        ended, logs = run(controller, workflow, "true")
    finally:
        controller.shutdown()
        controller.close()
    assert ended.status == JobStatus.failed
    assert "could not be scheduled for 1 s" in logs and "didn't match" in logs


def test_job_deleted_under_a_running_step(controller, workflow, k8s_env):
    job = controller.create_job(request_for(workflow, "echo running; sleep 60"))
    name = f"reana-run-job-{job.id}"
    deadline = time.monotonic() + 20
    while "running" not in controller.job_logs(job.id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    from reana_commons.k8s import api

    api.batch_v1().delete_namespaced_job(name, "default", propagation_policy="Background")
    ended = controller.wait_for_job(job.id, timeout=30)
    assert ended.status == JobStatus.failed
    assert "deleted" in controller.get_job(job.id).logs


def test_too_long_timeout_is_refused(controller, workflow, k8s_env):
    with pytest.raises(BackendError, match="kubernetes_job_timeout"):
        controller.create_job(request_for(workflow, "true", kubernetes_job_timeout=10**8))
    assert k8s_env.store.list("jobs", "default")[0] == []


def test_pods_are_watched_not_polled(controller, workflow, k8s_env):
    for _ in range(3):
        ended, logs = run(controller, workflow, "echo hello")
        assert ended.status == JobStatus.finished and "hello" in logs
    time.sleep(0.5)  # five resync passes of the controller
    pod_calls = [path for method, path in k8s_env.requests
                 if method == "GET" and path.endswith("/pods")]
    watches = [path for method, path in k8s_env.requests if path.endswith("/pods?watch")]
    assert len(watches) == 1 and len(pod_calls) == 1, k8s_env.requests
    assert not k8s_env.store.list("jobs", "default")[0], "ended Jobs are deleted"


def test_the_watch_resyncs_after_its_timeout(monkeypatch, k8s_env, workflow):
    apply_env(monkeypatch, {"REANA_KUBERNETES_WATCH_TIMEOUT": "1"})
    controller = JobController(workflow.id_, workflow.workspace_path, resync_interval=5)
    controller.start_monitor()
    try:
        time.sleep(2.5)  # the first watches end; the informer lists and watches again
        ended, logs = run(controller, workflow, "sleep 1.5; echo late")
    finally:
        controller.shutdown()
        controller.close()
    assert ended.status == JobStatus.finished and "late" in logs
    lists = [p for m, p in k8s_env.requests if m == "GET" and p.endswith("/pods")]
    assert len(lists) >= 2
