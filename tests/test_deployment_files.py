"""Deployment files: docker-compose.yml, the Helm chart's values, the Dockerfiles, and every
manifest the platform itself sends to Kubernetes (validated with ``kubernetes-validate``)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "reana"
COMPOSE_SCHEMA = ROOT.parent / "shared" / "reference" / "compose-spec" / "compose-spec.json"
K8S_VERSION = "1.30"


# --- docker-compose.yml -----------------------------------------------------------------
def test_compose_file_follows_the_compose_specification():
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is not at {COMPOSE_SCHEMA}")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(compose, json.loads(COMPOSE_SCHEMA.read_text()))


def test_compose_file_has_the_platform():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "message-broker", "server", "scheduler", "workflow-controller",
            "job-status-consumer"} <= set(services)
    for name in ("server", "workflow-controller", "job-status-consumer"):
        assert "reana-shared:/var/reana" in services[name]["volumes"], name
    for name in ("server", "scheduler", "workflow-controller", "job-status-consumer"):
        env = services[name]["environment"]
        assert env["REANA_RUNTIME"] == "local" and env["REANA_COMPUTE_BACKENDS"] == '["local"]'
        assert env["SHARED_VOLUME_PATH"] == "/var/reana"
        assert "@db:5432/" in env["REANA_SQLALCHEMY_DATABASE_URI"]
        assert "@message-broker:5672" in env["RABBIT_MQ"]
    assert services["job-status-consumer"]["pid"] == "service:workflow-controller"
    for service in services.values():
        build = service.get("build")
        if build:
            assert (ROOT / build["dockerfile"]).is_file()


def test_compose_file_passes_docker_compose_config():
    """Docker Compose itself (Debian's docker-compose 1.29, no Docker engine needed) reads the
    file, interpolates it and checks it against its own schema; without REANA_SECRET_KEY it
    refuses, as the operator guide says."""
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (scripts/services/packages.txt lists it)")
    command = [compose, "-f", str(ROOT / "docker-compose.yml"), "--project-directory",
               str(ROOT), "config"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_"))}
    done = subprocess.run(command, env={**env, "REANA_SECRET_KEY": "k" * 64},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rendered = yaml.safe_load(done.stdout)
    assert rendered["services"]["server"]["environment"]["REANA_SECRET_KEY"] == "k" * 64
    assert rendered["services"]["server"]["ports"][0]["published"] in (30080, "30080")
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "set REANA_SECRET_KEY" in refused.stderr


# --- Helm chart -------------------------------------------------------------------------
HELM_VENV = ROOT / ".ci" / "venvs" / "helm-sdkpy"
HELM_SDKPY = "helm-sdkpy==0.1.32"
"""Python bindings of the Helm v4 Go library (the library itself ships inside the wheel);
the only Helm this machine can install (no Helm in Debian; PyPI's wheels need Python 3.12)."""
LINT = """
import asyncio, json, sys
import helm_sdkpy
from helm_sdkpy.chart import Lint

result = asyncio.run(Lint(helm_sdkpy.Configuration(namespace="reana")).run(sys.argv[1]))
print(json.dumps([{"severity": m["Severity"], "path": m["Path"], "error": str(m["Err"])}
                  for m in result["Messages"] or []] + [{"severity": 3, "path": "", "error": e}
                                                       for e in result["Errors"] or []]))
"""


def _python_3_12() -> str | None:
    """A working Python 3.12 (on PATH, or one pyenv installed)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in [shutil.which("python3.12"), *sorted(pyenv.glob("3.12*/bin/python3.12"))]:
        if candidate and subprocess.run([str(candidate), "-c", "import venv"],
                                        capture_output=True).returncode == 0:
            return str(candidate)
    return None


@pytest.fixture(scope="module")
def helm_python() -> Path:
    """A Python 3.12 venv with helm-sdkpy, made once under ``.ci/venvs`` (skip without 3.12)."""
    python = HELM_VENV / "bin" / "python"
    HELM_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(HELM_VENV.parent / "helm-sdkpy.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        check = [str(python), "-c", "import helm_sdkpy"]
        if not python.exists() or subprocess.run(check, capture_output=True).returncode:
            base = _python_3_12()
            if base is None:
                pytest.skip("helm lint needs Python 3.12 for helm-sdkpy (none found)")
            subprocess.run([base, "-m", "venv", "--clear", str(HELM_VENV)], check=True)
            install = subprocess.run([str(python), "-m", "pip", "install", "-q", HELM_SDKPY],
                                     capture_output=True, text=True, timeout=900)
            if subprocess.run(check, capture_output=True).returncode:
                pytest.skip(f"{HELM_SDKPY} could not be installed: {install.stderr[-500:]}")
    return python


def _helm_lint(python: Path, chart: Path) -> list[dict]:
    done = subprocess.run([str(python), "-c", LINT, str(chart)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_chart_passes_helm_lint(helm_python, tmp_path):
    """Helm's own linter (Helm v4's Go code, through helm-sdkpy) renders every template with
    the chart's values and checks the result and the values schema: no warning, no error.
    A broken copy of the chart is refused (the check can fail)."""
    messages = _helm_lint(helm_python, CHART)
    assert [m for m in messages if m["severity"] >= 2] == [], messages  # 2 warning, 3 error
    broken = tmp_path / "reana"
    shutil.copytree(CHART, broken)
    (broken / "templates" / "broken.yaml").write_text("kind: {{ .Values.nope.missing }}\n")
    assert any(m["severity"] == 3 for m in _helm_lint(helm_python, broken))

def _schema():
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return schema


def test_chart_values_follow_the_values_schema():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(values, _schema())
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "reana" and chart["version"]


@pytest.mark.parametrize("path, value", [
    (("compute_backends",), ["kubernetes", "not-a-backend"]),
    (("shared_storage", "backend"), "ftp"),
    (("kubernetes_jobs_memory_limit",), "lots"),
    (("node_label_runtimebatch",), "no-equals-sign"),
    (("components", "reana_server", "image"), ""),
    (("unknown_setting",), 1),
    (("slurm", "cluster_port"), 0),
])
def test_values_schema_refuses_bad_values(path, value):
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    target = values
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, _schema())


def test_templates_only_use_values_that_exist():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    used = set()
    for template in (CHART / "templates").iterdir():
        used |= set(re.findall(r"\.Values((?:\.\w+)+)", template.read_text()))
    assert used
    for reference in sorted(used):
        node = values
        for key in reference.strip(".").split("."):
            assert isinstance(node, dict) and key in node, f".Values{reference} is not in values"
            node = node[key]


def test_chart_has_the_platform_objects():
    text = {p.name: p.read_text() for p in (CHART / "templates").iterdir()}
    assert "name: rest-api" in text["server.yaml"] and "name: scheduler" in text["server.yaml"]
    assert "name: job-status-consumer" in text["workflow-controller.yaml"]
    assert "kind: Role" in text["rbac.yaml"]
    for resource in ('resources: ["jobs"]', 'resources: ["pods"]', 'resources: ["pods/log"]',
                     'resources: ["secrets"]'):
        assert resource in text["rbac.yaml"]
    assert "kind: Ingress" in text["ingress.yaml"]
    assert "- path: /\n" in text["ingress.yaml"], "the web UI (/) goes to reana-server too"
    assert "kind: PersistentVolumeClaim" in text["shared-volume.yaml"]
    assert "hostPath" in text["_helpers.tpl"]


# --- Dockerfiles ------------------------------------------------------------------------
def test_every_image_is_built_from_the_base():
    docker = ROOT / "docker"
    base = (docker / "Dockerfile.base").read_text()
    assert "pip install /code/reana-commons /code/reana-db" in base
    services = sorted(p for p in docker.glob("Dockerfile.*") if p.name != "Dockerfile.base")
    assert {p.name for p in services} >= {"Dockerfile.server", "Dockerfile.workflow-controller",
                                          "Dockerfile.job-controller",
                                          "Dockerfile.workflow-engine-serial"}
    for dockerfile in [docker / "Dockerfile.base", *services]:
        text = dockerfile.read_text()
        if dockerfile in services:
            assert "ARG BASE_IMAGE=reana/reana-base:" in text
            assert text.count("FROM ${BASE_IMAGE}") == 1, dockerfile.name
        for source in re.findall(r"^COPY (\S+) ", text, re.M):
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}"
    engine = (docker / "Dockerfile.workflow-engine-serial").read_text()
    assert "reana-workflow-engine-serial" in engine
    job_controller = (docker / "Dockerfile.job-controller").read_text()
    assert "slurm-client" in job_controller and "openssh-client" in job_controller


def test_images_carry_no_test_support():
    """Test plumbing lives in reana-testing, which no image installs; no service module
    imports pytest."""
    for dockerfile in (ROOT / "docker").glob("Dockerfile.*"):
        assert "reana-testing" not in dockerfile.read_text(), dockerfile.name
    shipped = [p for p in ROOT.glob("reana-*/reana_*/**/*.py")
               if not p.is_relative_to(ROOT / "reana-testing")]
    assert shipped
    for module in shipped:
        assert not re.search(r"^\s*(import pytest|from pytest)", module.read_text(), re.M), module


# --- manifests the platform creates -----------------------------------------------------
CONFIGS = {
    "hostpath": {},
    "network-storage-and-labels": {
        "REANA_STORAGE_BACKEND": "network", "REANA_SHARED_PVC_NAME": "reana-shared",
        "REANA_RUNTIME_BATCH_KUBERNETES_NODE_LABEL": "reana.io/system=runtimebatch",
        "REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL": "reana.io/system=runtimejobs,gpu=no",
        "REANA_RUNTIME_KUBERNETES_SERVICEACCOUNT_NAME": "reana-runtime",
        "IMAGE_PULL_SECRETS": "regcred,other", "REANA_KUBERNETES_JOBS_MEMORY_LIMIT": "2Gi",
        "REANA_KUBERNETES_JOBS_CPU_REQUEST": "500m",
        "REANA_RUNTIME_KUBERNETES_KEEP_ALIVE_JOBS_WITH_STATUSES": "failed",
    },
}


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_platform_manifest_validates(config, monkeypatch, db, user, reana_env):
    import kubernetes_validate
    from reana_commons.k8s import objects
    from reana_job_controller.job_managers.base import BackendContext, JobRecord
    from reana_job_controller.job_managers.kubernetes import KubernetesJobManager
    from reana_testing.job_controller import create_workflow
    from reana_testing.pytest_plugin import apply_env
    from reana_workflow_controller.run_managers.kubernetes import KubernetesRunManager

    apply_env(monkeypatch, CONFIGS[config])
    workflow = create_workflow(db, user, reana_env["SHARED_VOLUME_PATH"])
    workflow.reana_specification = {"workflow": {"type": "serial", "specification": {
        "steps": [{"environment": "docker.io/library/bash", "commands": ["echo 'x'"]}]}}}
    secrets = [("MY_TOKEN", "env", b"s3cr3t"), ("cert.pem", "file", b"-----CERT-----\n")]
    manifests = [KubernetesRunManager().manifest(workflow),
                 objects.user_secret(user.id_, secrets, {"reana-secretsstore-user-uuid": "u"})]
    context = BackendContext(str(workflow.id_), Path(workflow.workspace_path),
                             Path(reana_env["REANA_HOME"]), dict, lambda: None)
    manager = KubernetesJobManager(context)
    manager._owner, manager._secrets = user.id_, secrets  # as synced from the database
    for extra in ({}, {"kubernetes_uid": 500, "kubernetes_memory_limit": "1Gi",
                       "kubernetes_memory_request": "512Mi", "kubernetes_cpu_limit": "2",
                       "kubernetes_job_timeout": 3600}):
        job = JobRecord(id=str(uuid.uuid4()), workflow_uuid=str(workflow.id_), status=None,
                        cmd=f"cd {workflow.workspace_path} && python -c 'print(1)'",
                        docker_img="docker.io/library/python:3.11",
                        env_vars={"A": "1"}, spec=extra)
        manifests.append(manager.manifest(job))
    for manifest in manifests:
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        bad = json.loads(json.dumps(manifest))
        bad["metadata"]["unexpected"] = True
        with pytest.raises(kubernetes_validate.ValidationError):  # the check can fail
            kubernetes_validate.validate(bad, K8S_VERSION, strict=True)
