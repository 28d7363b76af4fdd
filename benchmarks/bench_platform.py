"""A whole platform for the benchmarks, started the way `make up` does (scripts/up.sh).

It runs on a fresh PostgreSQL database and RabbitMQ with a queue prefix of its
own, on free ports, with a temporary ``REANA_HOME``; :meth:`Platform.stop`
calls scripts/down.sh, drops the database and deletes the queues. The
benchmark process itself is configured for the same database and broker, so
it can insert rows and publish messages directly.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
SERVICES = ("server", "controller", "scheduler", "consumer", "zygote")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Platform:
    """The supervised services of one ``REANA_HOME`` on PostgreSQL + RabbitMQ."""

    def __init__(self, home: Path, extra_env: dict | None = None):
        from reana_commons import pytest_plugin as services

        if not services._reachable(services.POSTGRES_ADMIN_URI, 5432):
            raise RuntimeError(f"PostgreSQL is not reachable at {services.POSTGRES_ADMIN_URI}")
        if not services._reachable(services.RABBITMQ_URL, 5672):
            raise RuntimeError(f"RabbitMQ is not reachable at {services.RABBITMQ_URL}")
        self.home = home
        self.database = services.create_postgres_database()
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}-"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("REANA_", "RABBIT_MQ"))}
        self.env.update({
            "REANA_HOME": str(home),
            "SHARED_VOLUME_PATH": str(home / "shared"),
            "REANA_SERVER_PORT": str(free_port()),
            "REANA_WORKFLOW_CONTROLLER_PORT": str(free_port()),
            "REANA_SQLALCHEMY_DATABASE_URI": self.database,
            "RABBIT_MQ": services.RABBITMQ_URL,
            "REANA_QUEUE_PREFIX": self.prefix,
            "REANA_SECRET_KEY": secrets.token_hex(32),
            **(extra_env or {}),
        })
        self.url = ""
        self.token = ""

    def configure_this_process(self) -> None:
        """Point this process's reana-commons configuration at the platform's services."""
        from reana_commons.config import reset_config

        for key in ("REANA_HOME", "SHARED_VOLUME_PATH", "REANA_SQLALCHEMY_DATABASE_URI",
                    "RABBIT_MQ", "REANA_QUEUE_PREFIX", "REANA_SECRET_KEY"):
            os.environ[key] = self.env[key]
        reset_config()

    def start(self) -> None:
        """scripts/up.sh; raises with its output when the platform does not come up."""
        result = subprocess.run([str(ROOT / "scripts/up.sh")], env=self.env,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/up.sh failed:\n{result.stdout}\n{result.stderr}")
        values = {}
        for line in (self.home / "env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
        self.url = values["REANA_SERVER_URL"]
        self.token = values["REANA_ACCESS_TOKEN"]

    def stop(self) -> None:
        """scripts/down.sh, then drop the database and the queues (best effort)."""
        from reana_commons import pytest_plugin as services

        subprocess.run([str(ROOT / "scripts/down.sh")], env=self.env, capture_output=True,
                       timeout=180)
        try:
            from reana_commons.messaging import close_shared_connections
            from reana_db.database import reset_engine

            close_shared_connections()
            reset_engine()
        except Exception:  # noqa: BLE001 - only this process's pools
            pass
        for step in (lambda: services.drop_postgres_database(self.database),
                     lambda: services.delete_rabbitmq_queues(self.prefix)):
            try:
                step()
            except Exception:  # noqa: BLE001 - best effort at the end
                pass

    def supervisorctl(self, *args: str) -> str:
        """Run supervisorctl against this platform's supervisord."""
        result = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(self.home / "supervisord.conf"), *args],
            capture_output=True, text=True, timeout=60)
        return result.stdout

    def service_pid(self, name: str) -> int:
        return int(self.supervisorctl("pid", name).strip() or 0)

    def service_processes(self) -> dict[str, list[psutil.Process]]:
        """Each service's main process and its children (gunicorn workers)."""
        out = {}
        for name in SERVICES:
            pid = self.service_pid(name)
            if not pid:
                continue
            main = psutil.Process(pid)
            out[name] = [main, *main.children(recursive=False)]
        return out

    def session(self) -> requests.Session:
        """A keep-alive HTTP session carrying the admin token."""
        session = requests.Session()
        session.params = {"access_token": self.token}
        return session

    def wait_until(self, predicate, seconds: float, what: str, interval: float = 0.05):
        """Poll ``predicate()`` until it returns something truthy."""
        deadline = time.monotonic() + seconds
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {seconds} s waiting for {what}")
            time.sleep(interval)
