"""Shared pytest fixtures for every package of the platform.

The chain is: ``reana_home`` (an isolated ``REANA_HOME``) → ``database_uri`` /
``broker_url`` (SQLite or a fresh PostgreSQL database; the embedded kombu
transport or RabbitMQ with per-test queue names) → ``reana_env`` (the
environment applied and the configuration reloaded) → ``db`` (schema created,
a session) → ``user`` (and ``other_user``).

Real services: PostgreSQL at ``REANA_TEST_POSTGRES`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``) and RabbitMQ at
``REANA_TEST_RABBITMQ`` (default ``amqp://guest:guest@127.0.0.1:5672//``).
When one cannot be reached the tests that need it are skipped with the reason,
unless ``REANA_REQUIRE_SERVICES=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

POSTGRES_ADMIN_URI = os.environ.get(
    "REANA_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_URL = os.environ.get("REANA_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
SHARED_DIR = Path(
    os.environ.get("REANA_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
"""The ``shared/`` folder beside the repository (REANA's reference specs and demos)."""


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+psycopg2", ""))
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), 1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    """Skip (or, in CI, fail) when a real service is not reachable."""
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url}"
    if os.environ.get("REANA_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and REANA_REQUIRE_SERVICES=1")
    pytest.skip(message)


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs a real PostgreSQL server")
    config.addinivalue_line("markers", "rabbitmq: needs a real RabbitMQ server")
    config.addinivalue_line("markers", "slow: an end-to-end test of several seconds")
    config.addinivalue_line("markers", "slurm: needs the real test Slurm (make slurm-up)")
    config.addinivalue_line("markers", "htcondor: needs the HTCondor double (make htcondor-up)")
    config.addinivalue_line("markers", "exclusive: disturbs a service other tests use (restarts "
                            "the broker): make test runs it after the parallel workers, alone")


def pytest_collection_modifyitems(config, items):
    """The platform-wide end-to-end modules (``tests/``) first, then the packages' modules
    with slow tests, then the rest; each module's tests kept together.

    ``make test``'s workers take modules in this order (``--dist loadfile``): the long ones
    start at once and the short ones fill the gaps, instead of a long module starting last.
    """
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    end_to_end = config.rootpath / "tests"

    def rank(item) -> tuple[bool, bool]:
        return item.path.parent != end_to_end, item.path not in slow_modules

    items.sort(key=rank)  # stable: the order within a module (and among equals) is kept


_released_databases: list[str] = []
"""Databases of this test session emptied for reuse (dropped when the session ends)."""


def create_postgres_database() -> str:
    """A fresh, uniquely named, empty database; returns its SQLAlchemy URI.

    Inside a test session, one that an earlier test released (emptied) when there is one:
    creating and dropping a database each take a checkpoint-bound second or more.
    """
    import sqlalchemy as sa

    require_service("PostgreSQL", POSTGRES_ADMIN_URI, 5432)
    if _released_databases:
        return _released_databases.pop()
    name = f"reana_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URI.rsplit("/", 1)[0] + "/" + name


def release_postgres_database(uri: str) -> None:
    """Give a test's database back: its connections ended, everything in it removed (the
    ``public`` schema dropped and made again, as in a new database), then reused by
    :func:`create_postgres_database` in this session and dropped at its end."""
    import sqlalchemy as sa

    name = uri.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    admin.dispose()
    engine = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
            conn.execute(sa.text("GRANT ALL ON SCHEMA public TO public"))
    except sa.exc.OperationalError:  # a straggler reconnected: not reusable
        drop_postgres_database(uri)
        return
    finally:
        engine.dispose()
    _released_databases.append(uri)


def drop_postgres_database(uri: str) -> None:
    import sqlalchemy as sa

    name = uri.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_sessionfinish(session, exitstatus):
    """Drop the databases released for reuse."""
    while _released_databases:
        drop_postgres_database(_released_databases.pop())


def delete_rabbitmq_queues(prefix: str, bases=("workflow-submission", "jobs-status")) -> None:
    """Remove the per-test queues from RabbitMQ."""
    from kombu import Connection

    with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
        channel = conn.channel()
        for base in bases:
            try:
                channel.queue_delete(prefix + base)
            except Exception:  # noqa: BLE001 - the queue may never have been declared
                channel = conn.channel()


DEPLOYMENT_PROFILES = pytest.mark.parametrize(("database_uri", "broker"), [
    pytest.param("sqlite", "embedded", id="embedded"),
    pytest.param("postgresql", "rabbitmq", id="services",
                 marks=[pytest.mark.postgres, pytest.mark.rabbitmq]),
], indirect=True)
"""For tests that use both the database and the broker: the two deployment profiles
(embedded: SQLite + the embedded broker; services: PostgreSQL + RabbitMQ) instead of the
four crossings, as nothing couples one database to one broker and each is tested on both."""


@pytest.fixture
def reana_home(tmp_path):
    """An empty REANA_HOME for one test."""
    home = tmp_path / "reana-home"
    home.mkdir()
    return home


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_uri(request, reana_home):
    """Each test using this runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{reana_home / 'reana.db'}"
        return
    uri = create_postgres_database()
    yield uri
    from reana_db.database import reset_engine

    reset_engine()
    release_postgres_database(uri)


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request, reana_home):
    """``(broker_url, queue_prefix)``: the embedded transport and RabbitMQ."""
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    if request.param == "embedded":
        yield f"sqla+sqlite:///{reana_home / 'broker.db'}", prefix
        return
    require_service("RabbitMQ", RABBITMQ_URL, 5672)
    yield RABBITMQ_URL, prefix
    delete_rabbitmq_queues(prefix)


def apply_env(monkeypatch, values: dict) -> None:
    """Set environment variables and reload the configuration and the engine."""
    from reana_commons.config import reset_config

    for key, value in values.items():
        monkeypatch.setenv(key, str(value))
    reset_config()
    try:
        from reana_db.database import reset_engine
    except ImportError:  # reana-db not installed: a commons-only test run
        return
    reset_engine()


@pytest.fixture
def reana_env(monkeypatch, reana_home, database_uri):
    """The environment of one isolated platform (database parametrized)."""
    values = {
        "REANA_HOME": str(reana_home),
        "REANA_SQLALCHEMY_DATABASE_URI": database_uri,
        "SHARED_VOLUME_PATH": str(reana_home / "shared"),
        "REANA_SECRET_KEY": "test-secret-key",
        "REANA_QUEUE_PREFIX": f"test-{uuid.uuid4().hex[:8]}-",
    }
    apply_env(monkeypatch, values)
    yield values
    from reana_commons.config import reset_config

    reset_config()
    try:
        from reana_db.database import reset_engine

        reset_engine()
    except ImportError:
        pass


@pytest.fixture
def db(reana_env):
    """A session on a database with the schema at head."""
    from reana_db.database import get_engine, new_session
    from reana_db.models import Base

    Base.metadata.create_all(get_engine())
    session = new_session()
    yield session
    session.close()


def make_user(session, email: str, full_name: str | None = None):
    """A new user with an active access token (``.test_token`` holds its value), committed."""
    from reana_db.users import create_user

    created, token = create_user(session, email,
                                 full_name=full_name or email.split("@")[0].title())
    session.commit()
    created.test_token = token
    return created


@pytest.fixture
def user(db):
    """A user with an active access token (``user.test_token`` holds its value)."""
    return make_user(db, "jane@example.org", "Jane Doe")


@pytest.fixture
def other_user(db):
    """A second user, to check that nobody sees another's runs, files or secrets."""
    return make_user(db, "john@example.org", "John Doe")
