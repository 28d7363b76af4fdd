"""Fixtures of the reana-client tests.

* ``platform``: the whole platform started by ``scripts/up.sh`` (``make up``) on
  free ports in a temporary REANA_HOME; the client talks to it over HTTP exactly
  as from a terminal.
* ``ours``: runs our CLI in-process (click's runner) against the platform.
* ``reference``: runs the real reana-client 0.9.6 (venv under ``.ci/venvs``,
  created once with a file lock) on the same platform, in one process per batch.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reana_testing.pytest_plugin import SHARED_DIR

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_VENV = ROOT / ".ci" / "venvs" / "reana-client-0.9.6"
RUNNER = Path(__file__).with_name("reference_runner.py")
DEMOS = Path(os.environ.get("REANA_DEMOS", str(SHARED_DIR / "demos")))
HELLOWORLD = DEMOS / "reana-demo-helloworld"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reference_python() -> Path | None:
    """The venv's Python if reana-client 0.9.6 is installed in it (checked without importing)."""
    python = REFERENCE_VENV / "bin" / "python"
    installed = list(REFERENCE_VENV.glob("lib/python3*/site-packages/reana_client-0.9.6.dist-info"))
    return python if python.exists() and installed else None


@pytest.fixture(scope="session")
def reference_python():
    """The Python of a venv with reana-client 0.9.6 (created once, shared, file-locked)."""
    REFERENCE_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(REFERENCE_VENV.parent / "reana-client-0.9.6.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = _reference_python()
        if python is None:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(REFERENCE_VENV)], check=True
            )
            install = subprocess.run(
                [
                    str(REFERENCE_VENV / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "reana-client==0.9.6",
                ],
                capture_output=True,
                text=True,
            )
            python = _reference_python()
            if python is None:
                pytest.skip(f"reana-client 0.9.6 could not be installed: {install.stderr[-500:]}")
    return python


@dataclass
class Platform:
    """A live reana-server + workflow controller and one user."""

    url: str
    token: str
    email: str
    env: dict

    extra: dict = field(default_factory=dict)

    def client_env(self, **extra) -> dict:
        """Environment of a client process talking to this platform."""
        env = {"REANA_SERVER_URL": self.url, "REANA_ACCESS_TOKEN": self.token, **self.extra}
        env.update(extra)
        return env


def _spec_env(home: Path) -> dict:
    """Point the client at our generated spec if reana-commons does not ship one yet."""
    from reana_client.api.client import spec_path

    if os.path.exists(spec_path()):
        return {}
    from reana_server.app import create_app
    from reana_server.spec import build_spec

    generated = home / "reana_server.json"
    generated.write_text(json.dumps(build_spec(create_app({"TESTING": True}))))
    return {"REANA_CLIENT_SPEC_FILE": str(generated)}


@dataclass
class Result:
    """What a CLI invocation printed and returned."""

    stdout: str
    stderr: str
    exit_code: int

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke_ours(platform: Platform, *args, cwd=None, env=None) -> Result:
    """Run our CLI in-process (click's runner) against ``platform``."""
    from click.testing import CliRunner
    from reana_client.cli import cli, common

    common._clients.clear()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(
            cli,
            list(args),
            env=platform.client_env(**(env or {})),
            prog_name="reana-client",
            catch_exceptions=False,
        )
    finally:
        os.chdir(old)
    return Result(result.stdout, result.stderr, result.exit_code)


def invoke_reference(python, platform: Platform, commands, cwd=None, env=None) -> list[Result]:
    """Run reana-client 0.9.6 commands in one process against ``platform``."""
    job = {
        "env": {**platform.client_env(**(env or {})), "PYTHONWARNINGS": "ignore"},
        "cwd": str(cwd or os.getcwd()),
        "commands": [list(c) for c in commands],
    }
    proc = subprocess.run(
        [str(python), str(RUNNER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        # the venv's scripts (cwltool, which 0.9.6 runs to pack CWL) on PATH, as when installed
        env={**os.environ, "PATH": f"{python.parent}:{os.environ.get('PATH', '')}"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [Result(**r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]


@pytest.fixture
def ours(platform):
    """``ours(*args, cwd=None, env=None)`` runs our CLI against the platform."""
    return lambda *args, **kw: invoke_ours(platform, *args, **kw)


@pytest.fixture
def reference(platform, reference_python):
    """``reference([[args], ...], cwd=None, env=None)`` runs reana-client 0.9.6 in one process."""
    return lambda commands, **kw: invoke_reference(reference_python, platform, commands, **kw)


@pytest.fixture
def helloworld(tmp_path):
    """A copy of the helloworld demo to run commands in."""
    import shutil

    if not HELLOWORLD.exists():
        pytest.skip(f"helloworld demo not found at {HELLOWORLD}")
    target = tmp_path / "helloworld"
    shutil.copytree(HELLOWORLD, target)
    return target


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    """The whole platform started with ``scripts/up.sh`` (``make up``) on free ports.

    Embedded profile in a temporary REANA_HOME: server, workflow controller,
    scheduler, job-status consumer; runs really execute. Stopped with
    ``scripts/down.sh``. One per test session; tests use their own workflow names.
    """
    home = tmp_path_factory.mktemp("reana-platform")
    env = dict(os.environ)
    for key in [k for k in env if k.startswith(("REANA_", "RABBIT_MQ", "SHARED_VOLUME"))]:
        del env[key]
    env.update(
        REANA_HOME=str(home),
        REANA_SERVER_PORT=str(free_port()),
        REANA_WORKFLOW_CONTROLLER_PORT=str(free_port()),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    up = subprocess.run(
        ["bash", str(ROOT / "scripts" / "up.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        if up.returncode != 0:
            pytest.fail(f"scripts/up.sh failed:\n{up.stdout}\n{up.stderr}")
        values = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (home / "env").read_text().splitlines()
            if "=" in line
        )
        platform = Platform(values["REANA_SERVER_URL"], values["REANA_ACCESS_TOKEN"], "", env)
        platform.extra = _spec_env(home)
        yield platform
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "down.sh")], env=env, capture_output=True, timeout=120
        )
