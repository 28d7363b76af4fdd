"""The fake cluster: object store, Job controller, kubelet and schema validation together."""

from __future__ import annotations

import os
import secrets
import sys
import threading
from pathlib import Path

import yaml

from k8s_double.kubelet import PodRunner
from k8s_double.store import ApiError, Store, now

KINDS = {"pods": ("v1", "Pod"), "secrets": ("v1", "Secret"), "jobs": ("batch/v1", "Job"),
         "services": ("v1", "Service"), "deployments": ("apps/v1", "Deployment")}
HOST_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


class FakeCluster:
    """State and behaviour of the double; :class:`k8s_double.server.ApiServer` serves it."""

    def __init__(self, state_dir: Path, k8s_version: str = "1.30",
                 nodes: dict[str, dict] | None = None,
                 unpullable_prefixes: tuple[str, ...] = ("unpullable.example/",),
                 pvc_paths: dict[str, str] | None = None):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.k8s_version = k8s_version
        self.nodes = nodes if nodes is not None else {
            "node-1": {"kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux"}}
        self.unpullable_prefixes = unpullable_prefixes
        self.pvc_paths = dict(pvc_paths or {})
        self.store = Store()
        self.runners: dict[tuple[str, str], PodRunner] = {}
        self.rejections: list[str] = []
        """Requests refused by schema validation (a test fails on any)."""
        self.problems: list[str] = []
        """Errors inside the double itself."""
        self.created: list[dict] = []
        """Every object as the platform sent it (validated), in order."""
        self.requests: list[tuple[str, str]] = []
        """``(method, path)`` of every request (tests check the API was watched, not polled)."""
        self.kubeconfig = self.state_dir / "kubeconfig"
        # The images' console scripts: the services' venv, and the engines' own venv (an
        # engine image has its engine on PATH, e.g. run-yadage-workflow).
        from reana_commons.workflow_types import engines_bin_dir

        bin_dirs = [os.path.dirname(sys.executable), str(engines_bin_dir())]
        self.host_env = {k: os.environ[k] for k in HOST_ENV if k in os.environ}
        self.host_env["PATH"] = os.pathsep.join(
            [*bin_dirs, os.environ.get("PATH", "/usr/bin:/bin")])
        self._image_site()
        self._all_runners: list[PodRunner] = []
        self._lock = threading.Lock()

    def _image_site(self) -> None:
        """Pods run with the platform's images' Python packages, i.e. without the test tools.

        The images do not carry ``kubernetes-validate``; in this venv the official client
        would import it (and jsonschema's format checkers, seconds of CPU) in every pod.
        """
        site = self.state_dir / "image-site"
        site.mkdir(exist_ok=True)
        (site / "kubernetes_validate.py").write_text(
            'raise ImportError("kubernetes-validate is a test tool, not in the images")\n')
        self.host_env["PYTHONPATH"] = str(site)

    def write_kubeconfig(self, url: str) -> Path:
        """A kubeconfig for ``url`` (given to clients, and to pods as their service account)."""
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "double",
            "clusters": [{"name": "double", "cluster": {"server": url}}],
            "users": [{"name": "double", "user": {"token": "double-token"}}],
            "contexts": [{"name": "double", "context": {"cluster": "double", "user": "double",
                                                        "namespace": "default"}}],
        }))
        return self.kubeconfig

    # --- validation ----------------------------------------------------------------------
    def validate(self, resource: str, body: dict) -> None:
        """Refuse (422) what the real OpenAPI schema refuses (strict: no unknown fields)."""
        from k8s_double.validation import SchemaError, validate

        api_version, kind = KINDS[resource]
        if body.get("apiVersion") != api_version or body.get("kind") != kind:
            self._reject(f"{resource}: expected apiVersion {api_version} kind {kind}, got "
                         f"{body.get('apiVersion')} {body.get('kind')}")
        try:
            validate(body, self.k8s_version)
        except SchemaError as error:
            self._reject(f"{kind} {body.get('metadata', {}).get('name')}: {error}")

    def _reject(self, message: str) -> None:
        self.rejections.append(message)
        raise ApiError(422, "Invalid", message)

    # --- create / delete -----------------------------------------------------------------
    def create(self, resource: str, namespace: str, body: dict) -> dict:
        self.validate(resource, body)
        self.created.append(body)
        if resource == "secrets":
            body = _secret_with_string_data(body)
        if resource == "jobs":
            return self._create_job(namespace, body)
        if resource == "pods":
            body = {**body, "status": {"phase": "Pending", "qosClass": "BestEffort"}}
        if resource == "deployments":  # stored, its pods are not run (see the README)
            body = {**body, "status": {"observedGeneration": 1,
                                       "replicas": body["spec"].get("replicas", 1)}}
        created = self.store.create(resource, namespace, body)
        if resource == "pods":
            self._start_pod(namespace, created)
        return created

    def replace(self, resource: str, namespace: str, name: str, body: dict) -> dict:
        self.validate(resource, body)
        self.created.append(body)
        if resource != "secrets":
            raise ApiError(405, "MethodNotAllowed", f"the double cannot replace {resource}")
        return self.store.replace(resource, namespace, name, _secret_with_string_data(body))

    def delete(self, resource: str, namespace: str, name: str, options: dict) -> dict:
        obj = self.store.get(resource, namespace, name)
        if resource == "pods":
            return self._delete_pod(namespace, obj, options.get("gracePeriodSeconds"))
        self.store.delete(resource, namespace, name)
        if resource == "jobs" and options.get("propagationPolicy") in ("Background",
                                                                          "Foreground"):
            selector = f"controller-uid={obj['metadata']['uid']}"
            for pod in self.store.list("pods", namespace, selector)[0]:
                self._delete_pod(namespace, pod, None)
        return obj

    # --- jobs ----------------------------------------------------------------------------
    def _create_job(self, namespace: str, body: dict) -> dict:
        job = self.store.create("jobs", namespace, body)
        name, uid = job["metadata"]["name"], job["metadata"]["uid"]
        owner_labels = {"controller-uid": uid, "job-name": name,
                        "batch.kubernetes.io/controller-uid": uid,
                        "batch.kubernetes.io/job-name": name}

        def defaults(j):
            template = j["spec"]["template"]
            template.setdefault("metadata", {}).setdefault("labels", {}).update(owner_labels)
            j["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
            j["status"] = {"startTime": now(), "active": 1}

        job = self.store.update("jobs", namespace, name, defaults)
        template = job["spec"]["template"]
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{name}-{secrets.token_hex(3)[:5]}",
                         "labels": template["metadata"]["labels"],
                         "annotations": template["metadata"].get("annotations") or {},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                                              "name": name, "uid": uid, "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": template["spec"],
        }
        self.validate("pods", pod)
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        created = self.store.create("pods", namespace, pod)
        self._start_pod(namespace, created)
        return job

    def pod_ended(self, namespace: str, pod_name: str) -> None:
        """Kubelet callback: reflect a terminal pod in its Job's status."""
        try:
            pod = self.store.get("pods", namespace, pod_name)
        except ApiError:
            return
        owners = pod["metadata"].get("ownerReferences") or []
        if not owners:
            return
        ok = pod["status"]["phase"] == "Succeeded"

        def finish(job):
            status = job.setdefault("status", {})
            status["active"] = 0
            status["succeeded" if ok else "failed"] = 1
            status["conditions"] = [{
                "type": "Complete" if ok else "Failed", "status": "True",
                "lastProbeTime": now(), "lastTransitionTime": now(),
                **({} if ok else {"reason": "BackoffLimitExceeded",
                                  "message": "Job has reached the specified backoff limit"})}]
            if ok:
                status["completionTime"] = now()

        self.store.update("jobs", namespace, owners[0]["name"], finish)

    # --- pods ----------------------------------------------------------------------------
    def _start_pod(self, namespace: str, pod: dict) -> None:
        runner = PodRunner(self, namespace, pod["metadata"]["name"])
        with self._lock:
            self.runners[(namespace, pod["metadata"]["name"])] = runner
            self._all_runners.append(runner)
        runner.start()

    def _delete_pod(self, namespace: str, pod: dict, grace) -> dict:
        name = pod["metadata"]["name"]
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)

        def marked(p):
            p["metadata"]["deletionTimestamp"] = now()
            p["metadata"]["deletionGracePeriodSeconds"] = int(grace)

        marked_pod = self.store.update("pods", namespace, name, marked) or pod
        with self._lock:
            runner = self.runners.pop((namespace, name), None)

        def finish():
            if runner is not None:
                runner.terminate(marked_pod, float(grace))
            self.store.delete("pods", namespace, name)

        threading.Thread(target=finish, name=f"delete-{name}", daemon=True).start()
        return marked_pod

    def sent(self, kind: str) -> list[dict]:
        """The objects of ``kind`` the platform created or replaced."""
        return [obj for obj in self.created if obj.get("kind") == kind]

    def schedule(self, selector: dict) -> str | None:
        """The first node whose labels satisfy ``selector``."""
        for name, labels in self.nodes.items():
            if all(labels.get(k) == v for k, v in selector.items()):
                return name
        return None

    def shutdown(self) -> None:
        """Kill every pod's processes (end of a test)."""
        self.store.close()
        with self._lock:
            runners = list(self._all_runners)  # also the pods being deleted
            self.runners.clear()
        for runner in runners:
            runner.deleting.set()
            for proc in runner.procs.values():
                if proc.poll() is not None:
                    continue  # reaped: its pid may belong to someone else now
                try:
                    os.killpg(proc.pid, 9)
                except OSError:
                    pass
            for proc in runner.procs.values():
                if proc.returncode is not None:
                    continue
                try:
                    proc.wait(5)
                except Exception:  # noqa: BLE001
                    pass


def _secret_with_string_data(body: dict) -> dict:
    import base64

    body = dict(body)
    string_data = body.pop("stringData", None) or {}
    data = dict(body.get("data") or {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()
    body["data"] = data
    return body
