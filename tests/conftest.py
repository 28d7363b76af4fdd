"""End-to-end fixtures: a live platform started the way `make up` does, and reana-client 0.9.6.

``start_platform`` runs ``scripts/up.sh`` with an isolated ``REANA_HOME``, free ports and,
for the *services* profile, a fresh PostgreSQL database and RabbitMQ queue prefix;
``scripts/down.sh`` stops it. The real reana-client 0.9.6 lives in its own venv
(:mod:`reana_testing.reana_client_096`, created once under a file lock) and is run
through its Python, so a moved venv still works.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests
from k8s_double.pytest_plugin import k8s_cluster, reana_on_k8s  # noqa: F401 - fixtures
from reana_testing.pytest_plugin import (
    RABBITMQ_URL,
    SHARED_DIR,
    apply_env,
    create_postgres_database,
    delete_rabbitmq_queues,
    release_postgres_database,
    require_service,
)
from reana_testing.reana_client_096 import ClientUnavailable, ensure_client_venv

ROOT = Path(__file__).resolve().parents[1]
DEMOS = Path(os.environ.get("REANA_DEMOS", str(SHARED_DIR / "demos")))
HELLOWORLD = DEMOS / "reana-demo-helloworld"
CLIENT_MAIN = "import sys; from reana_client.cli import cli; sys.argv[0] = 'reana-client'; cli()"
SERVICES = ("server", "controller", "scheduler", "consumer", "zygote")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def client_python() -> Path:
    """The Python of the venv holding the real reana-client 0.9.6."""
    try:
        return ensure_client_venv() / "bin" / "python"
    except ClientUnavailable as error:
        pytest.skip(str(error))


@dataclass
class LivePlatform:
    """A platform started by scripts/up.sh."""

    home: Path
    env: dict
    url: str
    token: str
    profile: str
    cleanup: list = field(default_factory=list)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the public REST API, with the admin token unless ``params`` names another."""
        params = dict(kwargs.pop("params", {}) or {})
        params.setdefault("access_token", self.token)
        return requests.request(method, self.url + path, params=params, timeout=60, **kwargs)

    def client(self, client_python: Path, *args, cwd=None, check=True, timeout=300):
        """Run reana-client 0.9.6 against this platform."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
        env.update({"REANA_SERVER_URL": self.url, "REANA_ACCESS_TOKEN": self.token})
        result = subprocess.run(
            [str(client_python), "-W", "ignore", "-c", CLIENT_MAIN, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"reana-client {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def own_client(self, *args, cwd=None, check=True, token=None, bravado=False, timeout=300):
        """Run the project's reana-client against this platform (``bravado``: its answers
        validated against the OpenAPI spec)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
        env.update({"REANA_SERVER_URL": self.url, "REANA_ACCESS_TOKEN": token or self.token})
        if bravado:
            env["REANA_CLIENT_BRAVADO"] = "1"
        result = subprocess.run([str(Path(sys.executable).parent / "reana-client"), *args],
                                cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"reana-client {' '.join(args)} failed ({result.returncode}):"
                                 f"\n{result.stdout}\n{result.stderr}")
        return result

    def supervisorctl(self, *args) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.home / "supervisord.conf"),
             *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout

    def service_pid(self, name: str) -> int:
        return int(self.supervisorctl("pid", name).strip())

    def kill_service(self, name: str) -> int:
        """kill -9 one supervised service; supervisord starts it again."""
        pid = self.service_pid(name)
        os.kill(pid, 9)
        return pid

    def wait_service(self, name: str, old_pid: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                pid = self.service_pid(name)
                if pid and pid != old_pid and psutil.pid_exists(pid):
                    return
            except ValueError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{name} was not restarted")

    def status(self, workflow: str) -> dict:
        response = self.api("GET", f"/api/workflows/{workflow}/status")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_status(self, workflow: str, statuses=("finished", "failed", "stopped"),
                    seconds: float = 120) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            body = self.status(workflow)
            if body["status"] in statuses:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{workflow} still {body['status']} after {seconds}s")
            time.sleep(0.2)

    def create_user(self, email: str) -> str:
        """A new user of this platform (``reana-admin user-create``); returns its token."""
        env = dict(self.env, REANA_SECRET_KEY=(self.home / "secret-key").read_text().strip())
        result = subprocess.run(
            [str(ROOT / ".venv/bin/reana-admin"), "user-create", "--email", email],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    def submit(self, spec: dict, name: str, token: str | None = None,
               parameters: dict | None = None) -> str:
        """Create and start a run through the REST API (what reana-client run does)."""
        params = {"access_token": token or self.token, "workflow_name": name}
        for _ in range(3):  # a connection reset between server and controller under load
            created = requests.post(
                self.url + "/api/workflows", params=params, json=spec, timeout=120
            )
            if created.status_code != 502:
                break
        assert created.status_code == 201, created.text
        run_id = created.json()["workflow_id"]
        started = requests.post(
            f"{self.url}/api/workflows/{run_id}/start",
            params={"access_token": token or self.token},
            json={"input_parameters": parameters or {}, "operational_options": {}},
            timeout=120,
        )
        assert started.status_code == 200, started.text
        return run_id

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts/down.sh")], env=self.env, capture_output=True,
                       timeout=120)


def serial_spec(*commands: str) -> dict:
    """A serial reana.yaml (as JSON) with one step per command."""
    return {
        "version": "0.9.0",
        "inputs": {"parameters": {}},
        "workflow": {
            "type": "serial",
            "specification": {
                "steps": [
                    {"name": f"s{i}", "environment": "docker.io/library/bash:5.2",
                     "commands": [command]}
                    for i, command in enumerate(commands)
                ]
            },
        },
    }


def platform_env(home: Path) -> dict:
    """The environment `make up` gets for an isolated platform: ``home`` and free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_MQ"))}
    env.update(
        {
            "REANA_HOME": str(home),
            "REANA_SERVER_PORT": str(free_port()),
            "REANA_WORKFLOW_CONTROLLER_PORT": str(free_port()),
            "REANA_RECONCILE_GRACE": "2",
            "REANA_RECONCILE_INTERVAL": "0.5",
            # Demo steps run tools installed into the platform's venv (requirements-demos.txt,
            # e.g. papermill): sandboxed jobs see it, and the Python it was made from, read-only.
            "REANA_LOCAL_JOB_READONLY_PATHS": os.pathsep.join((str(ROOT / ".venv"),
                                                               sys.base_prefix)),
        }
    )
    return env


def start_platform(home: Path, profile: str, extra: dict | None = None) -> LivePlatform:
    """Start the whole platform like `make up`, on free ports (``profile``: embedded|services)."""
    env = platform_env(home)
    cleanup = []
    if profile == "services":
        require_service("RabbitMQ", RABBITMQ_URL, 5672)
        database = create_postgres_database()
        prefix = f"e2e-{uuid.uuid4().hex[:8]}-"
        env.update(
            {
                "REANA_SQLALCHEMY_DATABASE_URI": database,
                "RABBIT_MQ": RABBITMQ_URL,
                "REANA_QUEUE_PREFIX": prefix,
                # Several platforms share one PostgreSQL (max_connections 100) in the tests.
                "SQLALCHEMY_POOL_SIZE": "2",
                "SQLALCHEMY_MAX_OVERFLOW": "8",
            }
        )
        cleanup.append(lambda: release_postgres_database(database))
        cleanup.append(lambda: delete_rabbitmq_queues(prefix))
    env.update(extra or {})
    result = subprocess.run(
        [str(ROOT / "scripts/up.sh")], env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        subprocess.run([str(ROOT / "scripts/down.sh")], env=env, timeout=120)
        raise AssertionError(f"scripts/up.sh failed:\n{result.stdout}\n{result.stderr}")
    values = {}
    for line in (home / "env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        values[key] = value
    return LivePlatform(home, env, values["REANA_SERVER_URL"], values["REANA_ACCESS_TOKEN"],
                        profile, cleanup)


def stop_platform(platform: LivePlatform) -> None:
    platform.stop()
    for step in platform.cleanup:
        try:
            step()
        except Exception:  # noqa: BLE001 - best effort after the test
            pass


PROFILES = [
    "embedded",
    pytest.param("services", marks=[pytest.mark.postgres, pytest.mark.rabbitmq]),
]
"""The deployment profiles a module-scoped platform fixture is parametrized over."""


@pytest.fixture(scope="module", params=PROFILES)
def live_platform(request, tmp_path_factory):
    """A live platform per test module, on the embedded and on the services profile."""
    platform = start_platform(tmp_path_factory.mktemp("live") / "reana-home", request.param)
    yield platform
    stop_platform(platform)


# -- runs on Kubernetes (the double): tests/test_k8s_e2e.py, tests/test_engines_k8s_e2e.py ----

SQLITE = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
"""A test of the Kubernetes runtime on SQLite only (the database is not what it tests)."""


@pytest.fixture
def reconcile_grace():
    """Seconds the reconciler waits before failing a dead run (a test may parametrize it)."""
    return "1"


@pytest.fixture
def k8s_platform(monkeypatch, reana_on_k8s, tmp_path, reconcile_grace):  # noqa: F811
    """The Kubernetes double plus a job-status consumer (with its reconciler) as a real
    process; runs are started in the test with ``reana_workflow_controller.runs.start_run``."""
    from reana_commons.messaging import get_connection, jobs_status_queue

    apply_env(monkeypatch, {"REANA_RECONCILE_INTERVAL": "0.3",
                            "REANA_RECONCILE_GRACE": reconcile_grace,
                            "REANA_KUBERNETES_JOBS_UNSCHEDULABLE_TIMEOUT": "1"})
    # The status queue is declared before the consumer and engines race to (the embedded
    # transport can fail one of two simultaneous declarations with a UNIQUE violation).
    with get_connection() as connection:
        jobs_status_queue()(connection.default_channel).declare()
    log = open(tmp_path / "consumer.log", "wb")  # noqa: SIM115 - closed below
    command = os.path.join(os.path.dirname(sys.executable), "reana-workflow-controller")
    env = dict(os.environ, PYTHONPATH=reana_on_k8s.host_env["PYTHONPATH"])  # as in its image
    consumer = subprocess.Popen([command, "consume"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    reana_on_k8s.consumer_log = tmp_path / "consumer.log"
    yield reana_on_k8s
    consumer.terminate()
    consumer.wait(30)
    log.close()


def wait_run_status(db, workflow, statuses, seconds=90):
    """The run (from the database) once its status is one of ``statuses``."""
    from reana_db.enums import RunStatus
    from reana_db.models import Workflow

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.expire_all()
        run = db.get(Workflow, workflow.id_)
        if RunStatus(run.status) in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run still {RunStatus(run.status).name}: {run.logs}")


def jobs_of(db, workflow):
    """The run's job rows, oldest first."""
    from reana_db.models import Job

    db.expire_all()
    return db.query(Job).filter_by(workflow_uuid=workflow.id_).order_by(Job.created).all()


def new_run_row(db, user, name: str, type_: str, spec: dict, files: dict[str, str]):
    """A run row of ``user`` with a workspace holding ``files`` (relative path: text)."""
    from reana_commons.config import get_config
    from reana_db.models import Workflow

    workflow = Workflow(name=name, owner_id=user.id_, type_=type_, run_number_major=1,
                        reana_specification=spec)
    db.add(workflow)
    db.flush()
    path = get_config().shared_volume_path / "users" / str(user.id_) / "workflows" / str(
        workflow.id_)
    path.mkdir(parents=True)
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
    workflow.workspace_path = str(path)
    db.commit()
    return workflow


def yadage_stage(name: str, dependency: str, parameters: dict, process: dict, image: str,
                 resources: list | None = None) -> dict:
    """A single-step yadage stage publishing its ``outputfile`` parameter (``image``: name:tag)."""
    image, _, tag = image.rpartition(":")
    environment = {"environment_type": "docker-encapsulated", "image": image, "imagetag": tag}
    if resources:
        environment["resources"] = resources
    publisher = {"publisher_type": "frompar-pub", "outputmap": {"outputfile": "outputfile"}}
    return {"name": name, "dependencies": [dependency],
            "scheduler": {"scheduler_type": "singlestep-stage", "parameters": parameters,
                          "step": {"process": process, "publisher": publisher,
                                   "environment": environment}}}
