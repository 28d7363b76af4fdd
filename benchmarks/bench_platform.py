"""A whole platform for the benchmarks, started the way `make up` does (scripts/up.sh).

It runs with a temporary ``REANA_HOME`` on free ports, on a fresh database of
the benchmark's PostgreSQL and on its RabbitMQ (:mod:`bench_services`; a queue
prefix of its own), or on the embedded profile (SQLite, the broker-less
transport). scripts/up.sh starts inside the benchmark's CPU accounting
(:mod:`bench_cpu`); once up, each service's processes are counted in a part of
their own (``server``, ``controller``, ``scheduler``, ``consumer``, and
``runs``: the zygote with the engines, job controllers and jobs it forks). The
benchmark process itself is configured for the same database and broker, so it
can insert rows and publish messages directly. :meth:`Platform.stop` calls
scripts/down.sh.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import requests
from bench_cpu import CpuAccounting, Window
from bench_services import Services, free_port

ADMIN_EMAIL = "admin@reana.local"
"""The admin scripts/up.sh creates (REANA_ADMIN_EMAIL's default): the benchmarks' user."""

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
SERVICES = ("server", "controller", "scheduler", "consumer", "zygote")
PART = {"zygote": "runs"}
"""The accounting part of a service where it is not the service's name."""


class Platform:
    """The supervised services of one ``REANA_HOME``."""

    def __init__(self, home: Path, accounting: CpuAccounting, services: Services | None,
                 extra_env: dict | None = None):
        self.home = home
        self.accounting = accounting
        self.services = services
        self.profile = "postgresql+rabbitmq" if services else "embedded"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("REANA_", "RABBIT_MQ"))}
        self.env.update({
            "REANA_HOME": str(home),
            "SHARED_VOLUME_PATH": str(home / "shared"),
            "REANA_SERVER_PORT": str(free_port()),
            "REANA_WORKFLOW_CONTROLLER_PORT": str(free_port()),
            "REANA_SECRET_KEY": secrets.token_hex(32),
            # The benchmarks' user (the admin) sends hundreds of requests a second and queues
            # hundreds of runs: its own limits are set above that (README, "Per-user rate
            # limits"); the limiter still counts every request, so its cost is measured.
            "REANA_RATELIMIT_USERS": json.dumps({ADMIN_EMAIL: "100000 per second"}),
            "REANA_MAX_QUEUED_WORKFLOWS_PER_USER": "100000",
            **(extra_env or {}),
        })
        if services is not None:
            self.env.update({
                "REANA_SQLALCHEMY_DATABASE_URI": services.new_database(),
                "RABBIT_MQ": services.broker_url,
                "REANA_QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}-",
            })
        self.url = ""
        self.token = ""

    def configure_this_process(self) -> None:
        """Point this process's reana-commons configuration at the platform's services."""
        from reana_commons.config import reset_config
        from reana_commons.messaging import close_shared_connections
        from reana_db.database import reset_engine

        for key in ("REANA_HOME", "SHARED_VOLUME_PATH", "REANA_SQLALCHEMY_DATABASE_URI",
                    "RABBIT_MQ", "REANA_QUEUE_PREFIX", "REANA_SECRET_KEY"):
            if key in self.env:
                os.environ[key] = self.env[key]
            else:
                os.environ.pop(key, None)
        close_shared_connections()
        reset_engine()
        reset_config()

    def start(self) -> None:
        """scripts/up.sh inside the accounting; raises with its output when it fails."""
        result = subprocess.run([str(ROOT / "scripts/up.sh")], env=self.env,
                                capture_output=True, text=True, timeout=300,
                                preexec_fn=self.accounting.joiner("platform/supervisor"))
        if result.returncode != 0:
            raise RuntimeError(f"scripts/up.sh failed:\n{result.stdout}\n{result.stderr}")
        values = {}
        for line in (self.home / "env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
        self.url = values["REANA_SERVER_URL"]
        self.token = values["REANA_ACCESS_TOKEN"]
        self.wait_ready()
        supervisord = int((self.home / "supervisord.pid").read_text())
        self.accounting.follow("platform/supervisor", supervisord)
        for name in SERVICES:
            self.follow(name)

    def follow(self, service: str) -> None:
        """Count ``service``'s processes (again, after it was restarted) in its part."""
        pid = self.service_pid(service)
        if pid:
            self.accounting.follow(f"platform/{PART.get(service, service)}", pid)

    def wait_ready(self) -> None:
        """The public API answers and the workflow controller's API too."""
        controller = f"http://127.0.0.1:{self.env['REANA_WORKFLOW_CONTROLLER_PORT']}/healthz"

        def ready() -> bool:
            try:
                return requests.get(controller, timeout=5).status_code == 200
            except requests.RequestException:
                return False

        self.wait_until(ready, 120, "the workflow controller", 0.2)

    def stop(self) -> None:
        """scripts/down.sh; on shared services, its database and queues are removed too."""
        subprocess.run([str(ROOT / "scripts/down.sh")], env=self.env, capture_output=True,
                       timeout=180)
        try:
            from reana_commons.messaging import close_shared_connections
            from reana_db.database import reset_engine

            close_shared_connections()
            reset_engine()
        except Exception:  # noqa: BLE001 - only this process's pools
            pass
        if self.services is not None and self.services.postgres is None:
            from reana_testing import pytest_plugin as shared

            database, prefix = (self.env["REANA_SQLALCHEMY_DATABASE_URI"],
                                self.env["REANA_QUEUE_PREFIX"])
            for step in (lambda: shared.drop_postgres_database(database),
                         lambda: shared.delete_rabbitmq_queues(prefix)):
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

    def restart_service(self, action: str, service: str) -> None:
        """``supervisorctl start|stop service``; a started one is counted in its part again."""
        self.supervisorctl(action, service)
        if action == "start":
            self.follow(service)

    def service_pid(self, name: str) -> int:
        try:
            return int(self.supervisorctl("pid", name).strip() or 0)
        except ValueError:
            return 0

    def window(self) -> Window:
        """A CPU window over every part of the platform (and the benchmark's side)."""
        return Window(self.accounting)

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


def cpu_ms(window: dict, operations: int) -> dict:
    """CPU milliseconds per operation of a closed window: ``total`` and by part."""
    per = {part: round(value * 1000 / operations, 3)
           for part, value in sorted(window["parts_s"].items()) if value > 0}
    return {"total": round(window["platform_s"] * 1000 / operations, 3), **per}
