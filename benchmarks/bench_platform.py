"""A whole platform for the benchmarks, started the way `make up` does (scripts/up.sh).

It runs on a fresh PostgreSQL database and RabbitMQ with a queue prefix of its
own, on free ports, with a temporary ``REANA_HOME``; :meth:`Platform.stop`
calls scripts/down.sh, drops the database and deletes the queues. The
benchmark process itself is configured for the same database and broker, so
it can insert rows and publish messages directly.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import requests

ADMIN_EMAIL = "admin@reana.local"
"""The admin scripts/up.sh creates (REANA_ADMIN_EMAIL's default): the benchmarks' user."""

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
        from reana_testing import pytest_plugin as services

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
            # The benchmarks' user (the admin) sends hundreds of requests a second and queues
            # hundreds of runs: its own limits are set above that (README, "Per-user rate
            # limits"); the limiter still counts every request, so its cost is measured.
            "REANA_RATELIMIT_USERS": json.dumps({ADMIN_EMAIL: "100000 per second"}),
            "REANA_MAX_QUEUED_WORKFLOWS_PER_USER": "100000",
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
        from reana_testing import pytest_plugin as services

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


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


class CpuMeter:
    """CPU seconds spent by each service (and this database's PostgreSQL backends) in a step.

    On a shared machine wall-clock numbers move with everyone else's load; the
    CPU cost per operation does not, so each step reports it next to its rate.
    """

    def __init__(self, platform: Platform):
        self.platform = platform
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, processes in self.platform.service_processes().items():
            if name == "zygote":
                processes = processes[:1]
            totals[name] = sum(_cpu_seconds(p) for p in processes)
        for backend in self._postgres_backends():
            totals[f"pg:{backend.pid}"] = _cpu_seconds(backend)
        return totals

    def _postgres_backends(self) -> list[psutil.Process]:
        from reana_db.database import new_session
        from sqlalchemy import text

        with new_session() as session:
            pids = session.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalars().all()
        found = []
        for pid in pids:
            try:
                found.append(psutil.Process(pid))
            except psutil.Error:
                continue
        return found

    def per_operation_ms(self, operations: int) -> dict[str, float]:
        """CPU milliseconds per operation since construction, by service (non-zero only)."""
        after = self.snapshot()
        spent: dict[str, float] = {}
        for name, value in after.items():
            key = "postgres" if name.startswith("pg:") else name
            spent[key] = spent.get(key, 0.0) + max(value - self.before.get(name, 0.0), 0.0)
        return {name: round(value * 1000 / operations, 3) for name, value in spent.items()
                if value > 0}
