"""The kubernetes run manager: its batch Job, why a run is dead, and who ended it (k8s double).

A run whose Job is deleted under it ends ``failed`` with the Job named in its
logs, whether the engine's SIGTERM report or the reconciler gets there first;
after a user stop the engine's report changes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from k8s_double.pytest_plugin import k8s_cluster, reana_on_k8s  # noqa: F401 - fixtures
from k8s_double.validation import validate
from reana_commons.k8s import api
from reana_db.enums import RunStatus
from reana_db.models import RunHandle, Workflow
from reana_testing.pytest_plugin import apply_env
from reana_workflow_controller.consumers.status_writer import apply_batch
from reana_workflow_controller.run_managers import get_run_manager

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)


def make_workflow(db, user, reana_env):
    from pathlib import Path

    spec = {"version": "0.9.0", "workflow": {"type": "serial", "specification": {
        "steps": [{"environment": "docker.io/library/bash", "commands": ["sleep 30"]}]}}}
    workflow = Workflow(name="wf", owner_id=user.id_, type_="serial", run_number_major=1,
                        reana_specification=spec)
    db.add(workflow)
    db.flush()
    path = Path(reana_env["SHARED_VOLUME_PATH"]) / "users" / str(user.id_) / "workflows" / str(
        workflow.id_)
    path.mkdir(parents=True)
    workflow.workspace_path = str(path)
    db.commit()
    return workflow


def test_batch_job_manifest(db, user, reana_env, monkeypatch):
    apply_env(monkeypatch, {
        "REANA_RUNTIME_KUBERNETES_SERVICEACCOUNT_NAME": "reana-runtime",
        "REANA_RUNTIME_BATCH_KUBERNETES_NODE_LABEL": "reana.io/system=runtimebatch",
        "REANA_RUNTIME_BATCH_TERMINATION_GRACE_PERIOD": "90",
        "REANA_STORAGE_BACKEND": "network", "REANA_SHARED_PVC_NAME": "shared-pvc",
        "REANA_COMPUTE_BACKENDS": '["kubernetes","slurm"]', "IMAGE_PULL_SECRETS": "regcred",
        "REANA_KUBERNETES_JOBS_MEMORY_LIMIT": "4Gi",
        # A Slurm cluster reached from the Kubernetes runtime: its job controller needs it all.
        "SLURM_HOSTNAME": "login.hpc.example.org", "SLURM_CLUSTER_PORT": "2222",
        "SLURM_PARTITION": "short", "REANA_SLURM_REMOTE_WORKDIR": "scratch/reana",
        "REANA_SERVER_URL": "http://server.example.org"})
    workflow = make_workflow(db, user, reana_env)
    workflow.reana_specification = {**workflow.reana_specification, "workflow": {
        **workflow.reana_specification["workflow"],
        "resources": {"cvmfs": ["atlas.cern.ch"], "kerberos": True}}}
    manifest = get_run_manager("kubernetes").manifest(workflow)
    validate(manifest, "1.30")
    from reana_commons.config import load_config
    from reana_commons.service_auth import run_token

    run_id = str(workflow.id_)
    assert manifest["metadata"]["name"] == f"reana-run-batch-{run_id}"
    assert manifest["metadata"]["labels"] == {"reana_workflow_mode": "batch",
                                              "reana-run-batch-workflow-uuid": run_id}
    assert manifest["spec"]["backoffLimit"] == 0
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["terminationGracePeriodSeconds"] == 90
    assert pod["serviceAccountName"] == "reana-runtime"
    assert pod["nodeSelector"] == {"reana.io/system": "runtimebatch"}
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["volumes"] == [{"name": "reana-shared-volume",
                               "persistentVolumeClaim": {"claimName": "shared-pvc"}}]
    engine, controller = pod["containers"]
    assert engine["command"] == ["/bin/bash", "-c"]
    assert engine["args"][0].startswith(f"run-serial-workflow --workflow-uuid {run_id} ")
    assert engine["securityContext"] == {"runAsUser": 1000, "runAsGroup": 0,
                                         "allowPrivilegeEscalation": False}
    env = {e["name"]: e for e in engine["env"]}
    assert env["REANA_JOB_CONTROLLER_URL"]["value"] == "http://localhost:5000"
    # workflow.resources, as REANA's engines read them (the engine kit gives them to jobs)
    assert env["REANA_WORKFLOW_KERBEROS"]["value"] == "True"
    assert env["REANA_MOUNT_CVMFS"]["value"] == "['atlas.cern.ch']"
    assert env["REANA_SECRET_KEY"] == {"name": "REANA_SECRET_KEY", "valueFrom": {
        "secretKeyRef": {"name": "reana-secrets", "key": "REANA_SECRET_KEY"}}}
    assert "test-secret-key" not in str(manifest)
    token = run_token(run_id)  # the run's own: another run's token opens nothing here
    assert controller["lifecycle"]["preStop"]["httpGet"] == {
        "path": "/shutdown", "port": 5000,
        "httpHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
    assert env["REANA_JOB_CONTROLLER_TOKEN"]["value"] == token
    assert controller["ports"][0]["containerPort"] == 5000
    jc_env = {e["name"]: e.get("value") for e in controller["env"]}
    assert jc_env["REANA_JOB_CONTROLLER_TOKEN"] == token
    assert jc_env["REANA_COMPUTE_BACKENDS"] == '["kubernetes", "slurm"]'
    assert jc_env["REANA_KUBERNETES_JOBS_MEMORY_LIMIT"] == "4Gi"
    assert {name: jc_env.get(name) for name in (
        "SLURM_HOSTNAME", "SLURM_CLUSTER_PORT", "SLURM_PARTITION", "REANA_SLURM_REMOTE_WORKDIR",
        "REANA_STORAGE_BACKEND", "IMAGE_PULL_SECRETS")} == {
        "SLURM_HOSTNAME": "login.hpc.example.org", "SLURM_CLUSTER_PORT": "2222",
        "SLURM_PARTITION": "short", "REANA_SLURM_REMOTE_WORKDIR": "scratch/reana",
        "REANA_STORAGE_BACKEND": "network", "IMAGE_PULL_SECRETS": "regcred"}
    assert "REANA_SERVER_URL" not in jc_env  # not a job controller's setting
    slurm = load_config(jc_env)  # what the job controller in the pod reads
    assert (slurm.slurm_hostname, slurm.slurm_cluster_port, slurm.slurm_partition) == (
        "login.hpc.example.org", 2222, "short")
    assert jc_env["REANA_SQLALCHEMY_DATABASE_URI"] == reana_env["REANA_SQLALCHEMY_DATABASE_URI"]
    for container in (engine, controller):
        mount = container["volumeMounts"][0]
        assert mount["mountPath"] == workflow.workspace_path
        assert mount["subPath"] == f"users/{user.id_}/workflows/{run_id}"
    # Live logs (ADR 0026): only the job controller mounts the run's own live-log folder.
    assert len(engine["volumeMounts"]) == 1
    live = controller["volumeMounts"][1]
    assert live["subPath"] == f".reana/live-logs/{run_id}" and not live.get("readOnly")
    assert live["mountPath"] == str(Path(reana_env["SHARED_VOLUME_PATH"]) / live["subPath"])


def test_problem_names_the_reason(db, user, reana_env, reana_on_k8s, monkeypatch):  # noqa: F811
    manager = get_run_manager("kubernetes")
    assert "names no Kubernetes Job" in manager.problem({"job_controller_url": "x"})
    apply_env(monkeypatch, {"REANA_WORKFLOW_ENGINE_IMAGE_SERIAL": "unpullable.example/e:1"})
    workflow = make_workflow(db, user, reana_env)
    handle = manager.start(workflow)
    deadline = time.monotonic() + 30
    while (problem := manager.problem(handle)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "workflow-engine container cannot start: " in problem
    assert "ErrImagePull" in problem or "ImagePullBackOff" in problem
    api.batch_v1().delete_namespaced_job(handle["job_name"], "default",
                                         propagation_policy="Background")
    assert manager.problem(handle) == f"its Kubernetes Job {handle['job_name']} was deleted"
    assert not manager.is_alive(handle)
    manager.cleanup(handle)  # nothing left: no error


def _running_batch_pod(cluster, handle):
    """The run's pod, once its engine has submitted the step (both containers are up)."""
    deadline = time.monotonic() + 30
    while True:
        jobs = cluster.store.list("jobs", "default")[0]
        pods = cluster.store.list("pods", "default", f"job-name={handle['job_name']}")[0]
        if pods and any(not j["metadata"]["name"].startswith("reana-run-batch-") for j in jobs):
            return pods[0]
        assert time.monotonic() < deadline, pods
        time.sleep(0.05)


def test_end_cause_names_a_deleted_pod_then_job(db, user, reana_env,
                                                reana_on_k8s):  # noqa: F811
    manager = get_run_manager("kubernetes")
    assert manager.end_cause(None) is None
    workflow = make_workflow(db, user, reana_env)
    handle = manager.start(workflow)
    name = _running_batch_pod(reana_on_k8s, handle)["metadata"]["name"]
    assert manager.end_cause(handle) is None  # intact: a failure would be the run's own
    api.core_v1().delete_namespaced_pod(name, "default")
    # Asked while the pod terminates (its engine's SIGTERM report is sent meanwhile).
    assert manager.end_cause(handle) == (f"its pod {name} (Kubernetes Job "
                                         f"{handle['job_name']}) was deleted")
    api.batch_v1().delete_namespaced_job(handle["job_name"], "default",
                                         propagation_policy="Background")
    assert manager.end_cause(handle) == f"its Kubernetes Job {handle['job_name']} was deleted"
    manager.cleanup(handle)


def test_end_cause_names_an_evicted_pod(db, user, reana_env, reana_on_k8s):  # noqa: F811
    manager = get_run_manager("kubernetes")
    handle = manager.start(make_workflow(db, user, reana_env))
    name = _running_batch_pod(reana_on_k8s, handle)["metadata"]["name"]

    def evicted(pod):  # what a kubelet under node pressure writes (the double never evicts)
        pod["status"].update(reason="Evicted", message="The node was low on resource: memory.")

    reana_on_k8s.store.update("pods", "default", name, evicted)
    assert manager.end_cause(handle) == (f"its pod {name} (Kubernetes Job {handle['job_name']}) "
                                         "was evicted: The node was low on resource: memory.")
    manager.cleanup(handle)


def _started_run(db, user, reana_env, cluster):
    from reana_workflow_controller import runs

    workflow = make_workflow(db, user, reana_env)
    runs.start_run(db, workflow, {}, {})
    handle = db.get(RunHandle, workflow.id_).handle
    _running_batch_pod(cluster, handle)
    return workflow, handle


def _engine_reports_sigterm(db, workflow):
    """What the serial engine publishes when its container gets SIGTERM, applied as the
    consumer does: the batch, then (committed) its after-commit work."""
    from reana_workflow_controller.consumers.after_commit import finish_run

    result = apply_batch(db, [{"workflow_uuid": str(workflow.id_), "status": RunStatus.failed.value,
                               "logs": "Workflow exited unexpectedly.\n", "seq": 99}])
    db.commit()
    for ended in result.ended:
        finish_run(ended)
    db.expire_all()
    return db.get(Workflow, workflow.id_)


def test_engine_report_of_a_deleted_job_names_the_job(db, user, reana_env,
                                                      reana_on_k8s):  # noqa: F811
    workflow, handle = _started_run(db, user, reana_env, reana_on_k8s)
    api.batch_v1().delete_namespaced_job(handle["job_name"], "default",
                                         propagation_policy="Background")
    run = _engine_reports_sigterm(db, workflow)
    assert RunStatus(run.status) == RunStatus.failed
    assert run.logs.endswith(f"Workflow exited unexpectedly.\nWorkflow {run.full_name} failed: "
                             f"its Kubernetes Job {handle['job_name']} was deleted.\n")
    get_run_manager("kubernetes").cleanup(handle)


def test_engine_report_after_a_user_stop_changes_nothing(db, user, reana_env,
                                                         reana_on_k8s):  # noqa: F811
    from reana_workflow_controller import runs

    workflow, handle = _started_run(db, user, reana_env, reana_on_k8s)
    runs.stop_run(db, workflow)  # deletes the Job too
    run = _engine_reports_sigterm(db, workflow)
    assert RunStatus(run.status) == RunStatus.stopped
    assert "was deleted" not in run.logs


def test_reconciler_names_a_deleted_job(db, user, reana_env, reana_on_k8s):  # noqa: F811
    from reana_workflow_controller.reconciler import Reconciler

    workflow, handle = _started_run(db, user, reana_env, reana_on_k8s)
    from reana_commons.metrics import RECONCILER_ACTIONS

    reconciler = Reconciler(grace=0, interval=1)
    assert reconciler.reconcile_once() == []
    api.batch_v1().delete_namespaced_job(handle["job_name"], "default",
                                         propagation_policy="Background")
    counted = RECONCILER_ACTIONS.labels("runtime_gone")._value.get()
    assert reconciler.reconcile_once() == [workflow.id_]
    assert RECONCILER_ACTIONS.labels("runtime_gone")._value.get() == counted + 1  # metrics
    db.expire_all()
    run = db.get(Workflow, workflow.id_)
    assert RunStatus(run.status) == RunStatus.failed
    assert (f"Workflow {run.full_name} failed: its Kubernetes Job {handle['job_name']} was "
            "deleted (detected by the reconciler") in run.logs
    # The engine's SIGTERM report, arriving second, adds its words and nothing else.
    run = _engine_reports_sigterm(db, workflow)
    assert RunStatus(run.status) == RunStatus.failed
    assert run.logs.count("was deleted") == 1
