"""PostgreSQL and RabbitMQ of the benchmark's own, started inside its CPU accounting.

The machine's shared PostgreSQL and RabbitMQ serve every test suite running
at the same time: their CPU cannot be told apart per user. The benchmark
starts a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``, as the
``postgres`` user when run as root) and a RabbitMQ node of its own (own node
name, ports and data directory) on free loopback ports, each in its part of
the control group, so every backend and every Erlang scheduler thread the
platform keeps busy is counted. Both keep their stock settings (``fsync``
and all): what an operator's installation does.

Where that cannot be done (no PostgreSQL or RabbitMQ binaries), the shared
services are used and the figures say so (``services: shared``); their CPU is
then not counted.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench_cpu import CpuAccounting


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, seconds: float, what: str, process: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    tail = log.read_text()[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not open port {port} within {seconds:g} s\n{tail}")


def _as_postgres(join=None):
    """A ``preexec_fn``: join the CPU accounting group, then, as root, become ``postgres``
    (``initdb`` and ``postgres`` refuse to run as root)."""
    import pwd

    account = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def become():
        if join is not None:
            join()
        if account is not None:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)

    return become


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port (trust authentication, loopback only)."""

    def __init__(self, folder: Path, accounting: CpuAccounting):
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.accounting = accounting
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return bool(_pg_bin("initdb") and _pg_bin("postgres"))

    @property
    def admin_uri(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def uri(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], preexec_fn=_as_postgres(),
                       check=True, capture_output=True, timeout=300, cwd=self.folder)
        log = self.folder / "postgres.log"
        with open(log, "wb") as out:
            # The platform's services open a pool each; the test suite's cluster allows 300.
            self.process = subprocess.Popen(
                [_pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
                 "-c", "max_connections=300"],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True,
                preexec_fn=_as_postgres(self.accounting.joiner("platform/postgres")))
        _wait_port(self.port, 120, "PostgreSQL", self.process, log)
        self.accounting.follow("platform/postgres", self.process.pid)

    def create_database(self, name: str) -> str:
        """A new database ``name``; its SQLAlchemy URI."""
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                      dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.uri(name)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: PostgreSQL's smart shutdown
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


class PrivateRabbitMQ:
    """A RabbitMQ node of its own (node name, ports, data) on loopback, guest/guest."""

    SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"

    def __init__(self, folder: Path, accounting: CpuAccounting):
        self.folder = folder
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"reana-bench-{self.port}@localhost"
        self.accounting = accounting
        self.process: subprocess.Popen | None = None

    @classmethod
    def available(cls) -> bool:
        return Path(cls.SERVER).exists() or bool(shutil.which("rabbitmq-server"))

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "enabled_plugins").write_text("[].\n")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(self.folder / "pid"),
        }
        server = self.SERVER if Path(self.SERVER).exists() else shutil.which("rabbitmq-server")
        log = self.folder / "rabbitmq.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [server], env=env, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=self.accounting.joiner("platform/rabbitmq"), start_new_session=True)
        _wait_port(self.port, 180, "RabbitMQ", self.process, log)
        self.accounting.follow("platform/rabbitmq", self.process.pid)

    def stop(self) -> None:
        if self.process is None:
            return
        import psutil

        try:  # the script's Erlang VM is its child: stop the VM, then the script ends
            members = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            members = []
        for member in members:
            if member.name().startswith("beam"):
                member.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            for member in [*members, psutil.Process(self.process.pid)]:
                try:
                    member.kill()
                except psutil.Error:
                    pass
            self.process.wait(10)
        self.process = None


class Services:
    """The database and broker the benchmark's platforms use (private ones where possible)."""

    def __init__(self, folder: Path, accounting: CpuAccounting, private: bool = True):
        self.folder = folder
        self.accounting = accounting
        self.postgres = (PrivatePostgres(folder / "postgres", accounting)
                         if private and PrivatePostgres.available() else None)
        self.rabbitmq = (PrivateRabbitMQ(folder / "rabbitmq", accounting)
                         if private and PrivateRabbitMQ.available() else None)
        self._counter = 0

    def describe(self) -> str:
        postgres = f"private PostgreSQL :{self.postgres.port}" if self.postgres else (
            "shared PostgreSQL (its CPU not counted)")
        rabbitmq = f"private RabbitMQ :{self.rabbitmq.port}" if self.rabbitmq else (
            "shared RabbitMQ (its CPU not counted)")
        return f"{postgres}, {rabbitmq}"

    def start(self) -> None:
        for service in (self.postgres, self.rabbitmq):
            if service is not None:
                service.start()

    def new_database(self) -> str:
        """A fresh database for one platform; its URI."""
        self._counter += 1
        if self.postgres is not None:
            return self.postgres.create_database(f"bench{self._counter}")
        from reana_testing import pytest_plugin as shared

        return shared.create_postgres_database()

    @property
    def broker_url(self) -> str:
        if self.rabbitmq is not None:
            return self.rabbitmq.url
        from reana_testing import pytest_plugin as shared

        return shared.RABBITMQ_URL

    def stop(self) -> None:
        for service in (self.rabbitmq, self.postgres):
            if service is not None:
                try:
                    service.stop()
                except Exception as error:  # noqa: BLE001 - stop the other one too
                    print(f"[bench] could not stop a service: {error}")
