"""The double's kubelet: schedules a pod on a fake node and runs its containers as processes.

Each container's ``command + args`` runs as a local process group with the
container's env (``$(VAR)`` expanded as Kubernetes does, ``secretKeyRef``
resolved), in ``workingDir``. Volumes become paths: a hostPath (plus subPath)
mounted at the same path is used as is; any other mount (a Secret, a hostPath
at another path) is bind-mounted in a private mount namespace (``unshare``).
Simulated: unschedulable pods, image pull errors, OOM kills (RSS of the
container's tree above its memory limit → SIGKILL, ``OOMKilled``) and
``activeDeadlineSeconds`` (``DeadlineExceeded``). ``runAsUser`` is not applied.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import requests

from k8s_double.store import ApiError, now

TICK = 0.05
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$")
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_bytes(text: str | None) -> int | None:
    """``"64Mi"`` → bytes (the memory quantities the double enforces)."""
    if not text:
        return None
    match = re.match(r"^(\d+(?:\.\d+)?)([kMGT]i?)?$", str(text))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def expand(text: str, env: dict) -> str:
    """Kubernetes' ``$(VAR)`` expansion: unknown references stay, ``$$`` is a ``$``."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


class ContainerError(Exception):
    """A container cannot start: ``(reason, message)`` as its waiting state."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class PodRunner:
    """Runs one pod from scheduling to its end (a thread per pod)."""

    def __init__(self, cluster, namespace: str, name: str):
        self.cluster = cluster
        self.namespace, self.name = namespace, name
        self.dir = cluster.state_dir / "pods" / namespace / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.deleting = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"pod-{name}", daemon=True)

    # --- status helpers ------------------------------------------------------------------
    def _status(self, mutate) -> dict | None:
        return self.cluster.store.update("pods", self.namespace, self.name, mutate)

    def log_path(self, container: str) -> Path:
        return self.dir / f"{container}.log"

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self._lifecycle()
        except Exception as error:  # noqa: BLE001 - a double bug must show in the pod
            self.cluster.problems.append(f"pod {self.name}: {error!r}")
        finally:
            self.done.set()

    def _lifecycle(self) -> None:
        pod = self.cluster.store.get("pods", self.namespace, self.name)
        spec = pod["spec"]
        node = self.cluster.schedule(spec.get("nodeSelector") or {})
        if node is None:
            total = len(self.cluster.nodes)
            message = (f"0/{total} nodes are available: {total} node(s) didn't match Pod's "
                       "node affinity/selector.")
            self._status(lambda p: p["status"].update(phase="Pending", conditions=[{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": message, "lastTransitionTime": now()}]))
            return
        containers = spec["containers"]

        def scheduled(p):
            p["spec"]["nodeName"] = node
            p["status"].update(phase="Pending", hostIP="127.0.0.1", podIP="127.0.0.1",
                               startTime=now(), conditions=[_condition("PodScheduled")],
                               containerStatuses=[_waiting(c, "ContainerCreating", "")
                                                  for c in containers])

        self._status(scheduled)
        try:
            argvs = {c["name"]: self._prepare(pod, c) for c in containers}
        except ContainerError as error:
            self._cannot_start(containers, error)
            return
        started = time.monotonic()
        for container in containers:
            self._spawn(container, *argvs[container["name"]])

        def running(p):
            p["status"].update(phase="Running", conditions=[
                _condition("PodScheduled"), _condition("Initialized"), _condition("Ready")])
            p["status"]["containerStatuses"] = [_running(c) for c in containers]

        self._status(running)
        self._supervise(pod, containers, started)

    def _cannot_start(self, containers: list, error: ContainerError) -> None:
        def waiting(p):
            p["status"]["containerStatuses"] = [_waiting(c, error.reason, error.message)
                                                for c in containers]

        self._status(waiting)
        if error.reason == "ErrImagePull":
            if not self.deleting.wait(0.2):
                error.reason = "ImagePullBackOff"
                error.message = f"Back-off pulling image: {error.message}"
                self._status(waiting)

    # --- containers ----------------------------------------------------------------------
    def _prepare(self, pod: dict, container: dict) -> tuple[list, dict, str]:
        image = container.get("image", "")
        if not _IMAGE.match(image):
            raise ContainerError("InvalidImageName",
                                 f'Failed to apply default image tag "{image}": '
                                 "couldn't parse image name")
        if any(image.startswith(prefix) for prefix in self.cluster.unpullable_prefixes):
            raise ContainerError("ErrImagePull",
                                 f'failed to pull and unpack image "{image}": not found')
        env = self._env(pod, container)
        argv = [expand(a, env) for a in (container.get("command") or [])
                + (container.get("args") or [])]
        if not argv:
            raise ContainerError("CreateContainerError", "the double needs a command")
        workdir = container.get("workingDir") or "/"
        binds = self._binds(pod, container)
        if binds:
            script = "set -e; " + "; ".join(
                f"mkdir -p {shlex.quote(t)}; mount --bind {shlex.quote(s)} {shlex.quote(t)}"
                + (f"; mount -o remount,bind,ro {shlex.quote(t)}" if ro else "")
                for s, t, ro in binds) + '; cd "$0"; exec "$@"'
            argv = ["unshare", "--mount", "--propagation", "private", "bash", "-c", script,
                    workdir, *argv]
        return argv, env, workdir

    def _env(self, pod: dict, container: dict) -> dict:
        env = dict(self.cluster.host_env)
        env.update(HOSTNAME=self.name, KUBECONFIG=str(self.cluster.kubeconfig))
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = expand(str(item["value"]), env)
                continue
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if ref is None:
                raise ContainerError("CreateContainerConfigError",
                                     f"the double does not support env {item['name']}")
            env[item["name"]] = self._secret_value(ref["name"], ref["key"]).decode()
        return env

    def _secret_value(self, name: str, key: str) -> bytes:
        try:
            secret = self.cluster.store.get("secrets", self.namespace, name)
        except ApiError:
            raise ContainerError("CreateContainerConfigError",
                                 f'secret "{name}" not found') from None
        if key not in (secret.get("data") or {}):
            raise ContainerError("CreateContainerConfigError",
                                 f"couldn't find key {key} in Secret {self.namespace}/{name}")
        return base64.b64decode(secret["data"][key])

    def _binds(self, pod: dict, container: dict) -> list[tuple[str, str, bool]]:
        volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
        binds = []
        for mount in container.get("volumeMounts") or []:
            volume = volumes.get(mount["name"])
            if volume is None:
                raise ContainerError("CreateContainerConfigError",
                                     f"volume {mount['name']} not found")
            source = self._volume_path(volume)
            if mount.get("subPath"):
                source = source / mount["subPath"]
            if not source.exists():
                raise ContainerError("CreateContainerConfigError",
                                     f"subPath {source} does not exist on the node")
            if source.resolve() != Path(mount["mountPath"]).resolve():
                binds.append((str(source), mount["mountPath"], bool(mount.get("readOnly"))))
        return binds

    def _volume_path(self, volume: dict) -> Path:
        if "hostPath" in volume:
            return Path(volume["hostPath"]["path"])
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if claim not in self.cluster.pvc_paths:
                raise ContainerError("CreateContainerConfigError",
                                     f'persistentvolumeclaim "{claim}" not found')
            return Path(self.cluster.pvc_paths[claim])
        if "secret" in volume:
            return self._secret_files(volume)
        raise ContainerError("CreateContainerConfigError",
                             f"the double does not support volume {volume['name']}")

    def _secret_files(self, volume: dict) -> Path:
        spec = volume["secret"]
        folder = self.dir / "volumes" / volume["name"]
        folder.mkdir(parents=True, exist_ok=True)
        try:
            secret = self.cluster.store.get("secrets", self.namespace, spec["secretName"])
        except ApiError:
            raise ContainerError("CreateContainerConfigError",
                                 f'secret "{spec["secretName"]}" not found') from None
        data = secret.get("data") or {}
        items = spec.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            target = folder / item["path"]
            target.write_bytes(base64.b64decode(data[item["key"]]))
            os.chmod(target, item.get("mode", spec.get("defaultMode", 0o644)))
        return folder

    def _spawn(self, container: dict, argv: list, env: dict, workdir: str) -> None:
        with open(self.log_path(container["name"]), "ab") as log:
            self.procs[container["name"]] = subprocess.Popen(
                argv, env=env, cwd=workdir if not argv[0] == "unshare" else "/",
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True)

    # --- supervision ---------------------------------------------------------------------
    def _supervise(self, pod: dict, containers: list, started: float) -> None:
        limits = {c["name"]: quantity_bytes(((c.get("resources") or {}).get("limits") or {})
                                            .get("memory")) for c in containers}
        deadline = pod["spec"].get("activeDeadlineSeconds")
        ended: dict[str, dict] = {}
        oom: set[str] = set()
        pod_reason = None
        while len(ended) < len(containers):
            for name, proc in self.procs.items():
                if name in ended:
                    continue
                code = proc.poll()
                if code is not None:
                    exit_code = 128 - code if code < 0 else code
                    reason = "OOMKilled" if name in oom else (
                        "Completed" if exit_code == 0 else "Error")
                    ended[name] = {"exitCode": exit_code, "reason": reason}
                    if len(ended) < len(containers):
                        self._container_ended(name, ended[name])
                elif limits.get(name) and _tree_rss(proc.pid) > limits[name]:
                    oom.add(name)
                    _kill_group(proc.pid, signal.SIGKILL)
            if deadline and pod_reason is None and time.monotonic() - started > deadline:
                pod_reason = "DeadlineExceeded"
                for proc in self.procs.values():
                    if proc.poll() is None:
                        _kill_group(proc.pid, signal.SIGKILL)
            if len(ended) < len(containers):
                time.sleep(TICK)
        self._finish(containers, ended, pod_reason)

    def _container_ended(self, name: str, end: dict) -> None:
        """One container ended while others run: the kubelet reports it at once (the pod
        stays ``Running``, not ``Ready``), as a real kubelet does."""

        def terminated(p):
            status = p["status"]
            status["conditions"] = [_condition("PodScheduled"), _condition("Initialized"),
                                    _condition("Ready", "False")]
            status["containerStatuses"] = [
                _terminated(c, end) if c["name"] == name else c
                for c in status.get("containerStatuses") or []]

        self._status(terminated)

    def _finish(self, containers: list, ended: dict, pod_reason: str | None) -> None:
        succeeded = pod_reason is None and all(e["reason"] == "Completed" for e in ended.values())
        if not succeeded and pod_reason is None and all(
                e["exitCode"] == 0 for e in ended.values()):
            succeeded = True  # Kubernetes: phase Succeeded, a container reason tells the OOM

        def finished(p):
            status = p["status"]
            status["phase"] = "Succeeded" if succeeded else "Failed"
            if pod_reason:
                status["reason"] = pod_reason
                status["message"] = ("Pod was active on the node longer than the specified "
                                     "deadline")
            status["conditions"] = [_condition("PodScheduled"), _condition("Ready", "False")]
            status["containerStatuses"] = [_terminated(c, ended[c["name"]])
                                           for c in containers]

        self._status(finished)
        self.cluster.pod_ended(self.namespace, self.name)

    # --- deletion ------------------------------------------------------------------------
    def terminate(self, pod: dict, grace: float) -> None:
        """preStop hooks, SIGTERM, SIGKILL after ``grace``; returns when the pod ended."""
        self.deleting.set()
        if self.procs:
            for container in pod["spec"]["containers"]:
                hook = ((container.get("lifecycle") or {}).get("preStop") or {}).get("httpGet")
                if hook and container["name"] in self.procs:
                    port = hook["port"]
                    try:
                        headers = {h["name"]: h["value"] for h in hook.get("httpHeaders") or []}
                        requests.get(f"http://127.0.0.1:{port}{hook.get('path', '/')}",
                                     headers=headers, timeout=max(grace, 1))
                    except requests.RequestException:
                        pass
            for proc in self.procs.values():
                if proc.poll() is None:
                    _kill_group(proc.pid, signal.SIGTERM)
            end = time.monotonic() + grace
            while time.monotonic() < end and any(p.poll() is None for p in self.procs.values()):
                time.sleep(TICK)
            for proc in self.procs.values():
                if proc.poll() is None:
                    _kill_group(proc.pid, signal.SIGKILL)
            self.done.wait(10)


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def _condition(type_: str, status: str = "True") -> dict:
    return {"type": type_, "status": status, "lastTransitionTime": now()}


def _base(container: dict) -> dict:
    return {"name": container["name"], "image": container.get("image", ""),
            "imageID": "", "restartCount": 0}


def _waiting(container: dict, reason: str, message: str) -> dict:
    state = {"reason": reason}
    if message:
        state["message"] = message
    return {**_base(container), "ready": False, "started": False, "state": {"waiting": state}}


def _running(container: dict) -> dict:
    return {**_base(container), "ready": True, "started": True,
            "state": {"running": {"startedAt": now()}}}


def _terminated(container: dict, end: dict) -> dict:
    return {**_base(container), "ready": False, "started": False,
            "state": {"terminated": {"exitCode": end["exitCode"], "reason": end["reason"],
                                     "startedAt": now(), "finishedAt": now()}}}
