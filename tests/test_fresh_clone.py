"""A fresh clone, as a newcomer gets it: `make test` installs first, and an install that did
not finish leaves no venv that `make test`, `make demo` or `make up` trust (issue 14).

The full install is what CI does before every run (minutes); here pip is cut off from every
package index, so the clone's install fails within seconds, after it created `.venv`: exactly the
half-made venv that used to be trusted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _offline_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REANA_", "PIP_", "VIRTUAL_ENV", "MAKE"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS="",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
               PY=getattr(sys, "_base_executable", sys.executable))
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("fresh") / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
    return target


def _make(clone: Path, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(clone), *args], env=_offline_env(),
                          capture_output=True, text=True, timeout=timeout)


def test_make_test_on_a_fresh_clone_installs_first(clone):
    planned = _make(clone, "-n", "test").stdout
    assert "-m venv .venv" in planned and "touch .venv/.reana-installed" in planned, planned
    assert planned.index("pip install") < planned.index(".venv/bin/pytest"), planned


def test_an_unfinished_install_leaves_no_trusted_venv(clone):
    began = time.monotonic()
    result = _make(clone, "test", f"PY={_offline_env()['PY']}")
    assert result.returncode != 0, result.stdout
    assert time.monotonic() - began < 240
    output = result.stdout + result.stderr
    assert "-m venv .venv" in output and "pip install" in output
    assert "pytest: No such file or directory" not in output
    assert (clone / ".venv" / "bin" / "python").exists()  # half made...
    assert not (clone / ".venv" / ".reana-installed").exists()  # ...and not trusted:
    assert "pip install" in _make(clone, "-n", "test").stdout  # make test installs again,
    assert "pip install" in _make(clone, "-n", "lint").stdout
    demo = (clone / "scripts" / "demo.sh").read_text()  # so does make demo,
    assert "[ -f .venv/.reana-installed ] || make install" in demo
    up = subprocess.run([str(clone / "scripts" / "up.sh")], env=_offline_env(),  # make up refuses
                        capture_output=True, text=True, timeout=60)
    assert up.returncode != 0 and "run 'make install' first" in up.stderr


def test_a_finished_install_is_trusted(clone):
    (clone / ".venv" / ".reana-installed").touch()
    planned = _make(clone, "-n", "test").stdout
    assert "pip install" not in planned and "pytest" in planned
