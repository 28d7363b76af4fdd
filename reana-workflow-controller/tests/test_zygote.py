"""The zygote reaches the job controller only through its public seam."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reana_workflow_controller.run_managers import zygote

JOB_CONTROLLER = re.compile(r"^reana_job_controller(\.|$)")


def job_controller_uses(source: str) -> list[str]:
    """Every way ``source`` reaches into reana_job_controller other than ``preload``:
    imports of its modules or names, and module names given as strings (importlib)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if JOB_CONTROLLER.match(a.name)]
        elif isinstance(node, ast.ImportFrom) and JOB_CONTROLLER.match(node.module or ""):
            names = [a.name for a in node.names]
            if node.module != "reana_job_controller" or names != ["preload"]:
                found.append(f"from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and JOB_CONTROLLER.match(node.value):
            found.append(repr(node.value))
    return found


def test_the_check_sees_internals():
    assert job_controller_uses("from reana_job_controller.app import prepare") != []
    assert job_controller_uses("import reana_job_controller.store") != []
    assert job_controller_uses("from reana_job_controller import preload, store") != []
    assert job_controller_uses("M = ('reana_job_controller.cli',)") != []
    assert job_controller_uses("from reana_job_controller import preload") == []


def test_the_zygote_imports_only_the_job_controller_s_preload():
    source = Path(zygote.__file__).read_text()
    assert job_controller_uses(source) == []
    assert "from reana_job_controller import preload" in source


CALLS_PRELOAD = """
import reana_job_controller

calls = []
reana_job_controller.preload = lambda: calls.append("preload")
from reana_workflow_controller.run_managers import zygote

zygote.preload()
assert calls == ["preload"], calls
"""


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_the_zygote_s_preload_calls_the_job_controller_s(reana_env):
    done = subprocess.run([sys.executable, "-c", CALLS_PRELOAD], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr


def _fork(address: str, request: dict) -> dict:
    import json
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60)
        sock.connect(address)
        sock.sendall(json.dumps(request).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


def test_the_zygote_reaps_its_children_and_counts_their_cpu(tmp_path):
    """Children that exit are reaped (no zombies) and their CPU reaches the zygote's children
    times, which process accounting reads (ignoring SIGCHLD would drop it)."""
    import os
    import time

    import psutil
    from reana_workflow_controller.run_managers.spawner import zygote_address

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REANA_", "RABBIT_MQ"))}
    env.update(REANA_HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    log = open(tmp_path / "zygote.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", zygote.__name__], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        address = zygote_address(tmp_path)
        deadline = time.monotonic() + 180
        while b"zygote listening" not in (tmp_path / "zygote.log").read_bytes():
            assert process.poll() is None, (tmp_path / "zygote.log").read_text()
            assert time.monotonic() < deadline, "the zygote did not start"
            time.sleep(0.1)
        exits = []
        for index in range(8):
            exit_file = tmp_path / f"child-{index}.exit"
            answer = _fork(address, {"argv": ["reana-job-controller", "--help"], "env": env,
                                     "log": str(tmp_path / f"child-{index}.log"),
                                     "cwd": str(tmp_path), "exit_file": str(exit_file)})
            assert answer["pid"] > 0
            exits.append(exit_file)
        zygote_process = psutil.Process(process.pid)
        deadline = time.monotonic() + 120
        while not (all(f.exists() for f in exits) and not zygote_process.children()):
            assert time.monotonic() < deadline, [c.status() for c in zygote_process.children()]
            time.sleep(0.05)
        assert [f.read_text().strip() for f in exits] == ["0"] * len(exits)
        times = zygote_process.cpu_times()
        assert times.children_user + times.children_system > 0
    finally:
        process.terminate()
        process.wait(30)
        log.close()


CALLS_ENGINE_PRELOAD = """
import sys, types
from reana_workflow_controller.run_managers import zygote

calls = []
engine = types.ModuleType("fake_engine")
engine.preload = lambda: calls.append("engine")
sys.modules["fake_engine"] = engine
broken = types.ModuleType("broken_engine")
broken.preload = lambda: 1 / 0
sys.modules["broken_engine"] = broken
zygote.engine_modules = lambda: {"broken": "broken_engine", "fake": "fake_engine",
                                 "missing": "no_such_engine_module"}
zygote.preload()
assert calls == ["engine"], calls
"""


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_the_zygote_calls_each_engine_module_s_preload_once(reana_env):
    """An engine warms what every run would load again (the CWL engine: cwltool's schemas);
    an engine that fails to load or warm up is skipped (it fails in its own child)."""
    done = subprocess.run([sys.executable, "-c", CALLS_ENGINE_PRELOAD], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
