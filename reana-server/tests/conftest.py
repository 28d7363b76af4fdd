"""Fixtures of the reana-server tests: app → client → user → workflow.

Every response the test client receives is checked against REANA 0.9's own
``reana_server.json`` (the spec reana-client 0.9.6 validates against): the
status code must be declared for the operation and a JSON body must match its
schema. A violation fails the test that received it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from reana_testing.examples import HELLOWORLD_SPEC
from reana_testing.pytest_plugin import SHARED_DIR, make_user

REFERENCE = Path(os.environ.get("REANA_REFERENCE", str(SHARED_DIR / "reference" / "reana-0.9")))
REANA_SPEC_PATH = REFERENCE / "spec" / "reana_server.json"
HELLOWORLD_DEMO = Path(os.environ.get("REANA_DEMOS", str(SHARED_DIR / "demos"))) / (
    "reana-demo-helloworld"
)

# Modules whose logic does not depend on the database engine run on SQLite only
# (the suite's time budget); the PostgreSQL variants are skipped with this reason.
SQLITE_ONLY_MODULES = {
    "test_sessions.py",
    "test_workspace.py",
    "test_isolation.py",
    "test_secrets_launch.py",
    "test_launch_guard.py",
    "test_cli.py",
    "test_spec.py",
    "test_reana_client.py",
    "test_schemathesis.py",
    "test_trust_inputs.py",
    "test_wes.py",
    "test_wes_schemathesis.py",
    "test_web_ui.py",
}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="engine-independent: covered on SQLite")
    for item in items:
        if item.path.parent == here and item.path.name in SQLITE_ONLY_MODULES:
            # A module may still run some of its tests on both (``BOTH_DATABASES``).
            both = getattr(item.module, "BOTH_DATABASES", ())
            if "[postgresql" in item.nodeid and item.originalname not in both:
                item.add_marker(skip)


# Answers REANA itself gives on any operation without declaring them: webargs' 400s and
# the authentication decorator's 401/403 (SURFACE.md §0).
UNDECLARED_BUT_REANA = {400}
AUTH_ANSWERS = {
    (401, "User not signed in"),
    (403, "Token not valid."),
    (403, "User access token revoked."),
}


class ReanaSpecValidator:
    """Checks responses against REANA's published server spec."""

    def __init__(self, path: Path):
        from bravado_core.spec import Spec

        self.raw = json.loads(path.read_text())
        self.spec = Spec.from_dict(
            self.raw, config={"validate_responses": True, "use_models": False}
        )
        self.routes = []
        for template, operations in self.raw["paths"].items():
            pattern = re.sub(
                r"\{(\w+)\}",
                lambda m: ".+" if m.group(1) == "file_name" else "[^/]+",
                template,
            )
            literal = len(re.sub(r"\{\w+\}", "", template))
            regex = re.compile(f"^{pattern}$", re.DOTALL)  # file names may hold newlines
            self.routes.append((literal, regex, template, operations))
        self.routes.sort(key=lambda r: -r[0])

    def operation(self, method: str, path: str):
        # REANA serves /api/secrets and /api/secrets/ (and close with or without "/") alike.
        variants = (path, path.rstrip("/"), path.rstrip("/") + "/")
        for candidate in variants:
            for _, regex, template, operations in self.routes:
                if regex.match(candidate) and method.lower() in operations:
                    return template, operations[method.lower()]
        return None, None

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes):
        """Raise ``AssertionError`` describing any violation."""
        from bravado_core.validate import validate_schema_object

        template, op = self.operation(method, path)
        if op is None:
            if path in OUR_PAGES or status in (404, 405) or _extension(method, path):
                return
            raise AssertionError(f"{method} {path}: not an operation of REANA's spec")
        responses = op["responses"]
        if str(status) not in responses:
            if status in UNDECLARED_BUT_REANA or _auth_answer(status, content_type, body):
                return
            raise AssertionError(
                f"{method} {template}: status {status} not declared ({sorted(responses)}): "
                f"{body[:300]!r}"
            )
        schema = responses[str(status)].get("schema")
        if not content_type.startswith("application/json"):
            if schema is not None and schema.get("type") != "file" and status != 302:
                raise AssertionError(f"{method} {template}: {status} is not JSON ({content_type})")
            return
        if schema is None:
            return
        value = json.loads(body)
        try:
            validate_schema_object(self.spec, schema, value)
        except Exception as error:  # noqa: BLE001 - report any validation failure
            raise AssertionError(
                f"{method} {template} {status}: response breaks REANA's spec: {error}\n"
                f"{json.dumps(value)[:500]}"
            ) from error


# Our specification and its page (outside every spec).
OUR_PAGES = ("/api/apispec", "/api/swagger.json", "/api/docs")
# Our operations REANA 0.9 does not have (checked against our own spec by schemathesis).
EXTENSIONS = {("GET", re.compile(r"^/api/workflows/[^/]+/logs/[^/]+$")),
              ("GET", re.compile(r"^/metrics$")),
              ("GET", re.compile(r"^/api/workflows/[^/]+/(provenance|ro-crate)$")),
              # REANA 0.95's sharing (checked against our own spec by schemathesis)
              ("POST", re.compile(r"^/api/workflows/[^/]+/(share|unshare)$")),
              ("GET", re.compile(r"^/api/workflows/[^/]+/share-status$")),
              ("GET", re.compile(r"^/api/users/(shared-with-you|you-shared-with)$")),
              # an interactive session's Jupyter server, at its run's path
              *((method, re.compile(r"^/[0-9a-fA-F-]{36}(/.*)?$"))
                for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")),
              # GA4GH WES: checked against the GA4GH spec (test_wes.py, test_wes_schemathesis.py)
              ("GET", re.compile(r"^/ga4gh/wes/v1/")), ("POST", re.compile(r"^/ga4gh/wes/v1/")),
              # the web UI: its pages and assets, sign-in, a run's graph and live events
              ("GET", re.compile(
                  r"^/(signin|signup|profile|status|launch|details/.+|ui/static/.+)?$")),
              ("POST", re.compile(r"^/api/(login|register|logout)$")),
              ("GET", re.compile(r"^/api/workflows/[^/]+/(graph|events)$"))}


def _extension(method: str, path: str) -> bool:
    return any(method == m and regex.match(path) for m, regex in EXTENSIONS)


def _auth_answer(status: int, content_type: str, body: bytes) -> bool:
    if not content_type.startswith("application/json"):
        return False
    value = json.loads(body)
    return isinstance(value, dict) and (status, value.get("message")) in AUTH_ANSWERS


@pytest.fixture(scope="session")
def reana_spec_validator():
    """REANA's server spec as a response validator (skips when the reference is absent)."""
    if not REANA_SPEC_PATH.exists():
        pytest.skip(f"REANA's reference spec is not at {REANA_SPEC_PATH}")
    return ReanaSpecValidator(REANA_SPEC_PATH)


class ValidatingClient(FlaskClient):
    """A test client that checks every response against REANA's spec."""

    validator: ReanaSpecValidator | None = None

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if self.validator is not None and kwargs.get("buffered") is not False:
            request = response.request
            data = response.get_data()
            self.validator.check(
                request.method,
                request.path,
                response.status_code,
                response.content_type or "",
                data,
            )
        return response


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """A WSGI app served by werkzeug in a background thread (quiet request log)."""

    def __init__(self, app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def server_env(db, tmp_path, monkeypatch):
    """The platform environment of one test (database from the shared chain)."""
    from reana_commons.config import reset_config

    monkeypatch.setenv("REANA_EXTRA_CONFIG", json.dumps({"launch_allow_file_urls": True}))
    # The test client outpaces any user: rate limits are tested on their own (test_rate_limits).
    monkeypatch.setenv("REANA_RATELIMIT_ENABLED", "false")
    reset_config()
    yield db
    try:
        from reana_commons.messaging import close_shared_connections

        close_shared_connections()
    except ImportError:
        pass


@pytest.fixture
def controller_url(server_env):
    """The workflow controller's internal API, live on a free port."""
    from reana_workflow_controller.app import create_app as create_controller

    with ServerThread(create_controller({"TESTING": True})) as server:
        yield server.url
    from reana_workflow_controller.session_managers.local import stop_recorded_sessions

    stop_recorded_sessions()  # a test that opened a session and did not close it


@pytest.fixture
def app(server_env, controller_url):
    """The public API app, talking to the live workflow controller."""
    from reana_server.app import create_app

    return create_app({"TESTING": True, "WORKFLOW_CONTROLLER_URL": controller_url})


@pytest.fixture
def client(app, reana_spec_validator):
    """A test client whose every response is validated against REANA's spec."""
    app.test_client_class = ValidatingClient
    test_client = app.test_client()
    test_client.validator = reana_spec_validator
    return test_client


@pytest.fixture
def server_thread():
    """The :class:`ServerThread` class (test modules cannot import conftest)."""
    return ServerThread


@pytest.fixture
def live_server(app):
    """The public API served on a free port (URL)."""
    with ServerThread(app) as server:
        yield server.url


@pytest.fixture
def other_user(server_env):
    """A second user, to prove isolation."""
    return make_user(server_env, "mallory@example.org")


@pytest.fixture
def auth(user):
    """Query string with the user's token."""
    return {"access_token": user.test_token}


@pytest.fixture
def create_workflow(client, user):
    """``create_workflow(name="helloworld", spec=None, token=None)`` → the 201 body."""

    def create(name="helloworld", spec=None, token=None):
        response = client.post(
            "/api/workflows",
            query_string={"workflow_name": name, "access_token": token or user.test_token},
            json=spec or HELLOWORLD_SPEC,
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def helloworld_spec():
    """A copy of the helloworld demo's specification."""
    return json.loads(json.dumps(HELLOWORLD_SPEC))


@pytest.fixture
def workflow(create_workflow):
    """A created helloworld run of ``user`` (``helloworld.1``)."""
    return create_workflow()


@pytest.fixture
def upload(client, user):
    """``upload(workflow_name, file_name, data, token=None)``, REANA client style."""

    def send(workflow_name, file_name, data: bytes, token=None):
        return client.post(
            f"/api/workflows/{workflow_name}/workspace",
            query_string={"file_name": file_name, "access_token": token or user.test_token},
            data=data,
            content_type="application/octet-stream",
        )

    return send
